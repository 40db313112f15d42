#include "hybrid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/cleanup.h"
#include "lib/log.h"

struct hybrid_client {
	int fd;
	struct connect_line line;
	int64_t deadline_ms;
	struct hybrid *h;
	struct hybrid_client *next;
};

int connect_line_feed(struct connect_line *l, char ch)
{
	if (ch == '\n')
		return 1;
	if (l->len >= sizeof(l->buf))
		return -1;
	l->buf[l->len++] = ch;
	return 0;
}

int connect_line_parse(const char *s, size_t len, uint32_t *port)
{
	static const char prefix[] = "CONNECT ";
	size_t plen = sizeof(prefix) - 1;
	if (len <= plen || memcmp(s, prefix, plen) != 0 || len - plen > 10)
		return -1;
	uint64_t v = 0;
	for (size_t i = plen; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*port = (uint32_t)v;
	return 0;
}

int hybrid_port_path(char *out, size_t outlen, const char *uds, uint32_t port)
{
	int n = snprintf(out, outlen, "%s_%u", uds, port);
	if (n < 0 || (size_t)n >= outlen || (size_t)n > UDS_PATH_MAX)
		return -1;
	return 0;
}

static int fill_sockaddr(struct sockaddr_un *sa, const char *path)
{
	size_t len = strlen(path);
	if (len == 0 || len > UDS_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, len);
	return 0;
}

int hybrid_connect_port(const char *uds, uint32_t port)
{
	char path[UDS_PATH_MAX + 1];
	struct sockaddr_un sa;
	if (hybrid_port_path(path, sizeof(path), uds, port) < 0 || fill_sockaddr(&sa, path) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* a Unix stream connect completes at once or fails (EAGAIN: backlog full) */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return move_fd(fd);
}

static int remove_stale_socket(const char *path, const struct sockaddr_un *sa, husk_err *err)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return husk_error_set(err, errno, "stat %s", path);
	}
	if (!S_ISSOCK(st.st_mode))
		return husk_error_set(err, EEXIST, "%s exists and is not a socket", path);
	cleanup_close int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return husk_error_set(err, errno, "socket");
	if (connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return husk_error_set(err, EADDRINUSE, "%s is in use by a live listener", path);
	if (errno != ECONNREFUSED)
		return husk_error_set(err, errno, "probe %s", path);
	log_info("removing stale socket %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return husk_error_set(err, errno, "unlink %s", path);
	return 0;
}

int uds_listen(const char *path, husk_err *err)
{
	struct sockaddr_un sa;
	if (fill_sockaddr(&sa, path) < 0)
		return husk_error_set(err, ENAMETOOLONG, "socket path %s", path);
	if (remove_stale_socket(path, &sa, err) < 0)
		return -1;
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return husk_error_set(err, errno, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return husk_error_set(err, errno, "bind %s", path);
	if (listen(fd, 128) < 0) {
		int e = errno;
		unlink(path);
		return husk_error_set(err, e, "listen %s", path);
	}
	return move_fd(fd);
}

static int on_listener_readable(struct husk_loop *loop, int fd, uint32_t events, void *data,
                                husk_err *err);

/* At the client cap further clients wait in the listen backlog until a slot frees. */
static void listener_pause(struct hybrid *h, bool pause)
{
	if (pause == h->paused || h->listen_fd < 0)
		return;
	cleanup_error husk_err err = NULL;
	if (pause) {
		husk_loop_del(h->loop, h->listen_fd);
	} else if (husk_loop_add(h->loop, h->listen_fd, EPOLLIN, on_listener_readable, h, &err) <
	           0) {
		log_error("hybrid listener: %s", husk_error_msg(err));
		return;
	}
	h->paused = pause;
}

static void client_free(struct hybrid *h, struct hybrid_client *cl, bool close_fd)
{
	struct hybrid_client **pp = &h->clients;
	while (*pp && *pp != cl)
		pp = &(*pp)->next;
	if (*pp)
		*pp = cl->next;
	h->nclients--;
	husk_loop_del(h->loop, cl->fd);
	if (close_fd)
		close(cl->fd);
	free(cl);
	listener_pause(h, false);
}

/* Reads one byte at a time so that stream bytes after the '\n' stay in the socket. */
static int on_client_readable(struct husk_loop *loop, int fd, uint32_t events, void *data,
                              husk_err *err)
{
	struct hybrid_client *cl = data;
	struct hybrid *h = cl->h;
	for (;;) {
		char ch;
		ssize_t n = read(fd, &ch, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			client_free(h, cl, true);
			return 0;
		}
		int r = connect_line_feed(&cl->line, ch);
		if (r == 0)
			continue;
		uint32_t port;
		if (r < 0 || connect_line_parse(cl->line.buf, cl->line.len, &port) < 0) {
			log_warn("hybrid client sent a malformed CONNECT line; closing it");
			client_free(h, cl, true);
			return 0;
		}
		client_free(h, cl, false);
		h->on_connect(h->cb_data, fd, port);
		return 0;
	}
}

static int on_listener_readable(struct husk_loop *loop, int fd, uint32_t events, void *data,
                                husk_err *err)
{
	struct hybrid *h = data;
	while (h->nclients < HYBRID_MAX_CLIENTS) {
		cleanup_close int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				log_warn("accept on %s: %s", h->path, strerror(errno));
			return 0;
		}
		struct hybrid_client *cl = calloc(1, sizeof(*cl));
		if (!cl)
			continue;
		cl->fd = cfd;
		cl->h = h;
		cl->deadline_ms = monotonic_ms() + CONNECT_TIMEOUT_MS;
		if (husk_loop_add(loop, cfd, EPOLLIN, on_client_readable, cl, err) < 0) {
			log_warn("%s", husk_error_msg(*err));
			husk_error_free(err);
			free(cl);
			continue;
		}
		move_fd(cfd);
		cl->next = h->clients;
		h->clients = cl;
		h->nclients++;
	}
	listener_pause(h, true);
	return 0;
}

int hybrid_init(struct hybrid *h, struct husk_loop *loop, const char *path, hybrid_connect_cb cb,
                void *cb_data, husk_err *err)
{
	memset(h, 0, sizeof(*h));
	h->listen_fd = -1;
	if (strlen(path) > HYBRID_UDS_PATH_MAX)
		return husk_error_set(err, ENAMETOOLONG, "uds path %s (at most %zu bytes)", path,
		                      (size_t)HYBRID_UDS_PATH_MAX);
	int fd = uds_listen(path, err);
	if (fd < 0)
		return -1;
	strcpy(h->path, path);
	h->loop = loop;
	h->on_connect = cb;
	h->cb_data = cb_data;
	h->listen_fd = fd;
	if (husk_loop_add(loop, fd, EPOLLIN, on_listener_readable, h, err) < 0) {
		hybrid_fini(h);
		return -1;
	}
	return 0;
}

void hybrid_fini(struct hybrid *h)
{
	while (h->clients)
		client_free(h, h->clients, true);
	if (h->listen_fd >= 0) {
		if (!h->paused)
			husk_loop_del(h->loop, h->listen_fd);
		close(h->listen_fd);
		unlink(h->path);
		h->listen_fd = -1;
	}
}

void hybrid_expire(struct hybrid *h, int64_t now_ms)
{
	struct hybrid_client *cl = h->clients;
	while (cl) {
		struct hybrid_client *next = cl->next;
		if (now_ms >= cl->deadline_ms) {
			log_warn("hybrid client did not send its CONNECT line in time; closing it");
			client_free(h, cl, true);
		}
		cl = next;
	}
}
