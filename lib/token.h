/*
 * The per-sandbox token that lets a host process talk to its guest's agent: 32
 * random bytes, written as 64 lowercase hex digits. Every connection to the
 * agent (or its debug console) starts with the preamble "HUSK-TOKEN <hex>\n";
 * the agent serves only connections whose preamble carries its token.
 */
#ifndef HUSK_TOKEN_H
#define HUSK_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define TOKEN_BYTES        32
#define TOKEN_HEX_LEN      (2 * TOKEN_BYTES)
#define TOKEN_PREFIX       "HUSK-TOKEN "
#define TOKEN_PREAMBLE_LEN (sizeof(TOKEN_PREFIX) - 1 + TOKEN_HEX_LEN + 1)

/* Where the host puts the token for its guest: this name in the virtio-fs share's root. */
#define TOKEN_SHARE_NAME ".husk-token"

struct token {
	char hex[TOKEN_HEX_LEN + 1];
};

int token_generate(struct token *t, husk_err *err);
/* text is the 64 hex digits, optionally followed by '\n'; -1 for anything else. */
int token_parse(const char *text, size_t len, struct token *t);
/* Reads a token file (at most the token and a newline) at dirfd/name; -1 with *err. */
int token_read_at(int dirfd, const char *name, struct token *t, husk_err *err);
/* Writes t's hex to a new file dirfd/name, mode 0600. */
int token_write_at(int dirfd, const char *name, const struct token *t, husk_err *err);
/* The preamble for t: TOKEN_PREAMBLE_LEN bytes, no NUL. */
void token_preamble(const struct token *t, char out[TOKEN_PREAMBLE_LEN]);
/* Whether buf (TOKEN_PREAMBLE_LEN bytes) is t's preamble; takes the same time either way. */
bool token_preamble_matches(const struct token *t, const char *buf);

#endif
