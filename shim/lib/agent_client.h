/*
 * Typed client for the guest agent (proto/agent.proto) over one ttrpc
 * connection. Every call is logged at debug level with its name, duration and
 * response size. Responses come from the guest: callers validate their fields.
 */
#ifndef HUSK_AGENT_CLIENT_H
#define HUSK_AGENT_CLIENT_H

#include <protobuf-c/protobuf-c.h>

#include "proto/agent.pb-c.h"
#include "lib/error.h"
#include "lib/loop.h"
#include "lib/token.h"

#define AGENT_SERVICE "husk.agent.v1.Agent"
#define AGENT_PORT    1024
/* The debug console (when the sandbox has it): the execs of the guest's own view. */
#define DEBUG_CONSOLE_PORT 1025
#define DEBUG_CONSOLE_ID   "guest" /* its container, as the agent names it */

struct agent_client;

/*
 * Takes ownership of fd (a connected stream to the agent) and sends token's
 * preamble (lib/token.h) first; token NULL sends none (an agent without one).
 */
struct agent_client *agent_client_new(struct husk_loop *loop, int fd, const struct token *token,
                                      husk_err *err);
/* Pending callbacks are dropped without running. */
void agent_client_free(struct agent_client *a);
int agent_client_alive(struct agent_client *a);

/*
 * Runs once with the unpacked response (freed when cb returns), or with
 * resp NULL and error set ("Method: message", code an errno).
 */
typedef void (*agent_client_cb)(ProtobufCMessage *resp, husk_err error, void *data);

/*
 * Every call has a host-side deadline: timeout_ms > 0, or 0 for the client's
 * default (agent_client_set_timeout). When it passes, cb runs with error
 * "Method: timed out after N ms" (ETIMEDOUT) and a late reply is dropped.
 * AGENT_CALL_LONG_POLL is for the calls that legitimately wait for the guest
 * without limit (ReadStdout/ReadStderr, WaitProcess, GetOOMEvent, ReadDnsQuery, and WriteStdin,
 * which the agent holds while the container's stdin is full).
 * A reply is unpacked within pb_unpack_budget() ("Method: reply needs more than
 * N bytes of memory" otherwise), and the guest's error text is escaped.
 */
#define AGENT_CALL_LONG_POLL  (-1)
#define AGENT_CALL_DEFAULT_MS 10000
/* The deadline of calls made with timeout_ms 0 (AGENT_CALL_DEFAULT_MS until set). */
void agent_client_set_timeout(struct agent_client *a, int timeout_ms);
int agent_client_call(struct agent_client *a, const char *method, const ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *resp_desc, int timeout_ms,
                      agent_client_cb cb, void *data, husk_err *err);
/* Runs the loop until the response arrives or timeout_ms (0: the default) passes. */
int agent_client_call_sync(struct agent_client *a, const char *method, const ProtobufCMessage *req,
                           const ProtobufCMessageDescriptor *resp_desc, int timeout_ms,
                           ProtobufCMessage **resp, husk_err *err);
/* What this client's calls came to (for the sandbox's metrics). */
struct agent_client_stats {
	uint64_t calls, errors, timeouts; /* timeouts are errors too */
};
void agent_client_stats(const struct agent_client *a, struct agent_client_stats *out);
/* Drops the callbacks of every pending call made with this data pointer. */
void agent_client_forget(struct agent_client *a, void *data);

#endif
