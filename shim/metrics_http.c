/*
 * husk metrics --listen: a minimal HTTP/1.1 server for Prometheus scrapes, in one
 * loop: GET (or HEAD) /metrics gathers and answers, then closes the connection.
 * A request must arrive whole within REQUEST_MS and HTTP_REQUEST_MAX bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "metrics.h"

#define HTTP_CONNS       16
#define HTTP_REQUEST_MAX 8192
#define REQUEST_MS       5000
#define SEND_TIMEOUT_S   5

struct http_server;

struct http_conn {
	struct http_server *srv;
	int fd; /* -1: free */
	char buf[HTTP_REQUEST_MAX + 1];
	size_t len;
	int64_t deadline;
};

struct http_server {
	struct husk_loop *loop;
	struct http_conn conns[HTTP_CONNS];
};

static void conn_close(struct http_conn *c)
{
	husk_loop_del(c->srv->loop, c->fd);
	close_fd(&c->fd);
}

static bool send_all(int fd, const char *p, size_t len)
{
	for (size_t o = 0; o < len;) {
		ssize_t w = send(fd, p + o, len - o, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		o += (size_t)w;
	}
	return true;
}

/* The whole answer, blocking up to SEND_TIMEOUT_S per send: a scrape is small and rare. */
static void respond(struct http_conn *c, const char *status, const char *body, size_t len,
                    bool head)
{
	char hdr[256];
	struct timeval tv = {.tv_sec = SEND_TIMEOUT_S};
	int n = snprintf(hdr, sizeof(hdr),
	                 "HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
	                 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	                 status, len);
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (send_all(c->fd, hdr, (size_t)n) && !head)
		send_all(c->fd, body, len);
	conn_close(c);
}

static void respond_text(struct http_conn *c, const char *status, const char *text, bool head)
{
	respond(c, status, text, strlen(text), head);
}

static void serve_metrics(struct http_conn *c, bool head)
{
	cleanup_error husk_err err = NULL;
	struct promtext t = {0};
	if (metrics_text(&t, &err) < 0) {
		log_error("metrics: %s", husk_error_msg(err));
		respond_text(c, "500 Internal Server Error", "metrics could not be gathered\n",
		             head);
	} else {
		respond(c, "200 OK", t.buf ? t.buf : "", t.len, head);
	}
	promtext_free(&t);
}

/* "METHOD /path HTTP/1.x\r\n...": what a scrape sends; headers are not needed. */
static void handle(struct http_conn *c)
{
	char method[8], path[64], version[16];
	if (sscanf(c->buf, "%7s %63s %15s", method, path, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7)) {
		respond_text(c, "400 Bad Request", "bad request\n", false);
		return;
	}
	bool head = !strcmp(method, "HEAD");
	if (!head && strcmp(method, "GET"))
		respond_text(c, "405 Method Not Allowed", "GET or HEAD only\n", false);
	else if (strcmp(path, "/metrics") && strncmp(path, "/metrics?", 9))
		respond_text(c, "404 Not Found", "metrics are at /metrics\n", head);
	else
		serve_metrics(c, head);
}

static int on_readable(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct http_conn *c = data;
	ssize_t n = read(fd, c->buf + c->len, HTTP_REQUEST_MAX - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_close(c);
		return 0;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (strstr(c->buf, "\r\n\r\n") || strstr(c->buf, "\n\n"))
		handle(c);
	else if (c->len == HTTP_REQUEST_MAX)
		respond_text(c, "431 Request Header Fields Too Large", "request too large\n",
		             false);
	return 0;
}

static int on_accept(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct http_server *s = data;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return 0;
	for (size_t i = 0; i < HTTP_CONNS; i++) {
		struct http_conn *c = &s->conns[i];
		if (c->fd >= 0)
			continue;
		*c =
		    (struct http_conn){.srv = s, .fd = cfd, .deadline = deadline_after(REQUEST_MS)};
		if (husk_loop_add(loop, cfd, EPOLLIN, on_readable, c, err) < 0) {
			close_fd(&c->fd);
			return -1;
		}
		return 0;
	}
	close(cfd); /* busy */
	return 0;
}

/* Once a second: requests that did not arrive whole in time are dropped. */
static int on_timer(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct http_server *s = data;
	uint64_t ticks;
	if (read(fd, &ticks, sizeof(ticks)) < 0)
		return 0;
	for (size_t i = 0; i < HTTP_CONNS; i++)
		if (s->conns[i].fd >= 0 && deadline_left(s->conns[i].deadline) == 0)
			conn_close(&s->conns[i]);
	return 0;
}

static int on_signal(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	husk_loop_stop(loop, 0);
	return 0;
}

/* "[HOST:]PORT", HOST a name, an IPv4 address or a bracketed IPv6 one; 127.0.0.1 when absent. */
static int listen_on(const char *addr, husk_err *err)
{
	char host[256] = "127.0.0.1", bound[INET6_ADDRSTRLEN + 16], port[16];
	const char *colon = strrchr(addr, ':'), *p = colon ? colon + 1 : addr;
	if (colon) {
		const char *h = addr;
		size_t hl = (size_t)(colon - addr);
		if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
			h++, hl -= 2;
		if (hl == 0 || hl >= sizeof(host))
			return husk_error_set(err, 0, "--listen %s: not [HOST:]PORT", addr);
		memcpy(host, h, hl);
		host[hl] = '\0';
	}
	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 5 || atoi(p) > 65535)
		return husk_error_set(err, 0, "--listen %s: port %s: not a number from 0 to 65535",
		                      addr, p);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
	int e = getaddrinfo(host, p, &hints, &ai);
	if (e)
		return husk_error_set(err, 0, "--listen %s: %s", addr, gai_strerror(e));
	int one = 1, fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
		husk_error_set(err, errno, "--listen %s", addr);
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, bound, sizeof(bound), port, sizeof(port),
	                NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
		/* the port actually bound (PORT 0 picks one), for whoever started us */
		printf("serving http://%s%s%s:%s/metrics\n", strchr(bound, ':') ? "[" : "", bound,
		       strchr(bound, ':') ? "]" : "", port);
		fflush(stdout);
	}
	return fd;
}

int metrics_serve_http(const char *addr, husk_err *err)
{
	static const int sigs[] = {SIGINT, SIGTERM};
	struct itimerspec tick = {.it_value = {.tv_sec = 1}, .it_interval = {.tv_sec = 1}};
	struct http_server *s = calloc(1, sizeof(*s));
	cleanup_close int lfd = -1, sigfd = -1, timer = -1;
	int r = -1;
	if (!s)
		return husk_error_set(err, ENOMEM, "metrics");
	for (size_t i = 0; i < HTTP_CONNS; i++)
		s->conns[i] = (struct http_conn){.srv = s, .fd = -1};
	if ((lfd = listen_on(addr, err)) < 0 || (sigfd = signals_block_fd(sigs, 2, err)) < 0 ||
	    !(s->loop = husk_loop_new(err)))
		goto out;
	timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (timer < 0 || timerfd_settime(timer, 0, &tick, NULL) < 0) {
		husk_error_set(err, errno, "timerfd");
		goto out;
	}
	if (husk_loop_add(s->loop, lfd, EPOLLIN, on_accept, s, err) < 0 ||
	    husk_loop_add(s->loop, sigfd, EPOLLIN, on_signal, s, err) < 0 ||
	    husk_loop_add(s->loop, timer, EPOLLIN, on_timer, s, err) < 0)
		goto out;
	r = husk_loop_run(s->loop, err) < 0 ? -1 : 0;
out:
	for (size_t i = 0; i < HTTP_CONNS; i++)
		if (s->conns[i].fd >= 0)
			conn_close(&s->conns[i]);
	husk_loop_free(s->loop);
	free(s);
	return r;
}
