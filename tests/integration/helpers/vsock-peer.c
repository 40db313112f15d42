/*
 * Host side of the vsock tests and benchmark. Talks to the guest test program
 * (tests/guest/vsock-test.c) through husk-vsockd's hybrid Unix socket
 * ("CONNECT <port>\n" -> "OK <n>\n", then raw bytes), dialing with the
 * project's vsock_dial() like the shim does.
 *
 *   vsock-peer MODE --uds PATH [options]
 *   echo      K connections each send BYTES and check the echo, concurrently
 *   sink      K connections each send BYTES; the guest's "COUNT FNV" must match
 *   discard   like sink, but the guest only counts (benchmarks the transport)
 *   source    K connections each receive BYTES of a known stream from the guest
 *   push      listen on PATH_<port>, ask the guest (port 5005) for K streams of BYTES
 *   refused   CONNECT to a port nobody listens on: must be closed before OK
 *   ready     listen on PATH_6001 and print the guest's "READY <boot id>" line
 *   reboot    ask the guest to reboot (port 5003); poweroff: power off (port 5004)
 * Options: --port P, --bytes N, --conns K, --repeat R (run the set R times, in
 * sequence: connect latency), --seed S, --timeout-ms T (whole run deadline),
 * --baseline (serve echo/sink/source on a private plain Unix socket instead),
 * --notify (print "CONNECTED" as soon as every connection of the first round got its OK).
 * Prints one "MODE: key=value ..." line; any failure is one line on stderr, exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "tests/guest/pattern.h"
#include "tests/guest/services.h"
#include "hypervisor/vsock/dial.h"

/* The data modes come first, up to M_PUSH; --baseline serves those before M_PUSH. */
enum mode { M_ECHO, M_SINK, M_DISCARD, M_SOURCE, M_PUSH, M_REFUSED, M_READY, M_REBOOT, M_POWEROFF };
static const char *const mode_names[] = {"echo",    "sink",  "discard", "source",  "push",
                                         "refused", "ready", "reboot",  "poweroff"};

/* What a connection expects after its pattern bytes, before EOF. */
enum reply { R_NONE, R_SUM, R_COUNT, R_PUSH_OK };
/* Where a connection is: awaiting "OK", awaiting a header line (accepted), streaming. */
enum phase { P_HANDSHAKE, P_HEADER, P_STREAM };

struct opts {
	enum mode mode;
	const char *uds;
	unsigned port;
	uint64_t bytes;
	unsigned conns;
	unsigned repeat;
	uint64_t seed;
	int timeout_ms;
	bool baseline;
	bool notify;
};

struct peer;

struct conn {
	struct peer *peer;
	int fd;
	unsigned index;
	enum phase phase;
	enum reply reply;
	bool lenient_close; /* reboot/poweroff: a reset counts as the end */
	bool accepted;      /* guest-initiated: answers "COUNT FNV" at the end */
	bool reply_seen;
	char line[SERVICE_LINE_MAX];
	size_t line_len;
	char req[SERVICE_LINE_MAX];
	size_t req_len, req_done;
	uint64_t tx_len, tx_done, tx_seed, tx_fnv;
	uint64_t rx_len, rx_done, rx_seed, rx_fnv;
	bool tx_shut;
	double t_start;
};

struct peer {
	const struct opts *o;
	struct husk_loop *loop;
	struct conn *conns;
	unsigned nconns, remaining, accepted, nclients;
	int listen_fd;
	char listen_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	double connect_sum, connect_max;
	unsigned connect_count;
	char ready_line[SERVICE_LINE_MAX];
};

/* Milliseconds with a fraction: connect latencies on a Unix socket are well below 1 ms. */
static double precise_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int unix_addr(const char *path, struct sockaddr_un *sa, husk_err *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return husk_error_set(err, ENAMETOOLONG, "socket path %s", path);
	strcpy(sa->sun_path, path);
	return 0;
}

/* Connects to the hybrid socket and sends the CONNECT line; the answer is read by the loop. */
static int hybrid_start(const char *uds, unsigned port, husk_err *err)
{
	struct sockaddr_un sa;
	char line[32];
	int n;
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return husk_error_set(err, errno, "socket");
	if (unix_addr(uds, &sa, err) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return husk_error_set(err, errno, "connect %s", uds);
	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write_all(fd, line, (size_t)n, err) < 0)
		return husk_error_prefix(err, "%s", uds);
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return husk_error_set(err, errno, "fcntl");
	return move_fd(fd);
}

static void conn_close(struct conn *c)
{
	husk_loop_del(c->peer->loop, c->fd);
	close_fd(&c->fd);
	c->peer->remaining--;
}

static unsigned client_port(const struct opts *o);

static int conn_fail(struct conn *c, husk_err *err)
{
	const struct opts *o = c->peer->o;

	return husk_error_prefix(err, "%s %u (port %u)", c->accepted ? "stream" : "connection",
	                         c->index, c->accepted ? o->port : client_port(o));
}

static int conn_want(struct conn *c, husk_err *err)
{
	bool out = c->phase == P_STREAM && !c->tx_shut;

	return husk_loop_mod(c->peer->loop, c->fd, EPOLLIN | (out ? EPOLLOUT : 0), err);
}

/* Appends one byte to the line buffer; returns 1 when the line is complete. */
static int line_byte(struct conn *c, char ch, husk_err *err)
{
	if (ch == '\n') {
		c->line[c->line_len] = '\0';
		c->line_len = 0;
		return 1;
	}
	if (c->line_len + 1 >= sizeof(c->line))
		return husk_error_set(err, 0, "line longer than %zu bytes", sizeof(c->line) - 1);
	c->line[c->line_len++] = ch;
	return 0;
}

/* Only the refused mode reads the handshake itself: any answer line means it was accepted. */
static int on_refused_answer(struct conn *c, husk_err *err)
{
	return husk_error_set(err, 0, "port with no listener answered '%.40s'", c->line);
}

static void on_connected(struct conn *c)
{
	struct peer *p = c->peer;
	double ms = precise_ms() - c->t_start;

	p->connect_sum += ms;
	p->connect_count++;
	if (ms > p->connect_max)
		p->connect_max = ms;
	c->phase = P_STREAM;
	if (p->o->notify && p->connect_count == p->nclients) {
		printf("CONNECTED\n");
		fflush(stdout);
	}
}

/* Accepted connections start with a header line: "READY <id>" or "STREAM <index>". */
static int on_header_line(struct conn *c, husk_err *err)
{
	struct peer *p = c->peer;
	unsigned index;

	if (p->o->mode == M_READY) {
		if (strncmp(c->line, "READY ", 6) != 0)
			return husk_error_set(err, 0, "expected READY, got '%.40s'", c->line);
		snprintf(p->ready_line, sizeof(p->ready_line), "%s", c->line);
		c->phase = P_STREAM;
		return 0;
	}
	if (sscanf(c->line, "STREAM %u", &index) != 1 || index >= p->o->conns)
		return husk_error_set(err, 0, "bad stream header '%.40s'", c->line);
	c->index = index;
	c->rx_seed = p->o->seed + index;
	c->rx_len = p->o->bytes;
	c->reply = R_NONE;
	c->phase = P_STREAM;
	return 0;
}

static int read_line_phase(struct conn *c, husk_err *err)
{
	for (;;) {
		char ch;
		ssize_t n = read(c->fd, &ch, 1);
		int r;

		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0 && c->phase == P_HANDSHAKE && c->peer->o->mode == M_REFUSED &&
		    errno == ECONNRESET)
			n = 0;
		if (n < 0)
			return husk_error_set(err, errno, "read");
		if (n == 0) {
			if (c->phase == P_HANDSHAKE && c->peer->o->mode == M_REFUSED) {
				conn_close(c);
				return 0;
			}
			return husk_error_set(err, 0, "closed before %s",
			                      c->phase == P_HANDSHAKE ? "OK" : "header line");
		}
		r = line_byte(c, ch, err);
		if (r < 0)
			return -1;
		if (r == 1)
			return c->phase == P_HANDSHAKE ? on_refused_answer(c, err)
			                               : on_header_line(c, err);
	}
}

static int check_reply(struct conn *c, husk_err *err)
{
	char expect[SERVICE_LINE_MAX];

	if (c->reply == R_SUM)
		snprintf(expect, sizeof(expect), "%" PRIu64 " %016" PRIx64, c->tx_len, c->tx_fnv);
	else if (c->reply == R_COUNT)
		snprintf(expect, sizeof(expect), "%" PRIu64, c->tx_len);
	else
		snprintf(expect, sizeof(expect), "OK %u", c->peer->o->conns);
	if (strcmp(c->line, expect) != 0)
		return husk_error_set(err, 0, "reply '%.40s', expected '%s'", c->line, expect);
	return 0;
}

/* End of the guest's stream: everything expected must have arrived. */
static int on_eof(struct conn *c, husk_err *err)
{
	if (c->rx_done != c->rx_len)
		return husk_error_set(err, 0, "stream ended after %" PRIu64 " of %" PRIu64 " bytes",
		                      c->rx_done, c->rx_len);
	if (c->reply != R_NONE) {
		if (!c->reply_seen)
			return husk_error_set(err, 0, "no reply line before end of stream");
		if (check_reply(c, err) < 0)
			return -1;
	}
	if (c->accepted && c->peer->o->mode == M_PUSH) {
		char reply[SERVICE_LINE_MAX];
		int n = snprintf(reply, sizeof(reply), "%" PRIu64 " %016" PRIx64 "\n", c->rx_done,
		                 c->rx_fnv);

		if (fcntl(c->fd, F_SETFL, 0) < 0 || write_all(c->fd, reply, (size_t)n, err) < 0)
			return -1;
	}
	if (!c->tx_shut)
		return husk_error_set(err, 0, "peer closed while %" PRIu64 " bytes unsent",
		                      c->tx_len - c->tx_done);
	conn_close(c);
	return 0;
}

/* Pattern bytes are checked as they come; bytes after them form the reply line. */
static int consume(struct conn *c, const char *buf, size_t n, husk_err *err)
{
	size_t pat = c->rx_len - c->rx_done < n ? (size_t)(c->rx_len - c->rx_done) : n;
	size_t bad = pattern_check(c->rx_seed, c->rx_done, buf, pat);

	if (bad != pat)
		return husk_error_set(err, 0, "byte %" PRIu64 " differs from the sent stream",
		                      c->rx_done + bad);
	c->rx_fnv = fnv_update(c->rx_fnv, buf, pat);
	c->rx_done += pat;
	for (size_t i = pat; i < n; i++) {
		int r;

		if (c->reply == R_NONE || c->reply_seen)
			return husk_error_set(err, 0, "%zu bytes beyond the expected %" PRIu64,
			                      n - i, c->rx_len);
		r = line_byte(c, buf[i], err);
		if (r < 0)
			return -1;
		c->reply_seen = r == 1;
	}
	return 0;
}

static int on_readable(struct conn *c, husk_err *err)
{
	static char buf[SERVICE_CHUNK];

	if (c->phase != P_STREAM)
		return read_line_phase(c, err);
	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));

		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0 && c->lenient_close) {
			c->tx_shut = true;
			n = 0;
		}
		if (n < 0)
			return husk_error_set(err, errno, "read");
		if (n == 0)
			return on_eof(c, err);
		if (consume(c, buf, (size_t)n, err) < 0)
			return -1;
	}
}

static int on_writable(struct conn *c, husk_err *err)
{
	static char buf[SERVICE_CHUNK];

	while (c->req_done < c->req_len) {
		ssize_t n = write(c->fd, c->req + c->req_done, c->req_len - c->req_done);

		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return husk_error_set(err, errno, "write request");
		c->req_done += (size_t)n;
	}
	while (c->tx_done < c->tx_len) {
		size_t len = c->tx_len - c->tx_done < sizeof(buf) ? (size_t)(c->tx_len - c->tx_done)
		                                                  : sizeof(buf);
		ssize_t n;

		pattern_fill(c->tx_seed, c->tx_done, buf, len);
		n = write(c->fd, buf, len);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return husk_error_set(err, errno, "write after %" PRIu64 " bytes",
			                      c->tx_done);
		c->tx_fnv = fnv_update(c->tx_fnv, buf, (size_t)n);
		c->tx_done += (uint64_t)n;
	}
	if (shutdown(c->fd, SHUT_WR) < 0 && !c->lenient_close)
		return husk_error_set(err, errno, "shutdown");
	c->tx_shut = true;
	return conn_want(c, err);
}

static int on_conn_event(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct conn *c = data;
	int r = 0;

	if (events & EPOLLOUT)
		r = on_writable(c, err);
	if (r == 0 && c->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		r = on_readable(c, err);
	return r < 0 ? conn_fail(c, err) : 0;
}

static void conn_init(struct peer *p, struct conn *c, unsigned index)
{
	memset(c, 0, sizeof(*c));
	c->peer = p;
	c->fd = -1;
	c->index = index;
	c->tx_fnv = FNV_INIT;
	c->rx_fnv = FNV_INIT;
}

/* Sets what a client connection sends and expects, by mode. */
static void client_plan(const struct opts *o, struct conn *c)
{
	uint64_t seed = o->seed + c->index;

	switch (o->mode) {
	case M_ECHO:
		c->tx_len = c->rx_len = o->bytes;
		c->tx_seed = c->rx_seed = seed;
		break;
	case M_SINK:
	case M_DISCARD:
		c->tx_len = o->bytes;
		c->tx_seed = seed;
		c->reply = o->mode == M_SINK ? R_SUM : R_COUNT;
		break;
	case M_SOURCE:
		c->req_len = (size_t)snprintf(c->req, sizeof(c->req), "%" PRIu64 " %" PRIu64 "\n",
		                              o->bytes, seed);
		c->rx_len = o->bytes;
		c->rx_seed = seed;
		break;
	case M_PUSH:
		c->req_len =
		    (size_t)snprintf(c->req, sizeof(c->req), "%u %u %" PRIu64 " %" PRIu64 "\n",
		                     o->port, o->conns, o->bytes, o->seed);
		c->reply = R_PUSH_OK;
		break;
	default:
		c->lenient_close = o->mode == M_REBOOT || o->mode == M_POWEROFF;
		break;
	}
}

static unsigned client_port(const struct opts *o)
{
	switch (o->mode) {
	case M_PUSH:
		return PORT_PUSH;
	case M_REBOOT:
		return PORT_REBOOT;
	case M_POWEROFF:
		return PORT_POWEROFF;
	default:
		return o->port;
	}
}

/*
 * Data clients dial with the project's vsock_dial (retrying while the guest
 * port is not listening yet); the refused mode speaks the handshake itself
 * because it must see the refusal rather than have it retried.
 */
static int start_client(struct peer *p, struct conn *c, int64_t deadline, husk_err *err)
{
	int left = deadline_left(deadline);
	uint32_t events = EPOLLIN;

	c->t_start = precise_ms();
	if (p->o->mode == M_REFUSED)
		c->fd = hybrid_start(p->o->uds, client_port(p->o), err);
	else
		c->fd = vsock_dial(VSOCK_HYBRID, 0, p->o->uds, client_port(p->o),
		                   left > 0 ? left : 1, err);
	if (c->fd < 0)
		return conn_fail(c, err);
	p->remaining++;
	if (p->o->mode != M_REFUSED) {
		if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0)
			return husk_error_set(err, errno, "fcntl");
		on_connected(c);
		events |= EPOLLOUT;
	}
	return husk_loop_add(p->loop, c->fd, events, on_conn_event, c, err);
}

static int on_accept(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct peer *p = data;

	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct conn *c;

		if (cfd < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (cfd < 0)
			return husk_error_set(err, errno, "accept on %s", p->listen_path);
		if (p->accepted == p->nconns) {
			close(cfd);
			return husk_error_set(err, 0, "more than %u connections to %s", p->nconns,
			                      p->listen_path);
		}
		c = &p->conns[p->accepted++];
		c->fd = cfd;
		c->accepted = true;
		c->phase = P_HEADER;
		c->tx_shut = true;
		p->remaining++;
		if (husk_loop_add(loop, cfd, EPOLLIN, on_conn_event, c, err) < 0)
			return -1;
	}
}

/* Accepted connections (push streams, the ready line) come to <uds>_<port>. */
static int start_listener(struct peer *p, unsigned port, unsigned count, husk_err *err)
{
	int n = snprintf(p->listen_path, sizeof(p->listen_path), "%s_%u", p->o->uds, port);

	if (n < 0 || (size_t)n >= sizeof(p->listen_path))
		return husk_error_set(err, ENAMETOOLONG, "listener path for %s", p->o->uds);
	p->listen_fd = unix_listen(p->listen_path, 256, SOCK_NONBLOCK, err);
	if (p->listen_fd < 0)
		return -1;
	p->nconns = count;
	p->conns = calloc(count, sizeof(*p->conns));
	if (!p->conns)
		return husk_error_set(err, ENOMEM, "connections");
	for (unsigned i = 0; i < count; i++)
		conn_init(p, &p->conns[i], i);
	return husk_loop_add(p->loop, p->listen_fd, EPOLLIN, on_accept, p, err);
}

static void describe_stuck(const struct peer *p, const struct conn *clients, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (clients[i].fd >= 0)
			fprintf(stderr,
			        "vsock-peer:   client %u: phase %d, sent %" PRIu64
			        ", received %" PRIu64 "\n",
			        i, clients[i].phase, clients[i].tx_done, clients[i].rx_done);
	for (unsigned i = 0; i < p->accepted; i++)
		if (p->conns[i].fd >= 0)
			fprintf(stderr, "vsock-peer:   stream %u: received %" PRIu64 "\n",
			        p->conns[i].index, p->conns[i].rx_done);
}

/* Runs the loop until every connection is finished or the deadline passes. */
static int run_until_done(struct peer *p, int64_t deadline, struct conn *clients, unsigned n,
                          husk_err *err)
{
	while (p->remaining > 0 || p->accepted < p->nconns) {
		int left = deadline_left(deadline);

		if (left == 0) {
			describe_stuck(p, clients, n);
			return husk_error_set(err, ETIMEDOUT, "%s: %u connection(s) unfinished",
			                      mode_names[p->o->mode],
			                      p->remaining + (p->nconns - p->accepted));
		}
		if (husk_loop_run_once(p->loop, left, err) < 0)
			return -1;
	}
	return 0;
}

static unsigned client_count(const struct opts *o)
{
	switch (o->mode) {
	case M_ECHO:
	case M_SINK:
	case M_DISCARD:
	case M_SOURCE:
	case M_REFUSED:
		return o->conns;
	case M_READY:
		return 0;
	default:
		return 1;
	}
}

static int run_round(struct peer *p, struct conn *clients, unsigned n, int64_t deadline,
                     husk_err *err)
{
	if (p->o->mode == M_PUSH && start_listener(p, p->o->port, p->o->conns, err) < 0)
		return -1;
	if (p->o->mode == M_READY && start_listener(p, HOST_PORT_READY, 1, err) < 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		conn_init(p, &clients[i], i);
		client_plan(p->o, &clients[i]);
		if (start_client(p, &clients[i], deadline, err) < 0)
			return -1;
	}
	return run_until_done(p, deadline, clients, n, err);
}

static void peer_reset(struct peer *p)
{
	if (p->listen_fd >= 0) {
		husk_loop_del(p->loop, p->listen_fd);
		close_fd(&p->listen_fd);
		unlink(p->listen_path);
	}
	for (unsigned i = 0; p->conns && i < p->nconns; i++)
		if (p->conns[i].fd >= 0) {
			husk_loop_del(p->loop, p->conns[i].fd);
			close(p->conns[i].fd);
		}
	free(p->conns);
	p->conns = NULL;
	p->nconns = p->accepted = p->remaining = 0;
}

static void close_clients(struct peer *p, struct conn *clients, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (clients[i].fd >= 0) {
			husk_loop_del(p->loop, clients[i].fd);
			close_fd(&clients[i].fd);
		}
}

static void report(const struct peer *p, double elapsed)
{
	const struct opts *o = p->o;
	bool data = o->mode <= M_PUSH;
	double payload = data ? (double)o->bytes * o->conns * o->repeat : 0;

	if (o->mode == M_READY) {
		printf("%s\n", p->ready_line);
		return;
	}
	printf("%s: conns=%u repeat=%u bytes=%" PRIu64 " elapsed_ms=%.1f", mode_names[o->mode],
	       o->conns, o->repeat, o->bytes, elapsed);
	if (payload > 0 && elapsed > 0)
		printf(" MiBps=%.2f", payload / (1024.0 * 1024.0) / (elapsed / 1e3));
	if (p->connect_count)
		printf(" connect_ms_avg=%.2f connect_ms_max=%.2f",
		       p->connect_sum / p->connect_count, p->connect_max);
	printf("\n");
}

static int run(const struct opts *o, husk_err *err)
{
	unsigned n = client_count(o);
	struct peer p = {.o = o, .listen_fd = -1, .nclients = n};
	cleanup_free struct conn *clients = calloc(n ? n : 1, sizeof(*clients));
	double start = precise_ms();
	int64_t deadline = deadline_after(o->timeout_ms);
	int r = 0;

	if (!clients)
		return husk_error_set(err, ENOMEM, "connections");
	p.loop = husk_loop_new(err);
	if (!p.loop)
		return -1;
	for (unsigned round = 0; r == 0 && round < o->repeat; round++) {
		r = run_round(&p, clients, n, deadline, err);
		close_clients(&p, clients, n);
		peer_reset(&p);
	}
	if (r == 0)
		report(&p, precise_ms() - start);
	husk_loop_free(p.loop);
	return r;
}

/* Baseline server: the hybrid handshake and the services, on a plain Unix socket. */
static void serve_baseline(int lfd)
{
	signal(SIGCHLD, SIG_IGN);
	fcntl(lfd, F_SETFL, 0);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			continue;
		if (fork() == 0) {
			cleanup_error husk_err err = NULL;
			char line[SERVICE_LINE_MAX], ok[32];
			unsigned port;
			int n;

			if (read_line(fd, line, sizeof(line), &err) < 0 ||
			    sscanf(line, "CONNECT %u", &port) != 1)
				_exit(1);
			n = snprintf(ok, sizeof(ok), "OK %u\n", port);
			if (write_all(fd, ok, (size_t)n, &err) < 0 ||
			    service_run(port, fd, &err) < 0)
				_exit(1);
			_exit(0);
		}
		close(fd);
	}
}

static int run_baseline(struct opts *o, husk_err *err)
{
	char dir[] = "/tmp/vsock-peer.XXXXXX", path[64];
	pid_t pid;
	int lfd, r, status;

	if (!mkdtemp(dir))
		return husk_error_set(err, errno, "mkdtemp");
	snprintf(path, sizeof(path), "%s/sock", dir);
	lfd = unix_listen(path, 256, SOCK_NONBLOCK, err);
	if (lfd < 0) {
		rmdir(dir);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		serve_baseline(lfd);
	}
	close(lfd);
	setpgid(pid, pid);
	o->uds = path;
	r = run(o, err);
	kill(-pid, SIGKILL);
	waitpid(pid, &status, 0);
	unlink(path);
	rmdir(dir);
	return r;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_mode(const char *s, enum mode *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum mode)i;
			return 0;
		}
	return -1;
}

static unsigned default_port(enum mode m)
{
	switch (m) {
	case M_SINK:
		return PORT_SINK;
	case M_DISCARD:
		return PORT_DISCARD;
	case M_SOURCE:
		return PORT_SOURCE;
	case M_PUSH:
		return HOST_PORT_STREAM;
	case M_REFUSED:
		return 4999;
	default:
		return PORT_ECHO;
	}
}

static int parse_args(int argc, char **argv, struct opts *o, husk_err *err)
{
	static const struct option longopts[] = {
	    {"uds", required_argument, NULL, 'u'},        {"port", required_argument, NULL, 'p'},
	    {"bytes", required_argument, NULL, 'b'},      {"conns", required_argument, NULL, 'c'},
	    {"repeat", required_argument, NULL, 'r'},     {"seed", required_argument, NULL, 's'},
	    {"timeout-ms", required_argument, NULL, 't'}, {"baseline", no_argument, NULL, 'B'},
	    {"notify", no_argument, NULL, 'n'},           {0}};
	uint64_t v;
	int ch;

	*o = (struct opts){.port = PORT_ECHO,
	                   .bytes = 1 << 20,
	                   .conns = 1,
	                   .repeat = 1,
	                   .seed = 1,
	                   .timeout_ms = 60000};
	if (argc < 2 || parse_mode(argv[1], &o->mode) < 0)
		return husk_error_set(
		    err, 0,
		    "usage: vsock-peer echo|sink|discard|source|push|refused|ready"
		    "|reboot|poweroff --uds PATH [options]");
	o->port = default_port(o->mode);
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'u') {
			o->uds = optarg;
			continue;
		}
		if (ch == 'B' || ch == 'n') {
			*(ch == 'B' ? &o->baseline : &o->notify) = true;
			continue;
		}
		if (ch == '?' || parse_u64(optarg, SERVICE_MAX_BYTES, &v) < 0)
			return husk_error_set(err, 0, "bad option or value (%s)",
			                      ch == '?' ? "unknown" : optarg);
		if ((ch == 'p' && v > UINT32_MAX) ||
		    ((ch == 'c' || ch == 'r') && (v == 0 || v > SERVICE_MAX_CONNS)) ||
		    (ch == 't' && (v == 0 || v > 3600000)))
			return husk_error_set(err, 0, "value %s out of range", optarg);
		if (ch == 'p')
			o->port = (unsigned)v;
		else if (ch == 'b')
			o->bytes = v;
		else if (ch == 'c')
			o->conns = (unsigned)v;
		else if (ch == 'r')
			o->repeat = (unsigned)v;
		else if (ch == 's')
			o->seed = v;
		else
			o->timeout_ms = (int)v;
	}
	if (!o->uds && !o->baseline)
		return husk_error_set(err, 0, "--uds PATH is required");
	if (o->baseline && o->mode > M_SOURCE)
		return husk_error_set(err, 0, "--baseline supports echo, sink, discard and source");
	return 0;
}

int main(int argc, char **argv)
{
	cleanup_error husk_err err = NULL;
	struct opts o;
	int r;

	signal(SIGPIPE, SIG_IGN);
	log_init("vsock-peer");
	if (parse_args(argc, argv, &o, &err) < 0) {
		fprintf(stderr, "vsock-peer: %s\n", husk_error_msg(err));
		return 2;
	}
	r = o.baseline ? run_baseline(&o, &err) : run(&o, &err);
	if (r < 0) {
		fprintf(stderr, "vsock-peer: %s\n", husk_error_msg(err));
		return 1;
	}
	return 0;
}
