/*
 * husk-vsockd: a vhost-user-vsock back-end for one guest, with the host side
 * speaking the hybrid vsock convention over Unix sockets (see docs/vsock.md).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/cleanup.h"
#include "confine.h"
#include "hybrid.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "vhost_user.h"
#include "vsock_dev.h"

#define TICK_MS           250
#define TX_BUFFER_MIN     4096u
#define TX_BUFFER_MAX     (64u << 20)
#define TX_BUFFER_DEFAULT (256u << 10)

struct options {
	const char *dir;
	const char *socket_path;
	const char *uds_path;
	uint64_t guest_cid;
	uint32_t tx_buffer_size;
	enum husk_log_level log_level;
	int ready_fd;
};

struct daemon {
	struct husk_loop *loop;
	struct vu_dev vu;
	struct vsock_dev dev;
	struct hybrid hybrid;
	const char *socket_path;
	int vu_listen_fd;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: husk-vsockd --socket VHOST_USER_SOCKET --uds-path UDS_PATH --guest-cid N\n"
	        "                   [--dir DIR] [--tx-buffer-size BYTES]\n"
	        "                   [--log-level error|warn|info|debug] [--ready-fd FD]\n");
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o, husk_err *err)
{
	static const struct option longopts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"socket", required_argument, NULL, 's'},
	    {"uds-path", required_argument, NULL, 'u'},
	    {"guest-cid", required_argument, NULL, 'c'},
	    {"tx-buffer-size", required_argument, NULL, 'b'},
	    {"log-level", required_argument, NULL, 'l'},
	    {"ready-fd", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	*o = (struct options){
	    .tx_buffer_size = TX_BUFFER_DEFAULT, .log_level = LOG_LEVEL_INFO, .ready_fd = -1};
	bool have_cid = false;
	int opt;
	uint64_t v;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			o->dir = optarg;
			break;
		case 's':
			o->socket_path = optarg;
			break;
		case 'u':
			o->uds_path = optarg;
			break;
		case 'c':
			/* 0, 1, 2 and 0xffffffff are reserved; Linux CIDs are 32-bit */
			if (parse_u64(optarg, 3, UINT32_MAX - 1, &o->guest_cid) < 0)
				return husk_error_set(err, EINVAL, "--guest-cid %s: want 3..%u",
				                      optarg, UINT32_MAX - 1);
			have_cid = true;
			break;
		case 'b':
			if (parse_u64(optarg, TX_BUFFER_MIN, TX_BUFFER_MAX, &v) < 0)
				return husk_error_set(err, EINVAL,
				                      "--tx-buffer-size %s: want %u..%u bytes",
				                      optarg, TX_BUFFER_MIN, TX_BUFFER_MAX);
			o->tx_buffer_size = (uint32_t)v;
			break;
		case 'l':
			if (log_parse_level(optarg, &o->log_level) < 0)
				return husk_error_set(err, EINVAL, "--log-level %s", optarg);
			break;
		case 'r':
			if (parse_u64(optarg, 0, INT_MAX, &v) < 0)
				return husk_error_set(err, EINVAL, "--ready-fd %s", optarg);
			o->ready_fd = (int)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return husk_error_set(err, EINVAL, "bad command line");
		}
	}
	if (optind != argc)
		return husk_error_set(err, EINVAL, "unexpected argument %s", argv[optind]);
	if (!o->socket_path || !o->uds_path || !have_cid) {
		usage(stderr);
		return husk_error_set(err, EINVAL,
		                      "--socket, --uds-path and --guest-cid are required");
	}
	return 0;
}

/*
 * Whether the working directory is dir already: a daemon of its own user may be started in a
 * directory whose parents it cannot pass (husk does so); getcwd needs no permission.
 */
static bool in_dir(const char *dir)
{
	char cwd[PATH_MAX];
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return getcwd(cwd, sizeof(cwd)) && strlen(cwd) == n && memcmp(cwd, dir, n) == 0;
}

static int on_signal(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct signalfd_siginfo si;
	if (read(fd, &si, sizeof(si)) == sizeof(si))
		log_info("signal %u: shutting down", si.ssi_signo);
	husk_loop_stop(loop, 0);
	return 0;
}

static int on_tick(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct daemon *dm = data;
	uint64_t ticks;
	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return husk_error_set(err, errno, "timerfd");
	int64_t now = monotonic_ms();
	vsock_dev_expire(&dm->dev, now);
	hybrid_expire(&dm->hybrid, now);
	return 0;
}

/* QEMU connects once; later connections (there should be none) are turned away. */
static int on_front_end(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct daemon *dm = data;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0)
		return 0;
	if (dm->vu.conn_fd >= 0) {
		log_warn("a second vhost-user front-end connected; refusing it");
		close(cfd);
		return 0;
	}
	log_info("vhost-user front-end connected");
	if (vu_dev_attach(&dm->vu, cfd, err) < 0)
		return husk_error_prefix(err, "vhost-user front-end");
	return 0;
}

static int add_signalfd(struct husk_loop *loop, husk_err *err)
{
	static const int stop[] = {SIGTERM, SIGINT, SIGHUP};
	signal(SIGPIPE, SIG_IGN);
	int fd = signals_block_fd(stop, ARRAY_SIZE(stop), err);
	if (fd < 0)
		return -1;
	if (husk_loop_add(loop, fd, EPOLLIN, on_signal, NULL, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int add_ticker(struct daemon *dm, husk_err *err)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return husk_error_set(err, errno, "timerfd_create");
	struct itimerspec its = {.it_interval = {0, TICK_MS * 1000000L},
	                         .it_value = {0, TICK_MS * 1000000L}};
	if (timerfd_settime(fd, 0, &its, NULL) < 0 ||
	    husk_loop_add(dm->loop, fd, EPOLLIN, on_tick, dm, err) < 0) {
		if (!*err)
			husk_error_set(err, errno, "timerfd_settime");
		close(fd);
		return -1;
	}
	return fd;
}

/* Every connection holds a host socket: make room for the connection cap. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t want = 2 * VSOCK_MAX_CONNS + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("raising the open-file limit: %s", strerror(errno));
}

static int signal_ready(int fd, husk_err *err)
{
	if (fd < 0)
		return 0;
	static const char msg[] = "READY\n";
	ssize_t n = write(fd, msg, sizeof(msg) - 1);
	int e = errno;
	close(fd);
	if (n != (ssize_t)sizeof(msg) - 1)
		return husk_error_set(err, n < 0 ? e : EIO, "--ready-fd %d", fd);
	return 0;
}

static int serve(struct daemon *dm, const struct options *o, husk_err *err)
{
	cleanup_close int sig_fd = add_signalfd(dm->loop, err);
	if (sig_fd < 0)
		return -1;
	cleanup_close int tick_fd = add_ticker(dm, err);
	if (tick_fd < 0)
		return -1;
	if (vsock_dev_init(&dm->dev, dm->loop, &dm->vu, o->guest_cid, o->uds_path,
	                   o->tx_buffer_size, err) < 0)
		return -1;
	vu_dev_init(&dm->vu, dm->loop, o->guest_cid, &vsock_dev_ops, &dm->dev);
	if (hybrid_init(&dm->hybrid, dm->loop, o->uds_path, vsock_dev_connect_host, &dm->dev, err) <
	    0)
		return -1;
	dm->vu_listen_fd = uds_listen(o->socket_path, err);
	if (dm->vu_listen_fd < 0)
		return -1;
	dm->socket_path = o->socket_path;
	if (husk_loop_add(dm->loop, dm->vu_listen_fd, EPOLLIN, on_front_end, dm, err) < 0)
		return -1;
	if (vsockd_confine(err) < 0 || signal_ready(o->ready_fd, err) < 0)
		return -1;
	log_info("listening on %s (vhost-user) and %s (hybrid vsock), guest CID %llu",
	         o->socket_path, o->uds_path, (unsigned long long)o->guest_cid);
	return husk_loop_run(dm->loop, err) < 0 ? -1 : 0;
}

static void teardown(struct daemon *dm)
{
	vu_dev_detach(&dm->vu);
	vsock_dev_fini(&dm->dev);
	hybrid_fini(&dm->hybrid);
	if (dm->vu_listen_fd >= 0) {
		husk_loop_del(dm->loop, dm->vu_listen_fd);
		close(dm->vu_listen_fd);
		unlink(dm->socket_path);
	}
}

int main(int argc, char **argv)
{
	log_init("husk-vsockd");
	cleanup_error husk_err err = NULL;
	struct options o;
	if (parse_options(argc, argv, &o, &err) < 0) {
		log_error("%s", husk_error_msg(err));
		return 2;
	}
	log_set_level(o.log_level);
	/* where relative socket paths resolve, --uds-path's <path>_<port> included */
	if (o.dir && chdir(o.dir) < 0 && !(errno == EACCES && in_dir(o.dir))) {
		log_error("--dir %s: %s", o.dir, strerror(errno));
		return 1;
	}
	raise_fd_limit();
	static struct daemon dm = {
	    .vu_listen_fd = -1, .hybrid = {.listen_fd = -1}, .dev = {.resume_fd = -1}};
	dm.vu.conn_fd = -1;
	dm.loop = husk_loop_new(&err);
	if (!dm.loop) {
		log_error("%s", husk_error_msg(err));
		return 1;
	}
	int rc = serve(&dm, &o, &err);
	teardown(&dm);
	husk_loop_free(dm.loop);
	if (rc < 0) {
		log_error("%s", husk_error_msg(err));
		return 1;
	}
	return 0;
}
