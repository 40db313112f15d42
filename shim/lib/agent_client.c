#include "agent_client.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/text.h"
#include "ttrpc/pbunpack.h"
#include "ttrpc/ttrpc.h"

struct pending {
	struct agent_client *agent;
	const char *method;
	const ProtobufCMessageDescriptor *desc;
	agent_client_cb cb; /* NULL once forgotten */
	void *data;
	int64_t start_ns;
	struct pending *next;
};

struct agent_client {
	struct husk_loop *loop;
	struct ttrpc_conn *conn;
	struct pending *pending;
	int timeout_ms; /* for calls made with 0 */
	struct agent_client_stats stats;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void log_call(const char *method, int64_t start_ns, size_t len, const char *status)
{
	log_debug("agent %s: %.1f ms, %zu bytes, %s", method, (double)(now_ns() - start_ns) / 1e6,
	          len, status);
}

/* On a fresh connection: the bytes fit the socket's buffer, so one send takes them all. */
static int send_preamble(int fd, const struct token *token, husk_err *err)
{
	char p[TOKEN_PREAMBLE_LEN];
	token_preamble(token, p);
	if (send(fd, p, sizeof(p), MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(p))
		return husk_error_set(err, errno, "send the sandbox's token");
	return 0;
}

struct agent_client *agent_client_new(struct husk_loop *loop, int fd, const struct token *token,
                                      husk_err *err)
{
	struct agent_client *a = calloc(1, sizeof(*a));
	if (!a || (token && send_preamble(fd, token, err) < 0)) {
		close(fd);
		if (!a)
			husk_error_set(err, ENOMEM, "agent client");
		free(a);
		return NULL;
	}
	a->loop = loop;
	a->timeout_ms = AGENT_CALL_DEFAULT_MS;
	a->conn = ttrpc_client_new(loop, fd, err);
	if (!a->conn) {
		free(a);
		return NULL;
	}
	return a;
}

static void unlink_pending(struct pending *p)
{
	for (struct pending **pp = &p->agent->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

void agent_client_free(struct agent_client *a)
{
	if (!a)
		return;
	agent_client_forget(a, NULL);
	/* The connection may complete pending calls as it closes; they find no callback. */
	ttrpc_client_free(a->conn);
	while (a->pending) {
		struct pending *p = a->pending;
		a->pending = p->next;
		free(p);
	}
	free(a);
}

void agent_client_set_timeout(struct agent_client *a, int timeout_ms)
{
	a->timeout_ms = timeout_ms > 0 ? timeout_ms : AGENT_CALL_DEFAULT_MS;
}

static int call_timeout_ms(struct agent_client *a, int timeout_ms)
{
	return timeout_ms == 0 ? a->timeout_ms : timeout_ms;
}

int agent_client_alive(struct agent_client *a)
{
	return a && ttrpc_client_alive(a->conn);
}

void agent_client_forget(struct agent_client *a, void *data)
{
	for (struct pending *p = a->pending; p; p = p->next)
		if (!data || p->data == data)
			p->cb = NULL;
}

static void count_call(struct agent_client *a, husk_err error)
{
	a->stats.calls++;
	if (error) {
		a->stats.errors++;
		a->stats.timeouts += error->code == ETIMEDOUT;
	}
}

void agent_client_stats(const struct agent_client *a, struct agent_client_stats *out)
{
	*out = a ? a->stats : (struct agent_client_stats){0};
}

static void on_response(enum ttrpc_code code, const char *message, const uint8_t *payload,
                        size_t len, void *data)
{
	struct pending *p = data;
	cleanup_error husk_err error = NULL;
	ProtobufCMessage *resp = NULL;

	unlink_pending(p);
	if (code != TTRPC_OK) {
		/* the guest's text: escaped before it reaches a log or a terminal */
		char text[512];
		text_escape(text, sizeof(text), message ? message : "failed",
		            strlen(message ? message : "failed"));
		log_call(p->method, p->start_ns, 0, text);
		husk_error_set(&error, 0, "%s: %s", p->method, text);
		husk_error_set_code(&error, ttrpc_code_to_errno(code));
	} else {
		char what[128];
		log_call(p->method, p->start_ns, len, "ok");
		snprintf(what, sizeof(what), "%s: reply", p->method);
		resp = pb_unpack(p->desc, payload, len, what, &error);
	}
	count_call(p->agent, error);
	if (p->cb)
		p->cb(resp, error, p->data);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	free(p);
}

int agent_client_call(struct agent_client *a, const char *method, const ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *resp_desc, int timeout_ms,
                      agent_client_cb cb, void *data, husk_err *err)
{
	size_t len = protobuf_c_message_get_packed_size(req);
	cleanup_free uint8_t *buf = malloc(len ? len : 1);
	struct pending *p = calloc(1, sizeof(*p));
	if (!buf || !p) {
		free(p);
		return husk_error_set(err, ENOMEM, "%s", method);
	}
	protobuf_c_message_pack(req, buf);
	*p = (struct pending){.agent = a,
	                      .method = method,
	                      .desc = resp_desc,
	                      .cb = cb,
	                      .data = data,
	                      .start_ns = now_ns()};
	timeout_ms = call_timeout_ms(a, timeout_ms);
	int64_t timeout_ns = timeout_ms > 0 ? (int64_t)timeout_ms * 1000000 : 0;
	if (ttrpc_client_call(a->conn, AGENT_SERVICE, method, buf, len, timeout_ns, on_response, p,
	                      err) < 0) {
		free(p);
		return -1;
	}
	p->next = a->pending;
	a->pending = p;
	return 0;
}

int agent_client_call_sync(struct agent_client *a, const char *method, const ProtobufCMessage *req,
                           const ProtobufCMessageDescriptor *resp_desc, int timeout_ms,
                           ProtobufCMessage **resp, husk_err *err)
{
	int64_t start = now_ns();
	int r = ttrpc_client_call_pb_sync(a->conn, AGENT_SERVICE, method, req, resp_desc,
	                                  call_timeout_ms(a, timeout_ms), resp, err);
	count_call(a, r < 0 ? *err : NULL);
	if (r < 0) {
		log_call(method, start, 0, husk_error_msg(*err));
		return -1;
	}
	log_call(method, start, protobuf_c_message_get_packed_size(*resp), "ok");
	return 0;
}
