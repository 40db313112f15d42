/*
 * /init of the vsock test initramfs. Mounts /proc /sys /dev, loads the
 * modules in /husk/modules.order and acts on husk.test= from the kernel
 * command line:
 *   boot   print "husk-test: boot ok, <n> modules in /proc/modules", power off
 *   vsock  serve the ports of services.h, announce "READY <boot id>" to the
 *          host's port 6001 (retrying until the host listens) and run until
 *          asked to reboot or power off.
 * Progress and failures go to the console, prefixed "husk-test:".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "agent/modload.h"
#include "hostile.h"
#include "pattern.h"
#include "services.h"

#define READY_RETRY_MS 100
#define READY_ATTEMPTS 1200

static const unsigned listen_ports[] = {PORT_ECHO,     PORT_SOURCE, PORT_SINK,   PORT_REBOOT,
                                        PORT_POWEROFF, PORT_PUSH,   PORT_DISCARD};

void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	memcpy(line + n, "\n", 2);
	(void)!write(STDOUT_FILENO, "husk-test: ", 11);
	(void)!write(STDOUT_FILENO, line, (size_t)n + 1);
}

static __attribute__((noreturn)) void power(int how)
{
	sync();
	reboot(how);
	say("reboot: %s", strerror(errno));
	for (;;)
		pause();
}

static __attribute__((noreturn)) void fail(husk_err *err)
{
	say("FAIL %s", husk_error_msg(*err));
	power(RB_POWER_OFF);
}

static int mount_one(const char *src, const char *dir, const char *type, husk_err *err)
{
	if (mount(src, dir, type, MS_NOSUID | MS_NOEXEC, NULL) < 0 && errno != EBUSY)
		return husk_error_set(err, errno, "mount %s on %s", type, dir);
	return 0;
}

/* The initramfs has no /dev/console node, so the console is opened after devtmpfs is up. */
static int setup_system(husk_err *err)
{
	int fd;

	if (mount_one("devtmpfs", "/dev", "devtmpfs", err) < 0)
		return -1;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd >= 0) {
		for (int i = 0; i < 3; i++)
			dup2(fd, i);
		if (fd > 2)
			close(fd);
	}
	if (mount_one("proc", "/proc", "proc", err) < 0 ||
	    mount_one("sysfs", "/sys", "sysfs", err) < 0)
		return -1;
	return 0;
}

static int read_small_file(const char *path, char *buf, size_t size, husk_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return husk_error_set(err, errno, "open %s", path);
	n = read(fd, buf, size - 1);
	if (n < 0)
		return husk_error_set(err, errno, "read %s", path);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int count_lines(const char *path)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	int n = 0, c;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	return n;
}

/* Copies the value of husk.test= from /proc/cmdline into mode ("" if absent). */
static int test_mode(char *mode, size_t size, husk_err *err)
{
	char cmdline[4096];
	const char *p;

	if (read_small_file("/proc/cmdline", cmdline, sizeof(cmdline), err) < 0)
		return -1;
	mode[0] = '\0';
	for (p = strstr(cmdline, "husk.test="); p; p = strstr(p + 1, "husk.test=")) {
		if (p == cmdline || p[-1] == ' ') {
			p += strlen("husk.test=");
			snprintf(mode, size, "%.*s", (int)strcspn(p, " "), p);
		}
	}
	return 0;
}

static int vsock_listen(unsigned port, husk_err *err)
{
	struct sockaddr_vm addr = {
	    .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	cleanup_close int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return husk_error_set(err, errno, "vsock socket");
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fd, SERVICE_MAX_CONNS) < 0)
		return husk_error_set(err, errno, "vsock listen on port %u", port);
	return move_fd(fd);
}

static int vsock_connect_host(unsigned port, husk_err *err)
{
	struct sockaddr_vm addr = {
	    .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = port};
	cleanup_close int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return husk_error_set(err, errno, "vsock socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return husk_error_set(err, errno, "connect to host port %u", port);
	return move_fd(fd);
}

/* Sends "READY <boot id>" to the host, retrying while nothing listens there. */
static int announce_ready(husk_err *err)
{
	const struct timespec pause_ts = {0, READY_RETRY_MS * 1000000L};
	char boot_id[64], line[96];
	int n;

	if (read_small_file("/proc/sys/kernel/random/boot_id", boot_id, sizeof(boot_id), err) < 0)
		return -1;
	n = snprintf(line, sizeof(line), "READY %s\n", boot_id);
	for (int i = 0; i < READY_ATTEMPTS; i++) {
		cleanup_close int fd = vsock_connect_host(HOST_PORT_READY, err);

		if (fd >= 0) {
			say("ready, boot id %s", boot_id);
			return write_all(fd, line, (size_t)n, err);
		}
		nanosleep(&pause_ts, NULL);
	}
	return husk_error_prefix(err, "announce ready");
}

/* One guest->host stream: "STREAM <index>\n", the pattern, half-close, check the reply. */
static int stream_to_host(unsigned port, unsigned index, uint64_t bytes, uint64_t seed,
                          husk_err *err)
{
	cleanup_close int fd = vsock_connect_host(port, err);
	char head[32], reply[SERVICE_LINE_MAX], expect[SERVICE_LINE_MAX];
	uint64_t fnv = FNV_INIT;
	int n;

	if (fd < 0)
		return -1;
	n = snprintf(head, sizeof(head), "STREAM %u\n", index);
	if (write_all(fd, head, (size_t)n, err) < 0 ||
	    write_pattern(fd, seed + index, bytes, &fnv, err) < 0)
		return -1;
	shutdown(fd, SHUT_WR);
	if (read_line(fd, reply, sizeof(reply), err) < 0)
		return -1;
	snprintf(expect, sizeof(expect), "%" PRIu64 " %016" PRIx64, bytes, fnv);
	if (strcmp(reply, expect) != 0)
		return husk_error_set(err, 0, "host saw '%.40s', sent '%s'", reply, expect);
	return 0;
}

/* Port 5005: runs CONNS concurrent streams to HOST_PORT, replies "OK n" or "FAIL n". */
static int service_push(int fd, husk_err *err)
{
	char line[SERVICE_LINE_MAX], reply[SERVICE_LINE_MAX];
	unsigned port, conns, failed = 0;
	uint64_t bytes, seed;
	int n;

	if (read_line(fd, line, sizeof(line), err) < 0)
		return husk_error_prefix(err, "push");
	if (sscanf(line, "%u %u %" SCNu64 " %" SCNu64, &port, &conns, &bytes, &seed) != 4 ||
	    conns == 0 || conns > SERVICE_MAX_CONNS || bytes > SERVICE_MAX_BYTES)
		return husk_error_set(err, 0, "push: bad request '%.40s'", line);
	signal(SIGCHLD, SIG_DFL);
	for (unsigned i = 0; i < conns; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return husk_error_set(err, errno, "push: fork");
		if (pid == 0) {
			cleanup_error husk_err cerr = NULL;

			if (stream_to_host(port, i, bytes, seed, &cerr) < 0) {
				say("push stream %u: %s", i, husk_error_msg(cerr));
				_exit(1);
			}
			_exit(0);
		}
	}
	for (unsigned i = 0; i < conns; i++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	n = snprintf(reply, sizeof(reply), "%s %u\n", failed ? "FAIL" : "OK",
	             failed ? failed : conns);
	return write_all(fd, reply, (size_t)n, err);
}

static __attribute__((noreturn)) void serve_connection(unsigned port, int fd)
{
	cleanup_error husk_err err = NULL;
	int r;

	switch (port) {
	case PORT_REBOOT:
		say("rebooting");
		close(fd);
		power(RB_AUTOBOOT);
	case PORT_POWEROFF:
		say("powering off");
		close(fd);
		power(RB_POWER_OFF);
	case PORT_PUSH:
		r = service_push(fd, &err);
		break;
	default:
		r = service_run(port, fd, &err);
	}
	if (r < 0)
		say("port %u: %s", port, husk_error_msg(err));
	_exit(r < 0);
}

static int serve(husk_err *err)
{
	struct pollfd pfd[ARRAY_SIZE(listen_ports)];

	for (size_t i = 0; i < ARRAY_SIZE(listen_ports); i++) {
		pfd[i].fd = vsock_listen(listen_ports[i], err);
		pfd[i].events = POLLIN;
		if (pfd[i].fd < 0)
			return -1;
	}
	say("listening on ports %u-%u", listen_ports[0],
	    listen_ports[ARRAY_SIZE(listen_ports) - 1]);
	if (fork() == 0) {
		cleanup_error husk_err cerr = NULL;

		if (announce_ready(&cerr) < 0)
			say("%s", husk_error_msg(cerr));
		_exit(0);
	}
	for (;;) {
		if (poll(pfd, ARRAY_SIZE(pfd), -1) < 0) {
			if (errno == EINTR)
				continue;
			return husk_error_set(err, errno, "poll");
		}
		for (size_t i = 0; i < ARRAY_SIZE(pfd); i++) {
			int fd;

			if (!(pfd[i].revents & POLLIN))
				continue;
			fd = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			if (fork() == 0) {
				for (size_t j = 0; j < ARRAY_SIZE(pfd); j++)
					close(pfd[j].fd);
				serve_connection(listen_ports[i], fd);
			}
			close(fd);
		}
	}
}

int main(void)
{
	cleanup_error husk_err err = NULL;
	char mode[32];

	signal(SIGCHLD, SIG_IGN);
	if (setup_system(&err) < 0)
		fail(&err);
	if (modload_all("/husk/modules.order", &err) < 0)
		fail(&err);
	say("modules loaded");
	if (read_small_file("/hostile", mode, sizeof(mode), &err) == 0) {
		say("hostile: %s", mode);
		hostile_agent(mode, &err);
		fail(&err);
	}
	husk_error_free(&err);
	if (test_mode(mode, sizeof(mode), &err) < 0)
		fail(&err);
	if (strcmp(mode, "boot") == 0) {
		say("boot ok, %d modules in /proc/modules", count_lines("/proc/modules"));
		power(RB_POWER_OFF);
	}
	if (strcmp(mode, "vsock") != 0) {
		husk_error_set(&err, 0, "unknown husk.test mode '%s'", mode);
		fail(&err);
	}
	if (serve(&err) < 0)
		fail(&err);
	return 0;
}
