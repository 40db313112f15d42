#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"

struct out_stream {
	struct stdio_relay *relay;
	const char *method; /* "ReadStdout" or "ReadStderr" */
	int fd;
	bool watched; /* waiting for EPOLLOUT */
	bool eof;
	bool broken; /* the host reader went away: output is discarded */
	uint8_t *buf;
	size_t len, off;
};

struct in_stream {
	struct stdio_relay *relay;
	int fd;
	bool watched;
	bool done;
	uint8_t *buf;
	size_t len, off;
};

struct stdio_relay {
	struct husk_loop *loop;
	struct agent_client *agent;
	const char *container_id, *exec_id;
	struct in_stream in;
	struct out_stream out, err;
	stdio_relay_cb cb;
	void *data;
	husk_err error;
	bool notified;
};

/* A private non-blocking description for pipes and terminals; a plain dup otherwise. */
static int reopen_fd(int fd, int mode, husk_err *err)
{
	struct stat st;
	char path[64];
	if (fstat(fd, &st) < 0)
		return husk_error_set(err, errno, "fd %d", fd);
	if (S_ISFIFO(st.st_mode) || (S_ISCHR(st.st_mode) && isatty(fd))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		int r = open(path, mode | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (r >= 0)
			return r;
	}
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (r < 0)
		return husk_error_set(err, errno, "dup fd %d", fd);
	return r;
}

static void notify(struct stdio_relay *r)
{
	if (r->notified)
		return;
	r->notified = true;
	r->cb(r, r->data);
}

/* Records the first failure (error stays the caller's) and tells the owner. */
static void fail(struct stdio_relay *r, husk_err error, const char *what)
{
	if (!r->error) {
		husk_error_set(&r->error, 0, "%s: %s", what, husk_error_msg(error));
		if (error)
			husk_error_set_code(&r->error, error->code);
	}
	notify(r);
}

bool stdio_relay_done(struct stdio_relay *r)
{
	return r->out.eof && r->err.eof && r->out.off == r->out.len && r->err.off == r->err.len;
}

husk_err stdio_relay_error(struct stdio_relay *r)
{
	return r->error;
}

/* --- output: ReadStdout/ReadStderr -> host fd ------------------------------------------ */

static int request_output(struct out_stream *s, husk_err *err);
static int on_out_writable(struct husk_loop *loop, int fd, uint32_t events, void *data,
                           husk_err *err);

/* 1: all written, 0: waiting for the fd to drain, -1: error */
static int flush_output(struct out_stream *s, husk_err *err)
{
	while (s->off < s->len && !s->broken) {
		ssize_t n = write(s->fd, s->buf + s->off, s->len - s->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!s->watched && husk_loop_add(s->relay->loop, s->fd, EPOLLOUT,
			                                 on_out_writable, s, err) < 0)
				return -1;
			s->watched = true;
			return 0;
		}
		if (n < 0) {
			log_debug("%s: host side gone (%s), discarding output", s->method,
			          strerror(errno));
			s->broken = true;
			break;
		}
		s->off += (size_t)n;
	}
	s->off = s->len = 0;
	if (s->watched) {
		husk_loop_del(s->relay->loop, s->fd);
		s->watched = false;
	}
	return 1;
}

static int output_flushed(struct out_stream *s, husk_err *err)
{
	if (!s->eof)
		return request_output(s, err);
	if (stdio_relay_done(s->relay))
		notify(s->relay);
	return 0;
}

static int on_out_writable(struct husk_loop *loop, int fd, uint32_t events, void *data,
                           husk_err *err)
{
	struct out_stream *s = data;
	int r = flush_output(s, err);
	if (r <= 0)
		return r;
	return output_flushed(s, err);
}

static void on_output(ProtobufCMessage *msg, husk_err error, void *data)
{
	struct out_stream *s = data;
	cleanup_error husk_err err = NULL;
	Husk__Agent__V1__ReadStreamResponse *resp = (void *)msg;

	if (!resp) {
		fail(s->relay, error, "stdio relay");
		return;
	}
	if (resp->data.len > STDIO_CHUNK) {
		husk_error_set(&err, EPROTO, "agent sent %zu bytes, asked for at most %u",
		               resp->data.len, STDIO_CHUNK);
		fail(s->relay, err, s->method);
		return;
	}
	if (resp->data.len)
		memcpy(s->buf, resp->data.data, resp->data.len);
	s->len = resp->data.len;
	s->off = 0;
	s->eof = resp->eof;
	int r = flush_output(s, &err);
	if (r > 0)
		r = output_flushed(s, &err);
	if (r < 0)
		fail(s->relay, err, s->method);
}

static int request_output(struct out_stream *s, husk_err *err)
{
	struct stdio_relay *r = s->relay;
	Husk__Agent__V1__ReadStreamRequest req = HUSK__AGENT__V1__READ_STREAM_REQUEST__INIT;
	req.container_id = (char *)r->container_id;
	req.exec_id = (char *)r->exec_id;
	req.max_bytes = STDIO_CHUNK;
	return agent_client_call(r->agent, s->method, &req.base,
	                         &husk__agent__v1__read_stream_response__descriptor,
	                         AGENT_CALL_LONG_POLL, on_output, s, err);
}

/* --- input: host fd -> WriteStdin / CloseStdin ------------------------------------------ */

static int pump_input(struct in_stream *s, husk_err *err);

static void input_finished(struct in_stream *s, const char *why)
{
	if (why)
		log_debug("stdin relay stopped: %s", why);
	s->done = true;
	if (s->watched) {
		husk_loop_del(s->relay->loop, s->fd);
		s->watched = false;
	}
}

static void on_stdin_closed(ProtobufCMessage *msg, husk_err error, void *data)
{
	input_finished(data, msg ? NULL : husk_error_msg(error));
}

static int send_input(struct in_stream *s, husk_err *err);

static void on_written(ProtobufCMessage *msg, husk_err error, void *data)
{
	struct in_stream *s = data;
	cleanup_error husk_err err = NULL;
	Husk__Agent__V1__WriteStdinResponse *resp = (void *)msg;

	if (!resp) {
		/* The process closed its stdin or exited: nothing more to feed. */
		input_finished(s, husk_error_msg(error));
		return;
	}
	if (resp->written > s->len - s->off) {
		husk_error_set(&err, EPROTO, "agent claims %u bytes written of %zu", resp->written,
		               s->len - s->off);
		fail(s->relay, err, "WriteStdin");
		return;
	}
	s->off += resp->written;
	int r = s->off < s->len ? send_input(s, &err) : pump_input(s, &err);
	if (r < 0)
		fail(s->relay, err, "stdin");
}

static int send_input(struct in_stream *s, husk_err *err)
{
	struct stdio_relay *r = s->relay;
	Husk__Agent__V1__WriteStdinRequest req = HUSK__AGENT__V1__WRITE_STDIN_REQUEST__INIT;
	req.container_id = (char *)r->container_id;
	req.exec_id = (char *)r->exec_id;
	req.data.data = s->buf + s->off;
	req.data.len = s->len - s->off;
	return agent_client_call(r->agent, "WriteStdin", &req.base,
	                         &husk__agent__v1__write_stdin_response__descriptor,
	                         AGENT_CALL_LONG_POLL, on_written, s, err);
}

static int close_input(struct in_stream *s, husk_err *err)
{
	struct stdio_relay *r = s->relay;
	Husk__Agent__V1__ProcessRequest req = HUSK__AGENT__V1__PROCESS_REQUEST__INIT;
	req.container_id = (char *)r->container_id;
	req.exec_id = (char *)r->exec_id;
	input_finished(s, NULL);
	return agent_client_call(r->agent, "CloseStdin", &req.base,
	                         &husk__agent__v1__empty__descriptor, 0, on_stdin_closed, s, err);
}

static int on_in_readable(struct husk_loop *loop, int fd, uint32_t events, void *data,
                          husk_err *err)
{
	return pump_input(data, err);
}

/* Reads the next chunk when one is available; while a chunk is in flight nothing is read. */
static int pump_input(struct in_stream *s, husk_err *err)
{
	ssize_t n;
	do
		n = read(s->fd, s->buf, STDIO_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN) {
		if (!s->watched &&
		    husk_loop_add(s->relay->loop, s->fd, EPOLLIN, on_in_readable, s, err) < 0)
			return -1;
		s->watched = true;
		return 0;
	}
	if (n < 0)
		log_debug("stdin: %s, closing the process's stdin", strerror(errno));
	if (n <= 0)
		return close_input(s, err);
	if (s->watched) {
		husk_loop_del(s->relay->loop, s->fd);
		s->watched = false;
	}
	s->len = (size_t)n;
	s->off = 0;
	return send_input(s, err);
}

/* --- lifetime --------------------------------------------------------------------------- */

static int init_out(struct stdio_relay *r, struct out_stream *s, const char *method, int fd,
                    husk_err *err)
{
	*s = (struct out_stream){.relay = r, .method = method, .fd = -1};
	s->buf = malloc(STDIO_CHUNK);
	if (!s->buf)
		return husk_error_set(err, ENOMEM, "%s buffer", method);
	if (fd < 0) {
		s->broken = true;
		return 0;
	}
	s->fd = reopen_fd(fd, O_WRONLY, err);
	return s->fd < 0 ? -1 : 0;
}

struct stdio_relay *stdio_relay_new(struct husk_loop *loop, struct agent_client *agent,
                                    const char *container_id, const char *exec_id, int in_fd,
                                    int out_fd, int err_fd, stdio_relay_cb cb, void *data,
                                    husk_err *err)
{
	struct stdio_relay *r = calloc(1, sizeof(*r));
	if (!r) {
		husk_error_set(err, ENOMEM, "stdio relay");
		return NULL;
	}
	*r = (struct stdio_relay){.loop = loop,
	                          .agent = agent,
	                          .container_id = container_id,
	                          .exec_id = exec_id,
	                          .cb = cb,
	                          .data = data};
	r->in = (struct in_stream){.relay = r, .fd = -1, .done = in_fd < 0};
	if (init_out(r, &r->out, "ReadStdout", out_fd, err) < 0 ||
	    init_out(r, &r->err, "ReadStderr", err_fd, err) < 0)
		goto fail;
	if (in_fd >= 0) {
		r->in.buf = malloc(STDIO_CHUNK);
		if (!r->in.buf) {
			husk_error_set(err, ENOMEM, "stdin buffer");
			goto fail;
		}
		r->in.fd = reopen_fd(in_fd, O_RDONLY, err);
		if (r->in.fd < 0)
			goto fail;
	}
	return r;
fail:
	stdio_relay_free(r);
	return NULL;
}

int stdio_relay_start(struct stdio_relay *r, husk_err *err)
{
	if (request_output(&r->out, err) < 0 || request_output(&r->err, err) < 0)
		return -1;
	if (r->in.done)
		return 0;
	/* Files and /dev/null cannot be polled: they are always readable. */
	if (husk_loop_add(r->loop, r->in.fd, EPOLLIN, on_in_readable, &r->in, err) < 0) {
		if ((*err)->code != EPERM)
			return -1;
		husk_error_free(err);
		return pump_input(&r->in, err);
	}
	r->in.watched = true;
	return 0;
}

static void free_out(struct stdio_relay *r, struct out_stream *s)
{
	agent_client_forget(r->agent, s);
	if (s->watched)
		husk_loop_del(r->loop, s->fd);
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
}

void stdio_relay_free(struct stdio_relay *r)
{
	if (!r)
		return;
	free_out(r, &r->out);
	free_out(r, &r->err);
	agent_client_forget(r->agent, &r->in);
	if (r->in.watched)
		husk_loop_del(r->loop, r->in.fd);
	if (r->in.fd >= 0)
		close(r->in.fd);
	free(r->in.buf);
	husk_error_free(&r->error);
	free(r);
}

int relay_signals_fd(husk_err *err)
{
	static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	return signals_block_fd(forwarded, ARRAY_SIZE(forwarded), err);
}
