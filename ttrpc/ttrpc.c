/* ttrpc framing, server and client over a husk_loop: see ttrpc.h. */
#include "ttrpc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/text.h"
#include "pbunpack.h"
#include "proto/ttrpc.pb-c.h"

#define IN_BUF_SIZE     65536
#define READS_PER_EVENT 8
/* A server stops reading requests while this much output waits for its peer. */
#define OUT_HIGH_WATER (2 * (size_t)TTRPC_MAX_DATA)
/* A client refuses new calls while this much waits for a peer that does not read. */
#define OUT_CLIENT_MAX (4 * (size_t)TTRPC_MAX_DATA)
/* Drained output buffers larger than this are released rather than kept. */
#define OUT_KEEP_MAX  (256u << 10)
#define MAX_INFLIGHT  1024
#define TABLE_BUCKETS 64
#define MAX_MESSAGE   1024

/* Calls keyed by stream id: a server's calls in flight, a client's pending calls. */
struct stream_node {
	uint32_t id;
	struct stream_node *next;
};

struct stream_table {
	struct stream_node *bucket[TABLE_BUCKETS];
	size_t count;
};

static struct stream_node **table_slot(struct stream_table *t, uint32_t id)
{
	struct stream_node **pp = &t->bucket[(id >> 1) % TABLE_BUCKETS];
	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

static void table_add(struct stream_table *t, struct stream_node *n)
{
	struct stream_node **head = &t->bucket[(n->id >> 1) % TABLE_BUCKETS];
	n->next = *head;
	*head = n;
	t->count++;
}

static struct stream_node *table_unlink(struct stream_table *t, struct stream_node **pp)
{
	struct stream_node *n = *pp;
	if (n) {
		*pp = n->next;
		t->count--;
	}
	return n;
}

static struct stream_node *table_take(struct stream_table *t, uint32_t id)
{
	return table_unlink(t, table_slot(t, id));
}

static struct stream_node *table_take_any(struct stream_table *t)
{
	for (size_t i = 0; i < TABLE_BUCKETS; i++)
		if (t->bucket[i])
			return table_unlink(t, &t->bucket[i]);
	return NULL;
}

enum conn_role { ROLE_SERVER, ROLE_CLIENT };
enum input_state { IN_HEADER, IN_DATA, IN_DISCARD };

struct ttrpc_conn {
	struct husk_loop *loop;
	int fd;
	enum conn_role role;
	int closed;
	int write_error; /* errno of a failed write, handled from the loop */
	int busy;        /* callbacks in progress; memory is released when it drops to 0 */
	int free_pending;
	uint32_t events;

	uint8_t in[IN_BUF_SIZE];
	size_t in_pos, in_end;
	enum input_state state;
	uint8_t hdr[TTRPC_HEADER_LEN];
	size_t hdr_have;
	struct ttrpc_header cur;
	uint8_t *frame;
	size_t frame_have;
	uint32_t discard;

	uint8_t *out;
	size_t out_pos, out_len, out_cap;

	struct stream_table streams;
	struct ttrpc_server *srv; /* server role */
	struct ttrpc_conn *next;  /* in srv->conns */
	uint32_t next_id;         /* client role */
	int timer_fd;             /* client role: the calls' deadlines, -1 until one has any */
	int64_t timer_armed_ms;   /* the deadline it is set to, 0 when disarmed */
};

struct ttrpc_call {
	struct stream_node node; /* first: the table holds calls by their node */
	struct ttrpc_conn *conn; /* NULL once the connection is gone */
	Ttrpc__Request *req;
	void (*cancel)(void *data);
	void *cancel_data;
	int cancelling;
};

struct pending_call {
	struct stream_node node; /* first */
	ttrpc_response_cb cb;
	void *data;
	int64_t deadline_ms; /* monotonic; 0: none */
	int64_t timeout_ms;
};

struct ttrpc_server {
	struct husk_loop *loop;
	struct ttrpc_method *methods;
	size_t nmethods;
	void *data;
	struct ttrpc_conn *conns;
	void (*on_closed)(void *data);
	void *on_closed_data;
	int freeing;
};

static void header_parse(const uint8_t in[TTRPC_HEADER_LEN], struct ttrpc_header *h)
{
	h->length = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
	h->stream_id = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
	h->type = in[8];
	h->flags = in[9];
}

void ttrpc_header_encode(const struct ttrpc_header *h, uint8_t out[TTRPC_HEADER_LEN])
{
	out[0] = h->length >> 24;
	out[1] = h->length >> 16;
	out[2] = h->length >> 8;
	out[3] = h->length;
	out[4] = h->stream_id >> 24;
	out[5] = h->stream_id >> 16;
	out[6] = h->stream_id >> 8;
	out[7] = h->stream_id;
	out[8] = h->type;
	out[9] = h->flags;
}

int ttrpc_header_decode(const uint8_t in[TTRPC_HEADER_LEN], struct ttrpc_header *h, husk_err *err)
{
	header_parse(in, h);
	if (h->type != TTRPC_TYPE_REQUEST && h->type != TTRPC_TYPE_RESPONSE)
		return husk_error_set(err, EPROTO, "ttrpc frame: unknown type %u", h->type);
	if (h->length > TTRPC_MAX_DATA)
		return husk_error_set(err, EMSGSIZE, "ttrpc frame: %u bytes exceed the %u limit",
		                      h->length, TTRPC_MAX_DATA);
	return 0;
}

enum ttrpc_code ttrpc_code_from_errno(int e)
{
	switch (e) {
	case 0:
		return TTRPC_OK;
	case ENOENT:
	case ESRCH:
		return TTRPC_NOT_FOUND;
	case EEXIST:
		return TTRPC_ALREADY_EXISTS;
	case EINVAL:
		return TTRPC_INVALID_ARGUMENT;
	case ETIMEDOUT:
		return TTRPC_DEADLINE_EXCEEDED;
	case EPERM:
	case EACCES:
		return TTRPC_PERMISSION_DENIED;
	case ENOSPC:
	case ENOMEM:
	case EMSGSIZE:
		return TTRPC_RESOURCE_EXHAUSTED;
	case EBUSY:
		return TTRPC_FAILED_PRECONDITION;
	case ENOSYS:
	case EOPNOTSUPP:
		return TTRPC_UNIMPLEMENTED;
	case ECANCELED:
		return TTRPC_CANCELED;
	case ENOTCONN:
	case ECONNRESET:
	case EPIPE:
		return TTRPC_UNAVAILABLE;
	default:
		return TTRPC_UNKNOWN;
	}
}

int ttrpc_code_to_errno(enum ttrpc_code code)
{
	switch (code) {
	case TTRPC_OK:
		return 0;
	case TTRPC_CANCELED:
		return ECANCELED;
	case TTRPC_INVALID_ARGUMENT:
		return EINVAL;
	case TTRPC_DEADLINE_EXCEEDED:
		return ETIMEDOUT;
	case TTRPC_NOT_FOUND:
		return ENOENT;
	case TTRPC_ALREADY_EXISTS:
		return EEXIST;
	case TTRPC_PERMISSION_DENIED:
		return EPERM;
	case TTRPC_RESOURCE_EXHAUSTED:
		return ENOSPC;
	case TTRPC_FAILED_PRECONDITION:
		return EBUSY;
	case TTRPC_UNIMPLEMENTED:
		return ENOSYS;
	case TTRPC_UNAVAILABLE:
		return ENOTCONN;
	default:
		return EIO;
	}
}

/* Sets an error whose message has no strerror suffix but whose code is errno-style. */
__attribute__((format(printf, 3, 4))) static int error_with_code(husk_err *err, int code,
                                                                 const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	husk_error_set(err, 0, "%s", msg ? msg : "ttrpc error");
	free(msg);
	return husk_error_set_code(err, code);
}

/* ---- connection core: framing, output queue, lifetime ---- */

static void conn_destroy(struct ttrpc_conn *c)
{
	free(c->frame);
	free(c->out);
	free(c);
}

static void conn_hold(struct ttrpc_conn *c)
{
	c->busy++;
}

static void conn_release(struct ttrpc_conn *c)
{
	if (--c->busy == 0 && c->free_pending)
		conn_destroy(c);
}

static size_t conn_out_pending(const struct ttrpc_conn *c)
{
	return c->out_len - c->out_pos;
}

static int conn_input_paused(const struct ttrpc_conn *c)
{
	/* Only servers pause: a client always reads, so two husk peers cannot deadlock. */
	return c->role == ROLE_SERVER && conn_out_pending(c) > OUT_HIGH_WATER;
}

static void conn_update_events(struct ttrpc_conn *c)
{
	if (c->closed)
		return;
	int paused = conn_input_paused(c);
	uint32_t ev = paused ? 0 : EPOLLIN;
	/*
	 * EPOLLOUT also wakes us for a write error noticed outside the loop and
	 * for input left buffered while paused (no new bytes may ever arrive).
	 */
	if (conn_out_pending(c) || c->write_error || (!paused && c->in_pos < c->in_end))
		ev |= EPOLLOUT;
	if (ev == c->events)
		return;
	if (husk_loop_mod(c->loop, c->fd, ev, NULL) < 0)
		c->write_error = errno ? errno : EIO;
	else
		c->events = ev;
}

static void conn_flush(struct ttrpc_conn *c)
{
	while (conn_out_pending(c) && !c->write_error) {
		ssize_t n = send(c->fd, c->out + c->out_pos, conn_out_pending(c), MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->write_error = errno;
			return;
		}
		c->out_pos += (size_t)n;
	}
	if (conn_out_pending(c))
		return;
	c->out_pos = c->out_len = 0;
	if (c->out_cap > OUT_KEEP_MAX) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
}

static int conn_reserve(struct ttrpc_conn *c, size_t need)
{
	if (c->out_cap - c->out_len >= need)
		return 0;
	if (c->out_pos) {
		memmove(c->out, c->out + c->out_pos, conn_out_pending(c));
		c->out_len -= c->out_pos;
		c->out_pos = 0;
		if (c->out_cap - c->out_len >= need)
			return 0;
	}
	size_t cap = c->out_cap * 2 > c->out_len + need ? c->out_cap * 2 : c->out_len + need;
	uint8_t *p = realloc(c->out, cap);
	if (!p)
		return -1;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

/* Queues one frame carrying msg and starts writing it. Returns 0 or -1 (errno). */
static int conn_send(struct ttrpc_conn *c, uint32_t stream_id, enum ttrpc_type type,
                     const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	if (len > TTRPC_MAX_DATA) {
		errno = EMSGSIZE;
		return -1;
	}
	if (conn_reserve(c, TTRPC_HEADER_LEN + len) < 0) {
		errno = ENOMEM;
		return -1;
	}
	struct ttrpc_header h = {.length = len, .stream_id = stream_id, .type = type};
	ttrpc_header_encode(&h, c->out + c->out_len);
	protobuf_c_message_pack(msg, c->out + c->out_len + TTRPC_HEADER_LEN);
	c->out_len += TTRPC_HEADER_LEN + len;
	conn_flush(c);
	conn_update_events(c);
	return 0;
}

static int conn_send_response(struct ttrpc_conn *c, uint32_t stream_id, enum ttrpc_code code,
                              const char *message, const uint8_t *payload, size_t len)
{
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	Ttrpc__Status status = TTRPC__STATUS__INIT;

	if (code != TTRPC_OK) {
		status.code = code;
		status.message = (char *)(message ? message : "");
		resp.status = &status;
	} else {
		resp.payload.data = (uint8_t *)payload;
		resp.payload.len = len;
	}
	if (conn_send(c, stream_id, TTRPC_TYPE_RESPONSE, &resp.base) == 0)
		return 0;
	if (errno != EMSGSIZE)
		return -1;
	/* Still answer, so the peer's call does not hang. */
	status.code = TTRPC_RESOURCE_EXHAUSTED;
	status.message = "response exceeds the ttrpc message size limit";
	resp.status = &status;
	resp.payload.len = 0;
	conn_send(c, stream_id, TTRPC_TYPE_RESPONSE, &resp.base);
	errno = EMSGSIZE;
	return -1;
}

__attribute__((format(printf, 4, 5))) static void conn_send_status(struct ttrpc_conn *c,
                                                                   uint32_t stream_id,
                                                                   enum ttrpc_code code,
                                                                   const char *fmt, ...)
{
	char msg[MAX_MESSAGE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (conn_send_response(c, stream_id, code, msg, NULL, 0) < 0)
		log_debug("ttrpc: cannot answer stream %u: %s", stream_id, strerror(errno));
}

static void call_free(struct ttrpc_call *call)
{
	ttrpc__request__free_unpacked(call->req, NULL);
	free(call);
}

static void server_conn_closed(struct ttrpc_conn *c)
{
	struct ttrpc_server *srv = c->srv;
	struct stream_node *n;

	for (struct ttrpc_conn **pp = &srv->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	while ((n = table_take_any(&c->streams))) {
		struct ttrpc_call *call = (struct ttrpc_call *)n;
		call->conn = NULL;
		if (call->cancel) {
			call->cancelling = 1;
			call->cancel(call->cancel_data);
			call_free(call);
		}
	}
	c->free_pending = 1;
	if (!srv->freeing && srv->on_closed)
		srv->on_closed(srv->on_closed_data);
}

static void client_fail_pending(struct ttrpc_conn *c)
{
	struct stream_node *n;

	while ((n = table_take_any(&c->streams))) {
		struct pending_call p = *(struct pending_call *)n;
		free(n);
		p.cb(TTRPC_UNAVAILABLE, "connection closed", NULL, 0, p.data);
	}
}

/* Closes the socket and fails what is in flight; the caller holds the connection. */
static void conn_close(struct ttrpc_conn *c, const char *why)
{
	if (c->closed)
		return;
	log_debug("ttrpc: connection fd %d closed: %s", c->fd, why);
	c->closed = 1;
	husk_loop_del(c->loop, c->fd);
	close_fd(&c->fd);
	if (c->timer_fd >= 0) {
		husk_loop_del(c->loop, c->timer_fd);
		close_fd(&c->timer_fd);
	}
	free(c->frame);
	c->frame = NULL;
	if (c->role == ROLE_SERVER)
		server_conn_closed(c);
	else
		client_fail_pending(c);
}

static const struct ttrpc_method *server_find(struct ttrpc_server *srv, const char *service,
                                              const char *method, int *service_known)
{
	*service_known = 0;
	for (size_t i = 0; i < srv->nmethods; i++) {
		if (strcmp(srv->methods[i].service, service) != 0)
			continue;
		*service_known = 1;
		if (strcmp(srv->methods[i].method, method) == 0)
			return &srv->methods[i];
	}
	return NULL;
}

/* Answers a request that cannot be dispatched; returns whether it did. */
static int server_refuse(struct ttrpc_conn *c, uint32_t id, const Ttrpc__Request *req,
                         const struct ttrpc_method *m, int service_known)
{
	if (*table_slot(&c->streams, id))
		conn_send_status(c, id, TTRPC_INVALID_ARGUMENT, "stream %u already in use", id);
	else if (!m)
		conn_send_status(c, id, TTRPC_UNIMPLEMENTED, "%s %.200s",
		                 service_known ? "method" : "service",
		                 service_known ? req->method : req->service);
	else if (c->streams.count >= MAX_INFLIGHT)
		conn_send_status(c, id, TTRPC_RESOURCE_EXHAUSTED, "too many calls in flight");
	else
		return 0;
	return 1;
}

static void server_handle_request(struct ttrpc_conn *c, uint32_t id, const uint8_t *data,
                                  size_t len)
{
	if (id % 2 == 0) {
		conn_send_status(c, id, TTRPC_INVALID_ARGUMENT,
		                 "StreamID must be odd for client initiated streams");
		return;
	}
	cleanup_error husk_err err = NULL;
	Ttrpc__Request *req =
	    (Ttrpc__Request *)pb_unpack(&ttrpc__request__descriptor, data, len, "request", &err);
	if (!req) {
		log_debug("ttrpc: stream %u: %s", id, husk_error_msg(err));
		conn_send_status(
		    c, id, err->code == ENOMEM ? TTRPC_RESOURCE_EXHAUSTED : TTRPC_INVALID_ARGUMENT,
		    "unmarshal request error");
		return;
	}
	int service_known;
	const struct ttrpc_method *m =
	    server_find(c->srv, req->service, req->method, &service_known);
	if (server_refuse(c, id, req, m, service_known)) {
		ttrpc__request__free_unpacked(req, NULL);
		return;
	}
	struct ttrpc_call *call = calloc(1, sizeof(*call));
	if (!call) {
		ttrpc__request__free_unpacked(req, NULL);
		conn_send_status(c, id, TTRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	call->node.id = id;
	call->conn = c;
	call->req = req;
	table_add(&c->streams, &call->node);
	m->handler(call, req->payload.data, req->payload.len, c->srv->data);
}

static void client_handle_response(struct ttrpc_conn *c, uint32_t id, const uint8_t *data,
                                   size_t len)
{
	struct stream_node *n = table_take(&c->streams, id);
	if (!n) {
		log_debug("ttrpc: response for unknown stream %u dropped", id);
		return;
	}
	struct pending_call p = *(struct pending_call *)n;
	free(n);
	cleanup_error husk_err err = NULL;
	Ttrpc__Response *resp = (Ttrpc__Response *)pb_unpack(&ttrpc__response__descriptor, data,
	                                                     len, "response envelope", &err);
	if (!resp && err->code == ENOMEM)
		p.cb(TTRPC_RESOURCE_EXHAUSTED, husk_error_msg(err), NULL, 0, p.data);
	else if (!resp)
		p.cb(TTRPC_INTERNAL, "invalid ttrpc response envelope", NULL, 0, p.data);
	else if (resp->status && resp->status->code != TTRPC_OK)
		p.cb(resp->status->code, resp->status->message, NULL, 0, p.data);
	else
		p.cb(TTRPC_OK, "", resp->payload.data, resp->payload.len, p.data);
	ttrpc__response__free_unpacked(resp, NULL);
}

static void conn_frame_done(struct ttrpc_conn *c)
{
	uint8_t *data = c->frame;
	struct ttrpc_header h = c->cur;

	c->frame = NULL;
	c->state = IN_HEADER;
	/* Handlers may run the loop and re-enter this connection: all state is in c. */
	if (c->role == ROLE_SERVER)
		server_handle_request(c, h.stream_id, data, h.length);
	else
		client_handle_response(c, h.stream_id, data, h.length);
	free(data);
}

static void conn_skip_frame(struct ttrpc_conn *c)
{
	c->discard = c->cur.length;
	c->state = c->discard ? IN_DISCARD : IN_HEADER;
}

static void conn_refuse_oversize(struct ttrpc_conn *c)
{
	const struct ttrpc_header *h = &c->cur;

	if (c->role == ROLE_SERVER && h->type == TTRPC_TYPE_REQUEST) {
		conn_send_status(c, h->stream_id, TTRPC_RESOURCE_EXHAUSTED,
		                 "message length %u exceed maximum message size of %u", h->length,
		                 TTRPC_MAX_DATA);
	} else if (c->role == ROLE_CLIENT && h->type == TTRPC_TYPE_RESPONSE) {
		struct stream_node *n = table_take(&c->streams, h->stream_id);
		if (!n)
			return;
		struct pending_call p = *(struct pending_call *)n;
		free(n);
		p.cb(TTRPC_RESOURCE_EXHAUSTED, "response exceeds the ttrpc message size limit",
		     NULL, 0, p.data);
	}
}

static void conn_header_done(struct ttrpc_conn *c)
{
	uint8_t wanted = c->role == ROLE_SERVER ? TTRPC_TYPE_REQUEST : TTRPC_TYPE_RESPONSE;

	header_parse(c->hdr, &c->cur);
	c->hdr_have = 0;
	if (c->cur.length > TTRPC_MAX_DATA) {
		conn_skip_frame(c); /* first: the refusal may re-enter the connection */
		conn_refuse_oversize(c);
		return;
	}
	if (c->cur.type != wanted) {
		log_debug("ttrpc: ignoring frame of type %u", c->cur.type);
		conn_skip_frame(c);
		return;
	}
	c->frame = malloc(c->cur.length ? c->cur.length : 1);
	if (!c->frame) {
		conn_skip_frame(c);
		conn_refuse_oversize(c);
		return;
	}
	c->frame_have = 0;
	c->state = IN_DATA;
	if (c->cur.length == 0)
		conn_frame_done(c);
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Consumes buffered input until it is used up, the connection closes or input pauses. */
static void conn_process_input(struct ttrpc_conn *c)
{
	while (c->in_pos < c->in_end && !c->closed && !conn_input_paused(c)) {
		const uint8_t *p = c->in + c->in_pos;
		size_t avail = c->in_end - c->in_pos, n;

		switch (c->state) {
		case IN_DISCARD:
			n = min_size(avail, c->discard);
			c->in_pos += n;
			c->discard -= n;
			if (!c->discard)
				c->state = IN_HEADER;
			break;
		case IN_HEADER:
			n = min_size(avail, TTRPC_HEADER_LEN - c->hdr_have);
			memcpy(c->hdr + c->hdr_have, p, n);
			c->hdr_have += n;
			c->in_pos += n;
			if (c->hdr_have == TTRPC_HEADER_LEN)
				conn_header_done(c);
			break;
		case IN_DATA:
			n = min_size(avail, c->cur.length - c->frame_have);
			memcpy(c->frame + c->frame_have, p, n);
			c->frame_have += n;
			c->in_pos += n;
			if (c->frame_have == c->cur.length)
				conn_frame_done(c);
			break;
		}
	}
}

static void conn_read(struct ttrpc_conn *c)
{
	for (int i = 0; i < READS_PER_EVENT; i++) {
		conn_process_input(c);
		if (c->closed || c->in_pos < c->in_end)
			return;
		c->in_pos = c->in_end = 0;
		ssize_t n = read(c->fd, c->in, sizeof(c->in));
		if (n == 0) {
			conn_close(c, "closed by peer");
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				conn_close(c, strerror(errno));
			return;
		}
		c->in_end = (size_t)n;
	}
	conn_process_input(c);
}

static int conn_on_event(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct ttrpc_conn *c = data;

	conn_hold(c);
	if (events & EPOLLOUT)
		conn_flush(c);
	if (c->write_error)
		conn_close(c, strerror(c->write_error));
	if (!c->closed && !conn_input_paused(c))
		conn_read(c);
	if (!c->closed && c->write_error)
		conn_close(c, strerror(c->write_error));
	conn_update_events(c);
	conn_release(c);
	return 0;
}

static struct ttrpc_conn *conn_new(struct husk_loop *loop, int fd, enum conn_role role,
                                   husk_err *err)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		husk_error_set(err, errno, "ttrpc: fd %d", fd);
		close(fd);
		return NULL;
	}
	struct ttrpc_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		husk_error_set(err, ENOMEM, "ttrpc connection");
		close(fd);
		return NULL;
	}
	c->loop = loop;
	c->fd = fd;
	c->timer_fd = -1;
	c->role = role;
	c->events = EPOLLIN;
	if (husk_loop_add(loop, fd, c->events, conn_on_event, c, err) < 0) {
		close(fd);
		free(c);
		return NULL;
	}
	return c;
}

/* ---- server ---- */

struct ttrpc_server *ttrpc_server_new(struct husk_loop *loop, const struct ttrpc_method *methods,
                                      size_t nmethods, void *data, husk_err *err)
{
	struct ttrpc_server *srv = calloc(1, sizeof(*srv));
	if (srv && nmethods)
		srv->methods = calloc(nmethods, sizeof(*methods));
	if (!srv || (nmethods && !srv->methods)) {
		free(srv);
		husk_error_set(err, ENOMEM, "ttrpc server");
		return NULL;
	}
	if (nmethods)
		memcpy(srv->methods, methods, nmethods * sizeof(*methods));
	srv->nmethods = nmethods;
	srv->loop = loop;
	srv->data = data;
	return srv;
}

void ttrpc_server_free(struct ttrpc_server *srv)
{
	if (!srv)
		return;
	srv->freeing = 1;
	while (srv->conns) {
		struct ttrpc_conn *c = srv->conns;
		conn_hold(c);
		conn_close(c, "server stopped");
		conn_release(c);
	}
	free(srv->methods);
	free(srv);
}

void ttrpc_server_on_conn_closed(struct ttrpc_server *srv, void (*fn)(void *data), void *data)
{
	srv->on_closed = fn;
	srv->on_closed_data = data;
}

/* containerd's rule: a Unix peer must run as our user; vsock peers are the guest. */
static int check_peer(int fd, husk_err *err)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl = sizeof(ss);
	struct ucred cr;
	socklen_t cl = sizeof(cr);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return husk_error_set(err, errno, "ttrpc: getsockname fd %d", fd);
	if (ss.ss_family != AF_UNIX)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0)
		return husk_error_set(err, errno, "ttrpc: SO_PEERCRED fd %d", fd);
	if (cr.uid != geteuid() || cr.gid != getegid())
		return husk_error_set(err, EPERM, "ttrpc: peer pid %d uid %u gid %u is not ours",
		                      (int)cr.pid, (unsigned)cr.uid, (unsigned)cr.gid);
	return 0;
}

int ttrpc_server_add_conn(struct ttrpc_server *srv, int fd, husk_err *err)
{
	if (check_peer(fd, err) < 0) {
		close(fd);
		return -1;
	}
	struct ttrpc_conn *c = conn_new(srv->loop, fd, ROLE_SERVER, err);
	if (!c)
		return -1;
	c->srv = srv;
	c->next = srv->conns;
	srv->conns = c;
	return 0;
}

int ttrpc_reply(struct ttrpc_call *call, enum ttrpc_code code, const char *message,
                const uint8_t *payload, size_t len)
{
	struct ttrpc_conn *c = call->conn;
	if (!c) {
		/* The connection is gone; inside the cancel callback the closer frees it. */
		if (!call->cancelling)
			call_free(call);
		return 0;
	}
	int ret = 0;
	table_take(&c->streams, call->node.id);
	/* payload may point into the request, so send before freeing the call */
	if (!c->closed)
		ret = conn_send_response(c, call->node.id, code, message, payload, len);
	int e = errno;
	call_free(call);
	errno = e;
	return ret;
}

int ttrpc_reply_pb(struct ttrpc_call *call, const ProtobufCMessage *msg)
{
	size_t len = msg ? protobuf_c_message_get_packed_size(msg) : 0;
	cleanup_free uint8_t *buf = len ? malloc(len) : NULL;

	if (len && !buf)
		return ttrpc_reply(call, TTRPC_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
	if (len)
		protobuf_c_message_pack(msg, buf);
	return ttrpc_reply(call, TTRPC_OK, NULL, buf, len);
}

int ttrpc_reply_error(struct ttrpc_call *call, enum ttrpc_code code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_debug("ttrpc: reply %d: %s", code, msg);
	return ttrpc_reply(call, code, msg, NULL, 0);
}

int ttrpc_reply_husk_error(struct ttrpc_call *call, husk_err err)
{
	enum ttrpc_code code = ttrpc_code_from_errno(err ? err->code : 0);
	return ttrpc_reply(call, code == TTRPC_OK ? TTRPC_UNKNOWN : code, husk_error_msg(err), NULL,
	                   0);
}

void ttrpc_call_set_cancel(struct ttrpc_call *call, void (*cancel)(void *data), void *data)
{
	call->cancel = cancel;
	call->cancel_data = data;
}

const char *ttrpc_call_metadata(struct ttrpc_call *call, const char *key)
{
	for (size_t i = 0; i < call->req->n_metadata; i++)
		if (strcmp(call->req->metadata[i]->key, key) == 0)
			return call->req->metadata[i]->value;
	return NULL;
}

int64_t ttrpc_call_timeout_ns(struct ttrpc_call *call)
{
	return call->req->timeout_nano;
}

const char *ttrpc_call_method(struct ttrpc_call *call)
{
	return call->req->method;
}

/* ---- client ---- */

struct ttrpc_conn *ttrpc_client_new(struct husk_loop *loop, int fd, husk_err *err)
{
	struct ttrpc_conn *c = conn_new(loop, fd, ROLE_CLIENT, err);
	if (c)
		c->next_id = 1;
	return c;
}

void ttrpc_client_free(struct ttrpc_conn *conn)
{
	if (!conn)
		return;
	conn_hold(conn);
	conn_close(conn, "client freed");
	conn->free_pending = 1;
	conn_release(conn);
}

int ttrpc_client_alive(struct ttrpc_conn *conn)
{
	return conn && !conn->closed && !conn->write_error;
}

static uint32_t client_next_id(struct ttrpc_conn *c)
{
	uint32_t id;
	/* odd + 2 stays odd across the 32-bit wrap; skip ids still in flight */
	do {
		id = c->next_id;
		c->next_id += 2;
	} while (*table_slot(&c->streams, id));
	return id;
}

/* ---- client deadlines: one timerfd per connection, set to the earliest pending deadline ---- */

static int client_on_timer(struct husk_loop *loop, int fd, uint32_t events, void *data,
                           husk_err *err);

static int64_t earliest_deadline(struct ttrpc_conn *c)
{
	int64_t first = 0;
	for (size_t i = 0; i < TABLE_BUCKETS; i++)
		for (struct stream_node *n = c->streams.bucket[i]; n; n = n->next) {
			int64_t d = ((struct pending_call *)n)->deadline_ms;
			if (d && (!first || d < first))
				first = d;
		}
	return first;
}

/* Sets the timer to the earliest deadline (or disarms it); 0, or -1 with errno. */
static int client_arm_timer(struct ttrpc_conn *c)
{
	int64_t first = earliest_deadline(c);
	if (c->closed || first == c->timer_armed_ms)
		return 0;
	if (c->timer_fd < 0 && first) {
		c->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (c->timer_fd < 0)
			return -1;
		if (husk_loop_add(c->loop, c->timer_fd, EPOLLIN, client_on_timer, c, NULL) < 0) {
			close_fd(&c->timer_fd);
			errno = ENOMEM;
			return -1;
		}
	}
	if (c->timer_fd < 0)
		return 0;
	/* absolute on CLOCK_MONOTONIC, which monotonic_ms reads; 0 disarms */
	struct itimerspec its = {.it_value = {first / 1000, (first % 1000) * 1000000}};
	if (timerfd_settime(c->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -1;
	c->timer_armed_ms = first;
	return 0;
}

/* Fails every call whose deadline has passed with DEADLINE_EXCEEDED; a late reply is dropped. */
static int client_on_timer(struct husk_loop *loop, int fd, uint32_t events, void *data,
                           husk_err *err)
{
	struct ttrpc_conn *c = data;
	uint64_t ticks;
	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_debug("ttrpc: call timer: %s", strerror(errno));
	c->timer_armed_ms = -1; /* fired: set again below */
	conn_hold(c);
	for (;;) {
		int64_t now = monotonic_ms();
		struct stream_node **expired = NULL;
		for (size_t i = 0; i < TABLE_BUCKETS && !expired; i++)
			for (struct stream_node **pp = &c->streams.bucket[i]; *pp && !expired;
			     pp = &(*pp)->next) {
				int64_t d = ((struct pending_call *)*pp)->deadline_ms;
				if (d && d <= now)
					expired = pp;
			}
		if (!expired || c->closed)
			break;
		struct stream_node *n = table_unlink(&c->streams, expired);
		struct pending_call p = *(struct pending_call *)n;
		free(n);
		char msg[64];
		snprintf(msg, sizeof(msg), "timed out after %lld ms", (long long)p.timeout_ms);
		log_debug("ttrpc: stream %u %s", p.node.id, msg);
		p.cb(TTRPC_DEADLINE_EXCEEDED, msg, NULL, 0, p.data);
	}
	if (client_arm_timer(c) < 0)
		log_warn("ttrpc: call timer: %s", strerror(errno));
	conn_release(c);
	return 0;
}

static int client_start_call(struct ttrpc_conn *c, const char *service, const char *method,
                             const uint8_t *payload, size_t len, int64_t timeout_ns,
                             ttrpc_response_cb cb, void *data, uint32_t *id_out, husk_err *err)
{
	Ttrpc__Request req = TTRPC__REQUEST__INIT;

	if (!ttrpc_client_alive(c))
		return error_with_code(err, ENOTCONN, "%s/%s: connection closed", service, method);
	if (conn_out_pending(c) > OUT_CLIENT_MAX)
		return husk_error_set(err, ENOBUFS, "%s/%s: peer is not reading", service, method);
	struct pending_call *p = calloc(1, sizeof(*p));
	if (!p)
		return husk_error_set(err, ENOMEM, "%s/%s", service, method);
	req.service = (char *)service;
	req.method = (char *)method;
	req.payload.data = (uint8_t *)payload;
	req.payload.len = len;
	req.timeout_nano = timeout_ns;
	p->node.id = client_next_id(c);
	p->cb = cb;
	p->data = data;
	if (timeout_ns > 0) {
		p->timeout_ms = (timeout_ns + 999999) / 1000000;
		p->deadline_ms = monotonic_ms() + p->timeout_ms;
	}
	if (conn_send(c, p->node.id, TTRPC_TYPE_REQUEST, &req.base) < 0) {
		int e = errno;
		free(p);
		return husk_error_set(err, e, "%s/%s", service, method);
	}
	table_add(&c->streams, &p->node);
	*id_out = p->node.id;
	if (p->deadline_ms && client_arm_timer(c) < 0)
		log_warn("ttrpc: %s/%s: no host-side deadline: %s", service, method,
		         strerror(errno));
	return 0;
}

int ttrpc_client_call(struct ttrpc_conn *conn, const char *service, const char *method,
                      const uint8_t *payload, size_t len, int64_t timeout_ns, ttrpc_response_cb cb,
                      void *data, husk_err *err)
{
	uint32_t id;
	return client_start_call(conn, service, method, payload, len, timeout_ns, cb, data, &id,
	                         err);
}

struct sync_result {
	int done;
	enum ttrpc_code code;
	char *message;
	uint8_t *payload;
	size_t len;
};

static void sync_result_store(enum ttrpc_code code, const char *message, const uint8_t *payload,
                              size_t len, void *data)
{
	struct sync_result *r = data;

	r->done = 1;
	r->code = code;
	if (code != TTRPC_OK) {
		/* the peer's text (the guest's, for the agent): escaped for logs and terminals */
		r->message = text_escape_dup(message ? message : "");
		return;
	}
	if (!len)
		return;
	r->payload = malloc(len);
	if (!r->payload) {
		r->code = TTRPC_RESOURCE_EXHAUSTED;
		return;
	}
	memcpy(r->payload, payload, len);
	r->len = len;
}

/* Runs the loop until r is done; on failure the call is detached so a late reply is dropped. */
static int sync_wait(struct ttrpc_conn *c, uint32_t id, struct sync_result *r, int timeout_ms,
                     const char *service, const char *method, husk_err *err)
{
	int64_t deadline = deadline_after(timeout_ms);
	int ret = 0;

	conn_hold(c); /* a callback may free the connection meanwhile */
	while (!r->done && ret == 0) {
		int left = deadline_left(deadline);
		if (left == 0)
			ret = error_with_code(err, ETIMEDOUT, "%s/%s: timed out after %d ms",
			                      service, method, timeout_ms);
		else if (husk_loop_stopped(c->loop))
			ret = error_with_code(err, ECANCELED, "%s/%s: event loop stopped", service,
			                      method);
		else if (husk_loop_run_once(c->loop, left, err) < 0)
			ret = husk_error_prefix(err, "%s/%s", service, method);
	}
	/* Not done means the connection is still open: closing it completes every call. */
	if (!r->done)
		free(table_take(&c->streams, id));
	conn_release(c);
	return ret;
}

int ttrpc_client_call_sync(struct ttrpc_conn *conn, const char *service, const char *method,
                           const uint8_t *payload, size_t len, int timeout_ms, uint8_t **resp,
                           size_t *resp_len, husk_err *err)
{
	struct sync_result r = {0};
	int64_t timeout_ns = timeout_ms > 0 ? (int64_t)timeout_ms * 1000000 : 0;
	uint32_t id = 0;

	if (client_start_call(conn, service, method, payload, len, timeout_ns, sync_result_store,
	                      &r, &id, err) < 0)
		return -1;
	if (sync_wait(conn, id, &r, timeout_ms, service, method, err) < 0)
		return -1;
	if (r.code != TTRPC_OK) {
		error_with_code(err, ttrpc_code_to_errno(r.code), "%s/%s: %s", service, method,
		                r.message ? r.message : "out of memory");
		free(r.message);
		return -1;
	}
	if (resp) {
		*resp = r.payload;
		if (resp_len)
			*resp_len = r.len;
	} else {
		free(r.payload);
	}
	return 0;
}

int ttrpc_client_call_pb_sync(struct ttrpc_conn *conn, const char *service, const char *method,
                              const ProtobufCMessage *req,
                              const ProtobufCMessageDescriptor *resp_desc, int timeout_ms,
                              ProtobufCMessage **resp, husk_err *err)
{
	size_t len = req ? protobuf_c_message_get_packed_size(req) : 0;
	cleanup_free uint8_t *buf = len ? malloc(len) : NULL;
	cleanup_free uint8_t *out = NULL;
	size_t out_len = 0;

	if (len && !buf)
		return husk_error_set(err, ENOMEM, "%s/%s", service, method);
	if (len)
		protobuf_c_message_pack(req, buf);
	if (ttrpc_client_call_sync(conn, service, method, buf, len, timeout_ms, &out, &out_len,
	                           err) < 0)
		return -1;
	cleanup_free char *what = NULL;
	if (asprintf(&what, "%s/%s: reply", service, method) < 0)
		return husk_error_set(err, ENOMEM, "%s/%s", service, method);
	*resp = pb_unpack(resp_desc, out, out_len, what, err);
	return *resp ? 0 : -1;
}
