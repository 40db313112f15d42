#include "auth.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/log.h"

struct waiting {
	struct auth_gate *g;
	int fd; /* -1: free */
	char buf[TOKEN_PREAMBLE_LEN];
	size_t len;
	unsigned long seq; /* admission order: the smallest goes first when full */
	int64_t deadline;
};

struct auth_gate {
	struct husk_loop *loop;
	const struct token *token;
	struct ttrpc_server *srv;
	struct waiting waiting[AUTH_PENDING];
	unsigned long next_seq;
	int timer; /* ticks each second while a connection waits */
	bool armed;
};

static void arm(struct auth_gate *g, bool on)
{
	struct itimerspec tick = {.it_value = {.tv_sec = on}, .it_interval = {.tv_sec = on}};
	if (g->armed != on && timerfd_settime(g->timer, 0, &tick, NULL) == 0)
		g->armed = on;
}

static void drop(struct waiting *w)
{
	husk_loop_del(w->g->loop, w->fd);
	close_fd(&w->fd);
}

static void serve(struct auth_gate *g, int fd)
{
	cleanup_error husk_err e = NULL;
	log_info("host connected");
	if (ttrpc_server_add_conn(g->srv, fd, &e) < 0)
		log_warn("serve connection: %s", husk_error_msg(e));
}

static int on_readable(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct waiting *w = data;
	ssize_t n = read(fd, w->buf + w->len, TOKEN_PREAMBLE_LEN - w->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		drop(w);
		return 0;
	}
	w->len += (size_t)n;
	if (w->len < TOKEN_PREAMBLE_LEN)
		return 0;
	if (!token_preamble_matches(w->g->token, w->buf)) {
		log_warn("a connection without this sandbox's token refused");
		drop(w);
		return 0;
	}
	husk_loop_del(loop, fd);
	w->fd = -1;
	serve(w->g, fd);
	return 0;
}

/* Once a second: connections that did not show the token in time are closed. */
static int on_tick(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct auth_gate *g = data;
	uint64_t ticks;
	if (read(fd, &ticks, sizeof(ticks)) < 0)
		return 0;
	bool waiting = false;
	for (size_t i = 0; i < AUTH_PENDING; i++) {
		struct waiting *w = &g->waiting[i];
		if (w->fd >= 0 && deadline_left(w->deadline) == 0) {
			log_warn("a connection that did not show the token within %d ms closed",
			         AUTH_WAIT_MS);
			drop(w);
		}
		waiting |= w->fd >= 0;
	}
	arm(g, waiting);
	return 0;
}

struct auth_gate *auth_gate_new(struct husk_loop *loop, const struct token *token,
                                struct ttrpc_server *srv, husk_err *err)
{
	struct auth_gate *g = calloc(1, sizeof(*g));
	if (!g) {
		husk_error_set(err, ENOMEM, "auth gate");
		return NULL;
	}
	*g = (struct auth_gate){.loop = loop, .token = token, .srv = srv, .timer = -1};
	for (size_t i = 0; i < AUTH_PENDING; i++)
		g->waiting[i] = (struct waiting){.g = g, .fd = -1};
	if (!token)
		return g;
	g->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (g->timer < 0) {
		husk_error_set(err, errno, "auth gate timer");
		auth_gate_free(g);
		return NULL;
	}
	if (husk_loop_add(loop, g->timer, EPOLLIN, on_tick, g, err) < 0) {
		auth_gate_free(g);
		return NULL;
	}
	return g;
}

/* A free slot, or the oldest one emptied. */
static struct waiting *slot(struct auth_gate *g)
{
	struct waiting *oldest = &g->waiting[0];
	for (size_t i = 0; i < AUTH_PENDING; i++) {
		if (g->waiting[i].fd < 0)
			return &g->waiting[i];
		if (g->waiting[i].seq < oldest->seq)
			oldest = &g->waiting[i];
	}
	log_warn("more than %d connections wait to show the token: the oldest closed",
	         AUTH_PENDING);
	drop(oldest);
	return oldest;
}

void auth_gate_admit(struct auth_gate *g, int fd)
{
	cleanup_error husk_err e = NULL;
	if (!g->token) {
		serve(g, fd);
		return;
	}
	struct waiting *w = slot(g);
	w->fd = fd;
	w->len = 0;
	w->seq = g->next_seq++;
	w->deadline = deadline_after(AUTH_WAIT_MS);
	arm(g, true);
	if (husk_loop_add(g->loop, fd, EPOLLIN, on_readable, w, &e) < 0) {
		log_warn("connection: %s", husk_error_msg(e));
		close_fd(&w->fd);
	}
}

void auth_gate_free(struct auth_gate *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < AUTH_PENDING; i++)
		if (g->waiting[i].fd >= 0)
			drop(&g->waiting[i]);
	if (g->timer >= 0)
		husk_loop_del(g->loop, g->timer);
	close_fd(&g->timer);
	free(g);
}
