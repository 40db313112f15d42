/*
 * The gate in front of a ttrpc server: an accepted connection is served only
 * once its first bytes are the sandbox's token preamble (lib/token.h); a wrong
 * one is closed, and so is one that has not shown it within AUTH_WAIT_MS. At most
 * AUTH_PENDING connections wait to be checked; a new one beyond that pushes out
 * the oldest, so silent connections cannot stall the gate.
 */
#ifndef HUSK_AGENT_AUTH_H
#define HUSK_AGENT_AUTH_H

#include "lib/error.h"
#include "lib/loop.h"
#include "lib/token.h"
#include "ttrpc/ttrpc.h"

#define AUTH_PENDING 8
#define AUTH_WAIT_MS 5000

struct auth_gate;

/* token NULL: no check (the --listen-unix test mode without --token-file). */
struct auth_gate *auth_gate_new(struct husk_loop *loop, const struct token *token,
                                struct ttrpc_server *srv, husk_err *err);
/* Takes fd (an accepted, non-blocking connection). */
void auth_gate_admit(struct auth_gate *g, int fd);
void auth_gate_free(struct auth_gate *g);

#endif
