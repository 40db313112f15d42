/*
 * The sandbox owner's control socket <root>/<id>/control.sock: one request
 * per connection, one JSON object on one line each way (at most
 * CONTROL_MAX_LINE bytes):
 *   {"op":"start"}                          -> {"ok":true}
 *   {"op":"kill","signal":N,"all":B}        -> {"ok":true}
 *   failure                                 -> {"ok":false,"error":"..."}
 */
#ifndef HUSK_CONTROL_H
#define HUSK_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

#define CONTROL_MAX_LINE 4096

struct control_request {
	char op[16];
	int signal;
	bool all;
};

/* Sends req to the owner of root/id and waits up to timeout_ms for the answer. */
int control_call(const char *root, const char *id, const struct control_request *req,
                 int timeout_ms, husk_err *err);
/* Decodes one request line (untrusted: any local client may connect). */
int control_parse(const char *line, size_t len, struct control_request *req, husk_err *err);
/* Encodes the reply to error (NULL: success) as a '\n'-terminated line into buf. */
size_t control_reply(husk_err error, char *buf, size_t len);

#endif
