#include "dial.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

#define DIAL_BACKOFF_MIN_MS 10
#define DIAL_BACKOFF_MAX_MS 250
#define DIAL_LINE_MAX       32

enum vsock_transport vsock_transport_detect(void)
{
	int fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return VSOCK_HYBRID;
	close(fd);
	return VSOCK_VHOST;
}

int vsock_transport_parse(const char *s, enum vsock_transport *out)
{
	static const char *const names[] = {"auto", "vhost", "hybrid"};
	for (int i = 0; i < 3; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum vsock_transport)i;
			return 0;
		}
	}
	return -1;
}

const char *vsock_transport_name(enum vsock_transport t)
{
	switch (t) {
	case VSOCK_AUTO:
		return "auto";
	case VSOCK_VHOST:
		return "vhost";
	case VSOCK_HYBRID:
		return "hybrid";
	}
	return "unknown";
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();
	return left < 0 ? 0 : (int)left;
}

/* Waits for events on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, remaining_ms(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

static int set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* Non-blocking connect finished within the deadline: 0, or -1 with errno. */
static int connect_within(int fd, const struct sockaddr *sa, socklen_t len, int64_t deadline)
{
	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	int r = wait_fd(fd, POLLOUT, deadline);
	if (r <= 0) {
		errno = r == 0 ? ETIMEDOUT : errno;
		return -1;
	}
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return -1;
	if (soerr) {
		errno = soerr;
		return -1;
	}
	return 0;
}

static int dial_vhost_once(uint32_t cid, uint32_t port, int64_t deadline)
{
	cleanup_close int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
	if (connect_within(fd, (struct sockaddr *)&sa, sizeof(sa), deadline) < 0)
		return -1;
	return move_fd(fd);
}

/*
 * Reads the reply line one byte at a time: the stream starts right after '\n'.
 * EOF means the guest refused (nothing listens yet): ECONNREFUSED.
 */
static int read_ok_line(int fd, int64_t deadline)
{
	char line[DIAL_LINE_MAX];
	size_t len = 0;
	for (;;) {
		int r = wait_fd(fd, POLLIN, deadline);
		if (r <= 0) {
			errno = r == 0 ? ETIMEDOUT : errno;
			return -1;
		}
		char ch;
		ssize_t n = read(fd, &ch, 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ECONNREFUSED;
			return -1;
		}
		if (ch == '\n')
			break;
		if (len == sizeof(line)) {
			errno = EPROTO;
			return -1;
		}
		line[len++] = ch;
	}
	if (len < 2 || memcmp(line, "OK", 2) != 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

static int dial_hybrid_once(const char *uds_path, uint32_t port, int64_t deadline)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t plen = strlen(uds_path);
	if (plen == 0 || plen >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, uds_path, plen);
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect_within(fd, (struct sockaddr *)&sa, sizeof(sa), deadline) < 0)
		return -1;
	char req[32];
	int n = snprintf(req, sizeof(req), "CONNECT %u\n", port);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
		return -1;
	if (read_ok_line(fd, deadline) < 0)
		return -1;
	return move_fd(fd);
}

/* Not listening yet, or the daemon is not up yet: worth another try. */
static bool retryable(int e)
{
	return e == ECONNREFUSED || e == ECONNRESET || e == ENOENT || e == EAGAIN || e == EPIPE ||
	       e == ENODEV || e == EHOSTUNREACH;
}

int vsock_dial(enum vsock_transport t, uint32_t cid, const char *uds_path, uint32_t port,
               int timeout_ms, husk_err *err)
{
	if (t == VSOCK_AUTO)
		t = vsock_transport_detect();
	if (t == VSOCK_HYBRID && !uds_path)
		return husk_error_set(err, EINVAL, "hybrid vsock dial needs a socket path");
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int backoff = DIAL_BACKOFF_MIN_MS;
	for (;;) {
		int fd = t == VSOCK_VHOST ? dial_vhost_once(cid, port, deadline)
		                          : dial_hybrid_once(uds_path, port, deadline);
		if (fd >= 0) {
			if (set_blocking(fd) < 0) {
				int e = errno;
				close(fd);
				errno = e;
				break;
			}
			return fd;
		}
		int left = remaining_ms(deadline);
		if (!retryable(errno) || left == 0)
			break;
		struct timespec ts = {.tv_nsec =
		                          (long)(backoff < left ? backoff : left) * 1000000L};
		nanosleep(&ts, NULL);
		backoff = backoff * 2 > DIAL_BACKOFF_MAX_MS ? DIAL_BACKOFF_MAX_MS : backoff * 2;
	}
	int e = errno;
	if (retryable(e) && remaining_ms(deadline) == 0)
		e = ETIMEDOUT;
	if (t == VSOCK_VHOST)
		return husk_error_set(err, e, "vsock connect to CID %u port %u", cid, port);
	return husk_error_set(err, e, "hybrid vsock connect to %s port %u", uds_path, port);
}
