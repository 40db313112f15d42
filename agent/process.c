#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "proto/agent.pb-c.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "ttrpc/ttrpc.h"

struct read_req {
	struct ttrpc_call *call;
	uint32_t max_bytes;
	struct stream *s;
	struct read_req *next;
};

struct wait_req {
	struct ttrpc_call *call;
	struct process *p;
	struct wait_req *next;
};

static void stream_init(struct stream *s, struct husk_loop *loop)
{
	s->fd = -1;
	s->loop = loop;
}

struct process *process_new(const char *exec_id, struct husk_loop *loop, husk_err *err)
{
	struct process *p = calloc(1, sizeof(*p));
	if (!p) {
		husk_error_set(err, ENOMEM, "process %s", exec_id);
		return NULL;
	}
	snprintf(p->exec_id, sizeof(p->exec_id), "%s", exec_id);
	p->stdin_fd = -1;
	p->report_fd = -1;
	p->pty_fd = -1;
	stream_init(&p->out, loop);
	stream_init(&p->err, loop);
	return p;
}

static void set_nonblock(int fd)
{
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void process_set_stdio(struct process *p, int stdin_fd, int out_fd, int err_fd)
{
	p->stdin_fd = stdin_fd;
	p->out.fd = out_fd;
	p->err.fd = err_fd;
	set_nonblock(stdin_fd);
	set_nonblock(out_fd);
	set_nonblock(err_fd);
}

int process_set_terminal(struct process *p, int master, husk_err *err)
{
	int out = fcntl(master, F_DUPFD_CLOEXEC, 3);
	int in = out >= 0 && p->want_stdin ? fcntl(master, F_DUPFD_CLOEXEC, 3) : -1;
	if (out < 0 || (p->want_stdin && in < 0)) {
		int e = errno;
		close_fd(&out);
		close(master);
		return husk_error_set(err, e, "terminal: dup pty master");
	}
	p->pty_fd = master;
	process_set_stdio(p, in, out, -1);
	return 0;
}

int process_resize(struct process *p, unsigned cols, unsigned rows, husk_err *err)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	if (p->pty_fd < 0)
		return husk_error_set(err, 0, "process has no terminal");
	if (ioctl(p->pty_fd, TIOCSWINSZ, &ws) < 0)
		return husk_error_set(err, errno, "TIOCSWINSZ");
	return 0;
}

static void unlink_read(struct read_req *r)
{
	struct read_req **pp = &r->s->reads;
	while (*pp && *pp != r)
		pp = &(*pp)->next;
	if (*pp)
		*pp = r->next;
	if (!r->s->reads && r->s->fd >= 0)
		husk_loop_del(r->s->loop, r->s->fd);
}

static void cancel_read(void *data)
{
	struct read_req *r = data;
	unlink_read(r);
	free(r);
}

static void reply_read(struct read_req *r, const uint8_t *data, size_t len, int eof)
{
	Husk__Agent__V1__ReadStreamResponse resp = HUSK__AGENT__V1__READ_STREAM_RESPONSE__INIT;
	resp.data.data = (uint8_t *)data;
	resp.data.len = len;
	resp.eof = eof;
	unlink_read(r);
	ttrpc_call_set_cancel(r->call, NULL, NULL);
	ttrpc_reply_pb(r->call, &resp.base);
	free(r);
}

static void stream_close(struct stream *s)
{
	if (s->fd >= 0) {
		husk_loop_del(s->loop, s->fd);
		close(s->fd);
	}
	s->fd = -1;
	s->eof = 1;
}

static void stream_hit_eof(struct stream *s)
{
	stream_close(s);
	while (s->reads)
		reply_read(s->reads, NULL, 0, 1);
}

static int on_stream_readable(struct husk_loop *loop, int fd, uint32_t events, void *data,
                              husk_err *err)
{
	struct stream *s = data;
	struct read_req *r = s->reads;
	if (!r)
		return 0;
	cleanup_free uint8_t *buf = malloc(r->max_bytes);
	if (!buf) {
		log_warn("stream read: out of memory");
		return 0;
	}
	ssize_t n = read(fd, buf, r->max_bytes);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	/* EIO: a pty whose slave every process has closed */
	if (n < 0 && errno != EIO)
		log_warn("stream read: %s", strerror(errno));
	if (n <= 0)
		stream_hit_eof(s);
	else
		reply_read(r, buf, (size_t)n, 0);
	return 0;
}

void stream_read(struct stream *s, struct ttrpc_call *call, uint32_t max_bytes)
{
	cleanup_error husk_err err = NULL;
	if (s->eof || s->fd < 0) {
		Husk__Agent__V1__ReadStreamResponse resp =
		    HUSK__AGENT__V1__READ_STREAM_RESPONSE__INIT;
		resp.eof = 1;
		ttrpc_reply_pb(call, &resp.base);
		return;
	}
	struct read_req *r = calloc(1, sizeof(*r));
	if (!r) {
		ttrpc_reply(call, TTRPC_RESOURCE_EXHAUSTED, "read: out of memory", NULL, 0);
		return;
	}
	*r = (struct read_req){
	    .call = call, .max_bytes = max_bytes ? max_bytes : AGENT_DEFAULT_IO, .s = s};
	struct read_req **pp = &s->reads;
	while (*pp)
		pp = &(*pp)->next;
	*pp = r;
	ttrpc_call_set_cancel(call, cancel_read, r);
	if (s->reads == r && husk_loop_add(s->loop, s->fd, EPOLLIN, on_stream_readable, s, &err)) {
		log_warn("stream read: %s", husk_error_msg(err));
		stream_hit_eof(s);
	}
}

static void reply_wait(struct ttrpc_call *call, int status)
{
	Husk__Agent__V1__WaitProcessResponse resp = HUSK__AGENT__V1__WAIT_PROCESS_RESPONSE__INIT;
	resp.exit_status = status;
	ttrpc_reply_pb(call, &resp.base);
}

static void cancel_wait(void *data)
{
	struct wait_req *w = data;
	struct wait_req **pp = &w->p->waits;
	while (*pp && *pp != w)
		pp = &(*pp)->next;
	if (*pp)
		*pp = w->next;
	free(w);
}

void process_wait(struct process *p, struct ttrpc_call *call)
{
	if (p->exited) {
		reply_wait(call, p->exit_status);
		return;
	}
	struct wait_req *w = calloc(1, sizeof(*w));
	if (!w) {
		ttrpc_reply(call, TTRPC_RESOURCE_EXHAUSTED, "wait: out of memory", NULL, 0);
		return;
	}
	*w = (struct wait_req){.call = call, .p = p, .next = p->waits};
	p->waits = w;
	ttrpc_call_set_cancel(call, cancel_wait, w);
}

int exit_status_of(int wstatus)
{
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

void process_exited(struct process *p, int wstatus)
{
	p->exited = 1;
	p->exit_status = exit_status_of(wstatus);
	log_info("process %d (%s) exited with status %d", p->pid,
	         p->exec_id[0] ? p->exec_id : "init", p->exit_status);
	while (p->waits) {
		struct wait_req *w = p->waits;
		p->waits = w->next;
		ttrpc_call_set_cancel(w->call, NULL, NULL);
		reply_wait(w->call, p->exit_status);
		free(w);
	}
}

static void reply_written(struct ttrpc_call *call, uint32_t written)
{
	Husk__Agent__V1__WriteStdinResponse resp = HUSK__AGENT__V1__WRITE_STDIN_RESPONSE__INIT;
	resp.written = written;
	ttrpc_reply_pb(call, &resp.base);
}

/* Answers the held write (n bytes taken, or errno e) and stops watching stdin. */
static void release_held(struct process *p, ssize_t n, int e)
{
	struct ttrpc_call *call = call_take(&p->held_call);
	husk_loop_del(p->out.loop, p->stdin_fd);
	free(p->held);
	p->held = NULL;
	if (call && n >= 0)
		reply_written(call, (uint32_t)n);
	else if (call)
		ttrpc_reply_error(call, TTRPC_FAILED_PRECONDITION, "write stdin: %s", strerror(e));
}

static int on_stdin_writable(struct husk_loop *loop, int fd, uint32_t events, void *data,
                             husk_err *err)
{
	struct process *p = data;
	ssize_t n = write(fd, p->held, p->held_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	release_held(p, n, errno);
	return 0;
}

static int hold_write(struct process *p, struct ttrpc_call *call, const uint8_t *data, size_t len,
                      husk_err *err)
{
	if (!(p->held = malloc(len)))
		return husk_error_set(err, ENOMEM, "write stdin");
	memcpy(p->held, data, len);
	p->held_len = len;
	if (husk_loop_add(p->out.loop, p->stdin_fd, EPOLLOUT, on_stdin_writable, p, err) < 0) {
		free(p->held);
		p->held = NULL;
		return -1;
	}
	call_hold(&p->held_call, call);
	return 0;
}

int process_write_stdin(struct process *p, struct ttrpc_call *call, const uint8_t *data, size_t len,
                        uint32_t *written, husk_err *err)
{
	if (p->stdin_fd < 0)
		return husk_error_set(err, 0, "stdin is not open");
	ssize_t n = len && !p->held ? write(p->stdin_fd, data, len) : 0;
	if (n < 0 && errno != EAGAIN)
		return husk_error_set(err, errno, "write stdin");
	/* one write is held at a time; another meanwhile is told 0, as before */
	if (n < 0 && hold_write(p, call, data, len, err) == 0)
		return 0;
	*written = n < 0 ? 0 : (uint32_t)n;
	return 1;
}

void process_close_stdin(struct process *p)
{
	struct termios t;
	if (p->held)
		release_held(p, 0, 0);
	if (p->stdin_fd >= 0 && p->pty_fd >= 0 && tcgetattr(p->pty_fd, &t) == 0 &&
	    (t.c_lflag & ICANON) && write(p->stdin_fd, &t.c_cc[VEOF], 1) < 0)
		log_debug("close stdin: VEOF: %s", strerror(errno));
	close_fd(&p->stdin_fd);
}

static void fail_reads(struct stream *s, const char *why)
{
	while (s->reads) {
		struct read_req *r = s->reads;
		unlink_read(r);
		ttrpc_call_set_cancel(r->call, NULL, NULL);
		ttrpc_reply(r->call, TTRPC_NOT_FOUND, why, NULL, 0);
		free(r);
	}
	stream_close(s);
}

static void forget_call(void *data)
{
	*(struct ttrpc_call **)data = NULL;
}

void call_hold(struct ttrpc_call **slot, struct ttrpc_call *call)
{
	*slot = call;
	ttrpc_call_set_cancel(call, forget_call, slot);
}

struct ttrpc_call *call_take(struct ttrpc_call **slot)
{
	struct ttrpc_call *call = *slot;
	*slot = NULL;
	if (call)
		ttrpc_call_set_cancel(call, NULL, NULL);
	return call;
}

void process_free(struct process *p, const char *why)
{
	if (!p)
		return;
	why = why ? why : "process removed";
	struct ttrpc_call *call = call_take(&p->pending);
	if (call)
		ttrpc_reply(call, TTRPC_NOT_FOUND, why, NULL, 0);
	if (p->report_fd >= 0)
		husk_loop_del(p->out.loop, p->report_fd);
	close_fd(&p->report_fd);
	fail_reads(&p->out, why);
	fail_reads(&p->err, why);
	while (p->waits) {
		struct wait_req *w = p->waits;
		p->waits = w->next;
		ttrpc_call_set_cancel(w->call, NULL, NULL);
		ttrpc_reply(w->call, TTRPC_NOT_FOUND, why, NULL, 0);
		free(w);
	}
	if (p->held)
		release_held(p, 0, 0);
	close_fd(&p->stdin_fd);
	close_fd(&p->pty_fd);
	free(p);
}
