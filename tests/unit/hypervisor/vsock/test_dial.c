/* vsock_dial over the hybrid transport against a scripted husk-vsockd stand-in (a child). */
#include "tests/unit/harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hypervisor/vsock/dial.h"
#include "hypervisor/vsock/hybrid.h"
#include "lib/clock.h"

/* Reads the client's line byte by byte; 0 if it is exactly want. */
static int expect_line(int fd, const char *want)
{
	char line[64];
	size_t len = 0;
	char ch;
	while (len < sizeof(line) - 1 && read(fd, &ch, 1) == 1) {
		line[len++] = ch;
		if (ch == '\n')
			break;
	}
	line[len] = '\0';
	return strcmp(line, want) == 0 ? 0 : -1;
}

/* Child: for each reply in order, accepts a client, checks its line and answers (NULL: close). */
static pid_t serve(int listener, const char *const *replies, unsigned n)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	for (unsigned i = 0; i < n; i++) {
		int c = accept(listener, NULL, NULL);
		if (c < 0 || expect_line(c, "CONNECT 1024\n") < 0)
			_exit(1);
		if (replies[i] && write(c, replies[i], strlen(replies[i])) < 0)
			_exit(1);
		if (replies[i]) {
			char ch;
			if (read(c, &ch, 1) != 0) /* wait for the client to close */
				_exit(1);
		}
		close(c);
	}
	_exit(0);
}

static int wait_child(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

struct sock_dir {
	char dir[40];
	char path[64];
};

static int listen_tmp(struct sock_dir *s)
{
	husk_err err = NULL;
	strcpy(s->dir, "/tmp/test_dial.XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->path, sizeof(s->path), "%s/v.sock", s->dir);
	int fd = uds_listen(s->path, &err);
	husk_error_free(&err);
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	return fd;
}

static void cleanup_tmp(struct sock_dir *s, int fd)
{
	close(fd);
	unlink(s->path);
	rmdir(s->dir);
}

TEST(hybrid_dial_retries_refusals_and_keeps_stream_bytes)
{
	struct sock_dir s;
	int l = listen_tmp(&s);
	CHECK(l >= 0);
	/* agent not listening twice (closed before OK), then accepted with data pipelined */
	static const char *const replies[] = {NULL, NULL, "OK 1073741824\nHELLO"};
	pid_t pid = serve(l, replies, 3);
	CHECK(pid > 0);
	husk_err err = NULL;
	int fd = vsock_dial(VSOCK_HYBRID, 3, s.path, 1024, 5000, &err);
	CHECK(fd >= 0);
	CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK));
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	char buf[16] = {0};
	size_t got = 0;
	while (got < 5) {
		ssize_t n = read(fd, buf + got, 5 - got);
		CHECK(n > 0);
		got += (size_t)n;
	}
	CHECK_STR(buf, "HELLO");
	close(fd);
	CHECK_INT(wait_child(pid), ==, 0);
	cleanup_tmp(&s, l);
}

TEST(hybrid_dial_times_out_when_the_guest_never_accepts)
{
	struct sock_dir s;
	int l = listen_tmp(&s);
	CHECK(l >= 0);
	static const char *const replies[64] = {NULL};
	pid_t pid = serve(l, replies, 64);
	CHECK(pid > 0);
	husk_err err = NULL;
	int64_t t0 = monotonic_ms();
	CHECK_INT(vsock_dial(VSOCK_HYBRID, 3, s.path, 1024, 300, &err), ==, -1);
	int64_t took = monotonic_ms() - t0;
	CHECK_INT(err->code, ==, ETIMEDOUT);
	CHECK(took >= 300 && took < 2000);
	husk_error_free(&err);
	kill(pid, SIGKILL);
	wait_child(pid);
	cleanup_tmp(&s, l);
}

TEST(hybrid_dial_without_daemon_socket_times_out)
{
	husk_err err = NULL;
	CHECK_INT(vsock_dial(VSOCK_HYBRID, 3, "/tmp/test_dial-no-such.sock", 1024, 100, &err), ==,
	          -1);
	CHECK_INT(err->code, ==, ETIMEDOUT);
	husk_error_free(&err);
}

TEST(hybrid_dial_rejects_a_bad_reply_at_once)
{
	struct sock_dir s;
	int l = listen_tmp(&s);
	CHECK(l >= 0);
	static const char *const replies[] = {"NOPE\n"};
	pid_t pid = serve(l, replies, 1);
	husk_err err = NULL;
	CHECK_INT(vsock_dial(VSOCK_HYBRID, 3, s.path, 1024, 5000, &err), ==, -1);
	CHECK_INT(err->code, ==, EPROTO);
	husk_error_free(&err);
	CHECK_INT(wait_child(pid), ==, 0);
	cleanup_tmp(&s, l);
}

TEST(transport_names_and_detection)
{
	enum vsock_transport t;
	CHECK_INT(vsock_transport_parse("hybrid", &t), ==, 0);
	CHECK_INT(t, ==, VSOCK_HYBRID);
	CHECK_INT(vsock_transport_parse("vhost", &t), ==, 0);
	CHECK_INT(t, ==, VSOCK_VHOST);
	CHECK_INT(vsock_transport_parse("auto", &t), ==, 0);
	CHECK_INT(t, ==, VSOCK_AUTO);
	CHECK_INT(vsock_transport_parse("kernel", &t), ==, -1);
	CHECK_STR(vsock_transport_name(VSOCK_HYBRID), "hybrid");
	int fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC);
	CHECK_INT(vsock_transport_detect(), ==, fd >= 0 ? VSOCK_VHOST : VSOCK_HYBRID);
	if (fd >= 0)
		close(fd);
	husk_err err = NULL;
	CHECK_INT(vsock_dial(VSOCK_HYBRID, 3, NULL, 1, 10, &err), ==, -1);
	CHECK_INT(err->code, ==, EINVAL);
	husk_error_free(&err);
}

/* Drives a non-blocking attempt with poll(), as an event loop would. */
static int step_until_done(struct vsock_dial_state *st, husk_err *err)
{
	for (;;) {
		int r = vsock_dial_step(st, err);
		if (r != 0)
			return r;
		struct pollfd p = {.fd = st->fd, .events = st->events};
		if (poll(&p, 1, 5000) != 1)
			return -2;
	}
}

TEST(non_blocking_dial_reports_refusal_then_connects)
{
	struct sock_dir s;
	int l = listen_tmp(&s);
	CHECK(l >= 0);
	static const char *const replies[] = {NULL, "OK 9\nX"};
	pid_t pid = serve(l, replies, 2);
	husk_err err = NULL;
	struct vsock_dial_state st;
	CHECK_INT(vsock_dial_begin(&st, VSOCK_HYBRID, 3, s.path, 1024, &err), ==, 0);
	CHECK_INT(step_until_done(&st, &err), ==, -1);
	CHECK_INT(err->code, ==, ECONNREFUSED);
	CHECK_INT(st.fd, ==, -1);
	husk_error_free(&err);
	CHECK_INT(vsock_dial_begin(&st, VSOCK_HYBRID, 3, s.path, 1024, &err), ==, 0);
	CHECK_INT(step_until_done(&st, &err), ==, 1);
	CHECK(fcntl(st.fd, F_GETFL) & O_NONBLOCK);
	struct pollfd p = {.fd = st.fd, .events = POLLIN};
	CHECK_INT(poll(&p, 1, 5000), ==, 1);
	char c = 0;
	CHECK_INT(read(st.fd, &c, 1), ==, 1);
	CHECK_INT(c, ==, 'X');
	close(st.fd);
	CHECK_INT(wait_child(pid), ==, 0);
	cleanup_tmp(&s, l);
}
