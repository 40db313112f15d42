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

#define AGENT_SERVICE "husk.agent.v1.Agent"
#define AGENT_PORT    1024

struct agent_client;

/* Takes ownership of fd (a connected stream to the agent). */
struct agent_client *agent_client_new(struct husk_loop *loop, int fd, husk_err *err);
/* Pending callbacks are dropped without running. */
void agent_client_free(struct agent_client *a);
int agent_client_alive(struct agent_client *a);

/*
 * Runs once with the unpacked response (freed when cb returns), or with
 * resp NULL and error set ("Method: message", code an errno).
 */
typedef void (*agent_client_cb)(ProtobufCMessage *resp, husk_err error, void *data);

/* timeout_ms <= 0: none (for the blocking Read* and Wait calls). */
int agent_client_call(struct agent_client *a, const char *method, const ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *resp_desc, int timeout_ms,
                      agent_client_cb cb, void *data, husk_err *err);
/* Runs the loop until the response arrives or timeout_ms passes. */
int agent_client_call_sync(struct agent_client *a, const char *method, const ProtobufCMessage *req,
                           const ProtobufCMessageDescriptor *resp_desc, int timeout_ms,
                           ProtobufCMessage **resp, husk_err *err);
/* Drops the callbacks of every pending call made with this data pointer. */
void agent_client_forget(struct agent_client *a, void *data);

#endif
