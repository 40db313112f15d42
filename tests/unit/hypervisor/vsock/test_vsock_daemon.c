/*
 * build/bin/husk-vsockd as a process: readiness, socket ownership (live,
 * stale, foreign files), CONNECT handling before the guest is up, and exit
 * with cleanup on SIGTERM and on the front-end's disconnect.
 */
#include "tests/unit/harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

struct daemon_run {
	char dir[40];
	char vu[64], uds[64];
	pid_t pid;
};

static const char *vsockd_path(void)
{
	static char path[256];
	const char *build = getenv("BUILD");
	snprintf(path, sizeof(path), "%s/bin/husk-vsockd", build ? build : "build");
	return path;
}

static void make_dir(struct daemon_run *r)
{
	strcpy(r->dir, "/tmp/test_vsockd.XXXXXX");
	if (!mkdtemp(r->dir))
		abort();
	snprintf(r->vu, sizeof(r->vu), "%s/vu.sock", r->dir);
	snprintf(r->uds, sizeof(r->uds), "%s/v.sock", r->dir);
}

/* Starts the daemon; with ready, waits for its READY line. Returns 0 when it said READY. */
static int start(struct daemon_run *r, bool ready)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	r->pid = fork();
	if (r->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed CHECK must not leave it running */
		dup2(p[1], 3);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(vsockd_path(), "husk-vsockd", "--socket", r->vu, "--uds-path", r->uds,
		      "--guest-cid", "3", "--ready-fd", "3", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char buf[16] = {0};
	ssize_t n = 0;
	if (ready) {
		struct pollfd pf = {.fd = p[0], .events = POLLIN};
		if (poll(&pf, 1, 5000) == 1)
			n = read(p[0], buf, sizeof(buf) - 1);
	}
	close(p[0]);
	return n == 6 && strcmp(buf, "READY\n") == 0 ? 0 : -1;
}

/* Waits (bounded, on a pidfd) for the daemon's exit status. */
static int wait_exit(struct daemon_run *r)
{
	int pfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	struct pollfd p = {.fd = pfd, .events = POLLIN};
	if (pfd < 0 || poll(&p, 1, 5000) != 1)
		kill(r->pid, SIGKILL);
	if (pfd >= 0)
		close(pfd);
	int st;
	if (waitpid(r->pid, &st, 0) != r->pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static bool exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Reads until the daemon closes (bounded): bytes read before that, or -1 if it
 * never did. A close with our bytes still unread shows as ECONNRESET.
 */
static int read_to_close(int fd)
{
	char buf[64];
	int total = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 5000) != 1)
			return -1;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return total;
		if (n < 0)
			return -1;
		total += (int)n;
	}
}

static void cleanup_dir(struct daemon_run *r)
{
	unlink(r->vu);
	unlink(r->uds);
	rmdir(r->dir);
}

TEST(ready_then_sigterm_exits_zero_and_removes_both_sockets)
{
	struct daemon_run r;
	make_dir(&r);
	CHECK_INT(start(&r, true), ==, 0);
	CHECK(exists(r.vu) && exists(r.uds));
	/* a second daemon on the same paths is refused and leaves them alone */
	struct daemon_run r2 = r;
	CHECK_INT(start(&r2, false), ==, -1);
	CHECK_INT(wait_exit(&r2), ==, 1);
	CHECK(exists(r.vu) && exists(r.uds));
	/* no guest driver yet: CONNECT is closed at once; garbage is closed too */
	int c = connect_to(r.uds);
	CHECK(c >= 0);
	CHECK_INT(write(c, "CONNECT 1024\nxyz", 16), ==, 16);
	CHECK_INT(read_to_close(c), ==, 0);
	close(c);
	c = connect_to(r.uds);
	CHECK(c >= 0);
	CHECK_INT(write(c, "HELLO THERE\n", 12), ==, 12);
	CHECK_INT(read_to_close(c), ==, 0);
	close(c);
	kill(r.pid, SIGTERM);
	CHECK_INT(wait_exit(&r), ==, 0);
	CHECK(!exists(r.vu) && !exists(r.uds));
	cleanup_dir(&r);
}

TEST(front_end_disconnect_ends_the_daemon_and_stale_sockets_are_replaced)
{
	struct daemon_run r;
	make_dir(&r);
	/* stale sockets from a dead daemon */
	for (int i = 0; i < 2; i++) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		strcpy(sa.sun_path, i ? r.vu : r.uds);
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		CHECK(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		close(s);
	}
	CHECK_INT(start(&r, true), ==, 0);
	int fe = connect_to(r.vu); /* stands in for QEMU, which then goes away */
	CHECK(fe >= 0);
	close(fe);
	CHECK_INT(wait_exit(&r), ==, 0);
	CHECK(!exists(r.vu) && !exists(r.uds));
	cleanup_dir(&r);
}

TEST(refuses_foreign_files_and_bad_arguments)
{
	struct daemon_run r;
	make_dir(&r);
	int f = open(r.uds, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(f >= 0);
	close(f);
	CHECK_INT(start(&r, true), ==, -1);
	CHECK_INT(wait_exit(&r), ==, 1);
	CHECK(exists(r.uds)); /* never removed */
	CHECK(!exists(r.vu)); /* nothing left behind */
	unlink(r.uds);
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(vsockd_path(), "husk-vsockd", "--socket", r.vu, "--uds-path", r.uds,
		      "--guest-cid", "2", (char *)NULL);
		_exit(127);
	}
	r.pid = pid;
	CHECK_INT(wait_exit(&r), ==, 2);
	cleanup_dir(&r);
}
