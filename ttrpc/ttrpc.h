/*
 * ttrpc: containerd's RPC framing, used for the agent channel (host <-> guest)
 * and for the containerd shim v2 API. Wire facts: 10-byte big-endian header
 * {u32 length, u32 stream_id, u8 type (1 request, 2 response), u8 flags},
 * at most 4 MiB of data, payload a protobuf Request/Response (proto/ttrpc.proto).
 * Clients use odd stream ids 1, 3, 5, ...; many calls are in flight at once and
 * responses may come back in any order.
 *
 * Everything is non-blocking and driven by a husk_loop. A connection owns its fd.
 * Free servers and client connections before their loop.
 */
#ifndef HUSK_TTRPC_H
#define HUSK_TTRPC_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/error.h"
#include "lib/loop.h"

#define TTRPC_HEADER_LEN 10
#define TTRPC_MAX_DATA   (4u << 20)

enum ttrpc_type { TTRPC_TYPE_REQUEST = 1, TTRPC_TYPE_RESPONSE = 2 };

/* gRPC status codes, as ttrpc and containerd's errdefs use them */
enum ttrpc_code {
	TTRPC_OK = 0,
	TTRPC_CANCELED = 1,
	TTRPC_UNKNOWN = 2,
	TTRPC_INVALID_ARGUMENT = 3,
	TTRPC_DEADLINE_EXCEEDED = 4,
	TTRPC_NOT_FOUND = 5,
	TTRPC_ALREADY_EXISTS = 6,
	TTRPC_PERMISSION_DENIED = 7,
	TTRPC_RESOURCE_EXHAUSTED = 8,
	TTRPC_FAILED_PRECONDITION = 9,
	TTRPC_UNIMPLEMENTED = 12,
	TTRPC_INTERNAL = 13,
	TTRPC_UNAVAILABLE = 14,
};

struct ttrpc_header {
	uint32_t length;
	uint32_t stream_id;
	uint8_t type;
	uint8_t flags;
};

void ttrpc_header_encode(const struct ttrpc_header *h, uint8_t out[TTRPC_HEADER_LEN]);
/* Decodes and validates (type known, length <= TTRPC_MAX_DATA). Returns 0 or -1. */
int ttrpc_header_decode(const uint8_t in[TTRPC_HEADER_LEN], struct ttrpc_header *h, husk_err *err);

struct ttrpc_conn;
struct ttrpc_call; /* one incoming request awaiting its reply */

/*
 * Server side. A handler receives the request payload (valid until the call is
 * replied to or cancelled) and must reply exactly once, now or later, with
 * ttrpc_reply(). If the connection closes first, the cancel callback (if set)
 * runs once and the call handle is freed when it returns (a reply from inside
 * the cancel callback is a no-op); without a cancel callback the handle stays
 * valid and the eventual ttrpc_reply() is a harmless no-op that frees it.
 * Do not call ttrpc_server_free() from a handler or callback: stop the loop.
 *
 * Limits: at most 1024 calls in flight per connection (more are answered
 * RESOURCE_EXHAUSTED); an oversize request is skipped unread and answered
 * RESOURCE_EXHAUSTED; an even stream id, a malformed envelope or a stream id
 * already in flight get INVALID_ARGUMENT; unknown service/method get
 * UNIMPLEMENTED "service X" / "method X"; other frame types are skipped. While
 * more than 8 MiB of replies wait for a peer that does not read, the
 * connection stops reading requests. Unix peers must have our euid/egid.
 */
typedef void (*ttrpc_handler)(struct ttrpc_call *call, const uint8_t *payload, size_t len,
                              void *data);

struct ttrpc_method {
	const char *service; /* "husk.agent.v1.Agent" */
	const char *method;  /* "Health" */
	ttrpc_handler handler;
};

struct ttrpc_server;
struct ttrpc_server *ttrpc_server_new(struct husk_loop *loop, const struct ttrpc_method *methods,
                                      size_t nmethods, void *data, husk_err *err);
void ttrpc_server_free(struct ttrpc_server *srv);
/* Serves one accepted connection; the server owns fd from here on. */
int ttrpc_server_add_conn(struct ttrpc_server *srv, int fd, husk_err *err);
/* Optional: called when a served connection closes (e.g. the agent's host went away). */
void ttrpc_server_on_conn_closed(struct ttrpc_server *srv, void (*fn)(void *data), void *data);

/*
 * A non-OK code sends Status{code, message} and no payload. The call handle is
 * freed. Returns -1 (errno set) if the reply could not be queued; a payload over
 * the frame limit is answered with RESOURCE_EXHAUSTED instead (errno EMSGSIZE).
 */
int ttrpc_reply(struct ttrpc_call *call, enum ttrpc_code code, const char *message,
                const uint8_t *payload, size_t len);
/* Packs msg (NULL = empty) and replies OK. */
int ttrpc_reply_pb(struct ttrpc_call *call, const ProtobufCMessage *msg);
/* Replies code with a printf-formatted message of at most 511 bytes (logged at debug). */
int ttrpc_reply_error(struct ttrpc_call *call, enum ttrpc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Replies with ttrpc_code_from_errno(err->code) and the error's message. */
int ttrpc_reply_husk_error(struct ttrpc_call *call, husk_err err);
void ttrpc_call_set_cancel(struct ttrpc_call *call, void (*cancel)(void *data), void *data);
/* The request's metadata value for key, or NULL. */
const char *ttrpc_call_metadata(struct ttrpc_call *call, const char *key);
int64_t ttrpc_call_timeout_ns(struct ttrpc_call *call);
/* The method the request named (one of the server's, for a dispatched call). */
const char *ttrpc_call_method(struct ttrpc_call *call);

/*
 * Client side. The callback runs exactly once, from the loop (never from inside
 * ttrpc_client_call): with the response (code and message from its status;
 * a missing status or code 0 is TTRPC_OK with the payload), with
 * TTRPC_UNAVAILABLE "connection closed" when the connection closes, fails or is
 * freed first, with RESOURCE_EXHAUSTED for an oversize response or INTERNAL for
 * a malformed one. Callbacks may call ttrpc_client_free() on their connection.
 * Stream ids are 1, 3, 5, ... A connection owns its fd (a stream socket).
 * ttrpc_client_call fails with ENOBUFS while more than 16 MiB of requests wait
 * for a peer that does not read, and with ENOTCONN once the connection is gone.
 * A timeout_ns > 0 is sent to the peer and is also a deadline on this side: when
 * it passes, the callback runs with DEADLINE_EXCEEDED "timed out after N ms" and
 * a late response is dropped (0: no deadline, for calls that long-poll).
 * Envelopes (both roles) are unpacked within pb_unpack_budget() (pbunpack.h):
 * a response over it completes with RESOURCE_EXHAUSTED "response envelope
 * needs more than N bytes of memory", a request is answered RESOURCE_EXHAUSTED.
 * A peer's status message reaches a sync caller's error escaped (lib/text.h).
 */
typedef void (*ttrpc_response_cb)(enum ttrpc_code code, const char *message, const uint8_t *payload,
                                  size_t len, void *data);

struct ttrpc_conn *ttrpc_client_new(struct husk_loop *loop, int fd, husk_err *err);
void ttrpc_client_free(struct ttrpc_conn *conn);
int ttrpc_client_call(struct ttrpc_conn *conn, const char *service, const char *method,
                      const uint8_t *payload, size_t len, int64_t timeout_ns, ttrpc_response_cb cb,
                      void *data, husk_err *err);
/*
 * Convenience for sequential callers: issues the call and runs the loop until
 * the response arrives or timeout_ms passes (other fds keep being served).
 * On TTRPC_OK *resp and *resp_len get a malloc'd payload (NULL and 0 when empty;
 * resp may be NULL to discard it). A non-OK status becomes
 * an error "SERVICE/METHOD: message". Returns 0 or -1.
 * timeout_ms < 0 waits forever; on timeout the error is "SERVICE/METHOD: timed
 * out after N ms" (ETIMEDOUT) and a late response is dropped. Fails at once
 * (ECANCELED) if the loop has been stopped, since a stopped loop dispatches
 * nothing; a loop callback failing meanwhile fails this call with its error.
 */
int ttrpc_client_call_sync(struct ttrpc_conn *conn, const char *service, const char *method,
                           const uint8_t *payload, size_t len, int timeout_ms, uint8_t **resp,
                           size_t *resp_len, husk_err *err);
/*
 * ttrpc_client_call_sync on protobuf messages: packs req (NULL = empty) and
 * unpacks the reply with resp_desc into *resp (free it with
 * protobuf_c_message_free_unpacked). Returns 0 or -1.
 */
int ttrpc_client_call_pb_sync(struct ttrpc_conn *conn, const char *service, const char *method,
                              const ProtobufCMessage *req,
                              const ProtobufCMessageDescriptor *resp_desc, int timeout_ms,
                              ProtobufCMessage **resp, husk_err *err);
/* Whether the connection is still usable. */
int ttrpc_client_alive(struct ttrpc_conn *conn);

/*
 * Status <-> errno, so errors survive a hop: the sync calls put
 * ttrpc_code_to_errno(code) in err->code (the message stays "SERVICE/METHOD:
 * message", without strerror), and a server can answer with
 * ttrpc_code_from_errno(err->code). ENOENT <-> NOT_FOUND, EEXIST <->
 * ALREADY_EXISTS, EINVAL <-> INVALID_ARGUMENT, ETIMEDOUT <-> DEADLINE_EXCEEDED,
 * EPERM/EACCES <-> PERMISSION_DENIED, ENOSPC/ENOMEM/EMSGSIZE <-> RESOURCE_EXHAUSTED,
 * EBUSY <-> FAILED_PRECONDITION, ENOSYS/EOPNOTSUPP <-> UNIMPLEMENTED,
 * ECANCELED <-> CANCELED, ENOTCONN/ECONNRESET/EPIPE <-> UNAVAILABLE,
 * 0 <-> OK, anything else <-> UNKNOWN/INTERNAL (EIO).
 */
enum ttrpc_code ttrpc_code_from_errno(int e);
int ttrpc_code_to_errno(enum ttrpc_code code);

#endif
