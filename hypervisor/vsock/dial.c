#include "dial.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/clock.h"

#define DIAL_BACKOFF_MIN_MS 10
#define DIAL_BACKOFF_MAX_MS 250

enum { PHASE_CONNECTING, PHASE_READ_OK };

enum vsock_transport vsock_transport_detect(void)
{
	int fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return VSOCK_HYBRID;
	close(fd);
	return VSOCK_VHOST;
}

static const char *const transport_names[] = {"auto", "vhost", "hybrid"};

int vsock_transport_parse(const char *s, enum vsock_transport *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(transport_names); i++) {
		if (strcmp(s, transport_names[i]) == 0) {
			*out = (enum vsock_transport)i;
			return 0;
		}
	}
	return -1;
}

const char *vsock_transport_name(enum vsock_transport t)
{
	return (unsigned)t < ARRAY_SIZE(transport_names) ? transport_names[t] : "unknown";
}

static int dial_fail(struct vsock_dial_state *st, int code, husk_err *err)
{
	vsock_dial_abort(st);
	if (code == EPROTO)
		return husk_error_set(err, code, "unexpected reply to CONNECT");
	return husk_error_set(err, code, "connect");
}

void vsock_dial_abort(struct vsock_dial_state *st)
{
	close_fd(&st->fd);
}

static int send_connect_line(struct vsock_dial_state *st, husk_err *err)
{
	char req[32];
	int n = snprintf(req, sizeof(req), "CONNECT %u\n", st->port);
	/* a fresh socket's buffer takes these few bytes at once */
	if (send(st->fd, req, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		return dial_fail(st, errno ? errno : EIO, err);
	st->phase = PHASE_READ_OK;
	st->events = POLLIN;
	return 0;
}

int vsock_dial_begin(struct vsock_dial_state *st, enum vsock_transport t, uint32_t cid,
                     const char *uds_path, uint32_t port, husk_err *err)
{
	memset(st, 0, sizeof(*st));
	st->fd = -1;
	st->port = port;
	st->transport = t == VSOCK_AUTO ? vsock_transport_detect() : t;
	struct sockaddr_un su = {.sun_family = AF_UNIX};
	struct sockaddr_vm sv = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
	struct sockaddr *sa = (struct sockaddr *)&sv;
	socklen_t salen = sizeof(sv);
	if (st->transport == VSOCK_HYBRID) {
		size_t plen = uds_path ? strlen(uds_path) : 0;
		if (plen == 0 || plen >= sizeof(su.sun_path))
			return husk_error_set(err, EINVAL, "bad hybrid vsock socket path");
		memcpy(su.sun_path, uds_path, plen);
		sa = (struct sockaddr *)&su;
		salen = sizeof(su);
	}
	st->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (st->fd < 0)
		return husk_error_set(err, errno, "socket");
	/* done or in progress alike, the first step finds out */
	st->phase = PHASE_CONNECTING;
	st->events = POLLOUT;
	if (connect(st->fd, sa, salen) < 0 && errno != EINPROGRESS)
		return dial_fail(st, errno, err);
	return 0;
}

/* Reads the reply byte by byte: the stream starts right after its '\n'. */
static int read_ok_line(struct vsock_dial_state *st, husk_err *err)
{
	for (;;) {
		char ch;
		ssize_t n = read(st->fd, &ch, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return dial_fail(st, errno, err);
		if (n == 0) /* the guest answered RST: nothing listens there yet */
			return dial_fail(st, ECONNREFUSED, err);
		if (ch == '\n')
			break;
		if (st->line_len == sizeof(st->line))
			return dial_fail(st, EPROTO, err);
		st->line[st->line_len++] = ch;
	}
	if (st->line_len < 2 || memcmp(st->line, "OK", 2) != 0)
		return dial_fail(st, EPROTO, err);
	return 1;
}

int vsock_dial_step(struct vsock_dial_state *st, husk_err *err)
{
	if (st->fd < 0)
		return husk_error_set(err, EINVAL, "no dial in progress");
	if (st->phase == PHASE_READ_OK)
		return read_ok_line(st, err);
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(st->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return dial_fail(st, errno, err);
	if (soerr)
		return dial_fail(st, soerr, err);
	struct pollfd p = {.fd = st->fd, .events = POLLOUT};
	if (poll(&p, 1, 0) == 0)
		return 0; /* still connecting */
	if (st->transport == VSOCK_VHOST)
		return 1;
	return send_connect_line(st, err);
}

/* Runs one attempt to its end within the deadline: the fd, or -1 with errno. */
static int dial_once(enum vsock_transport t, uint32_t cid, const char *uds_path, uint32_t port,
                     int64_t deadline)
{
	struct vsock_dial_state st;
	cleanup_error husk_err err = NULL;
	if (vsock_dial_begin(&st, t, cid, uds_path, port, &err) < 0) {
		errno = err->code;
		return -1;
	}
	for (;;) {
		int r = vsock_dial_step(&st, &err);
		if (r == 1)
			return st.fd;
		if (r < 0) {
			errno = err->code;
			return -1;
		}
		struct pollfd p = {.fd = st.fd, .events = st.events};
		int n = poll(&p, 1, deadline_left(deadline));
		if (n == 0 || (n < 0 && errno != EINTR)) {
			int e = n == 0 ? ETIMEDOUT : errno;
			vsock_dial_abort(&st);
			errno = e;
			return -1;
		}
	}
}

/* Not listening yet, or the daemon is not up yet: worth another try. */
static bool retryable(int e)
{
	return e == ECONNREFUSED || e == ECONNRESET || e == ENOENT || e == EAGAIN || e == EPIPE ||
	       e == ENODEV || e == EHOSTUNREACH;
}

static int set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

int vsock_dial(enum vsock_transport t, uint32_t cid, const char *uds_path, uint32_t port,
               int timeout_ms, husk_err *err)
{
	if (t == VSOCK_AUTO)
		t = vsock_transport_detect();
	if (t == VSOCK_HYBRID && !uds_path)
		return husk_error_set(err, EINVAL, "hybrid vsock dial needs a socket path");
	int64_t deadline = deadline_after(timeout_ms > 0 ? timeout_ms : 0);
	int backoff = DIAL_BACKOFF_MIN_MS;
	int e;
	for (;;) {
		int fd = dial_once(t, cid, uds_path, port, deadline);
		if (fd >= 0) {
			if (set_blocking(fd) == 0)
				return fd;
			e = errno;
			close(fd);
			break;
		}
		e = errno;
		int left = deadline_left(deadline);
		if (!retryable(e) || left == 0)
			break;
		struct timespec ts = {.tv_nsec =
		                          (long)(backoff < left ? backoff : left) * 1000000L};
		nanosleep(&ts, NULL);
		backoff = backoff * 2 > DIAL_BACKOFF_MAX_MS ? DIAL_BACKOFF_MAX_MS : backoff * 2;
	}
	if (retryable(e) && deadline_left(deadline) == 0)
		e = ETIMEDOUT;
	if (t == VSOCK_VHOST)
		return husk_error_set(err, e, "vsock connect to CID %u port %u", cid, port);
	return husk_error_set(err, e, "hybrid vsock connect to %s port %u", uds_path, port);
}
