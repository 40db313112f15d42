/*
 * husk-agent: PID 1 of the guest. Mounts the basic filesystems, loads the
 * kernel modules, mounts the virtio-fs share and serves the agent API on
 * vsock port 1024. With --listen-unix PATH (and not PID 1) it skips the init
 * duties and serves on a Unix socket, for tests and debugging.
 *
 * When the host's kernel command line says husk.debug_console=1, it also
 * serves the debug console on vsock port 1025: the execs of a container whose
 * init is the agent itself (the guest's own view), nothing else. Only the host
 * sets the command line: nothing in the guest can turn the port on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dns.h"
#include "network.h"
#include "agent.h"
#include "cgroup.h"
#include "containers.h"
#include "events.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "auth.h"
#include "modload.h"
#include "rpc.h"
#include "spawn.h"
#include "ttrpc/ttrpc.h"

#define AGENT_VSOCK_PORT    1024
#define DEBUGCON_VSOCK_PORT 1025
#define DEBUGCON_ID         "guest" /* the debug console container's id on its port */
#define SHARED_DIR          "/run/husk/shared"
#define MODULES_DIR         "/husk"
#define MODPROBE            MODULES_DIR "/modprobe" /* a link to /init (build-initrd) */

struct base_mount {
	const char *target, *type;
	unsigned long flags;
	const char *data;
};

static const struct base_mount base_mounts[] = {
    {"/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
    {"/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
    {"/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666"},
    {"/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
};

static int mount_base(husk_err *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(base_mounts); i++) {
		const struct base_mount *m = &base_mounts[i];
		if (mkdir(m->target, 0755) < 0 && errno != EEXIST)
			return husk_error_set(err, errno, "mkdir %s", m->target);
		if (mount(m->type, m->target, m->type, m->flags, m->data) < 0)
			return husk_error_set(err, errno, "mount %s on %s", m->type, m->target);
	}
	return 0;
}

/*
 * The initramfs has no /dev/console, so the kernel gave init no stdio. Without
 * a console, /dev/null keeps fds 0-2 from going to sockets opened later.
 */
static void open_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/* What the host's kernel command line says: husk.log=LEVEL, husk.debug_console=1. */
static void read_cmdline(struct agent *ag)
{
	char buf[4096];
	enum husk_log_level level;
	cleanup_close int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n"))
		if (strncmp(tok, "husk.log=", 9) == 0 && log_parse_level(tok + 9, &level) == 0)
			log_set_level(level);
		else if (strcmp(tok, "husk.debug_console=1") == 0)
			ag->debug_console = 1;
}

static int mount_shared(husk_err *err)
{
	if (mkdir("/run/husk", 0755) < 0 || mkdir(SHARED_DIR, 0755) < 0)
		return husk_error_set(err, errno, "mkdir %s", SHARED_DIR);
	/* suid: setuid programs of a rootfs or bind work as with runc (noNewPrivileges decides) */
	if (mount("husk", SHARED_DIR, "virtiofs", MS_NODEV, NULL) < 0)
		return husk_error_set(err, errno, "mount virtio-fs husk on %s", SHARED_DIR);
	return 0;
}

/*
 * The host put the sandbox's token in the share before the boot; it is taken out at once, so
 * no container (each sees only its own root) and nothing later in the guest finds it.
 */
static int take_token(struct agent *ag, husk_err *err)
{
	if (token_read_at(AT_FDCWD, SHARED_DIR "/" TOKEN_SHARE_NAME, &ag->token, err) < 0)
		return husk_error_prefix(err, "the host's token");
	if (unlink(SHARED_DIR "/" TOKEN_SHARE_NAME) < 0)
		return husk_error_set(err, errno, "remove the host's token");
	ag->token_set = true;
	return 0;
}

static int init_guest(struct agent *ag, husk_err *err)
{
	/* stdio may be closed: keep the first fds from landing on 0-2 before the console */
	if (mount_base(err) < 0)
		return -1;
	open_console();
	read_cmdline(ag);
	log_info("husk-agent %s starting", AGENT_VERSION);
	if (modload_all(MODULES_DIR "/modules.order", err) < 0 ||
	    write_str("/proc/sys/kernel/modprobe", MODPROBE, err) < 0 ||
	    network_loopback_up(err) < 0)
		return -1;
	return mount_shared(err) < 0 ? -1 : take_token(ag, err);
}

static int listen_vsock(unsigned port, husk_err *err)
{
	struct sockaddr_vm addr = {
	    .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	cleanup_close int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return husk_error_set(err, errno, "vsock socket");
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 16) < 0)
		return husk_error_set(err, errno, "vsock port %u", port);
	return move_fd(fd);
}

static int on_accept(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept: %s", strerror(errno));
		return 0;
	}
	auth_gate_admit(data, conn);
	return 0;
}

static int on_sigchld(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si))
		;
	spawn_reap(data);
	return 0;
}

static int watch_children(struct agent *ag, husk_err *err)
{
	static const int chld[] = {SIGCHLD};
	int fd = signals_block_fd(chld, ARRAY_SIZE(chld), err);
	if (fd < 0)
		return -1;
	if (husk_loop_add(ag->loop, fd, EPOLLIN, on_sigchld, ag, err) < 0) {
		close(fd);
		return -1;
	}
	return 0;
}

static int watch_cgroups(struct agent *ag, husk_err *err)
{
	if (cgroup_init(CGROUP_ROOT, ag->cgroup_parent, sizeof(ag->cgroup_parent), err) < 0)
		return -1;
	return events_init(ag, err);
}

static void on_conn_closed(void *data)
{
	struct agent *ag = data;
	log_info("host disconnected");
	if (ag->destroying)
		husk_loop_stop(ag->loop, 0);
}

__attribute__((noreturn)) static void power_off(void)
{
	sync();
	umount2(SHARED_DIR, MNT_DETACH);
	reboot(RB_POWER_OFF);
	_exit(1); /* init exiting panics the kernel: with panic=-1, QEMU ends too */
}

struct options {
	const char *listen_unix;
	const char *shared_dir;
	const char *token_file; /* --listen-unix only: without it, no token is asked for */
};

static int parse_options(int argc, char **argv, struct options *o, husk_err *err)
{
	o->shared_dir = SHARED_DIR;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen-unix") == 0 && i + 1 < argc)
			o->listen_unix = argv[++i];
		else if (strcmp(argv[i], "--shared-dir") == 0 && i + 1 < argc)
			o->shared_dir = argv[++i];
		else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc)
			o->token_file = argv[++i];
		else if (strcmp(argv[i], "--debug") == 0)
			log_set_level(LOG_LEVEL_DEBUG);
		else
			return husk_error_set(err, 0,
			                      "usage: husk-agent [--listen-unix PATH] "
			                      "[--shared-dir DIR] [--token-file FILE] [--debug]");
	}
	return 0;
}

/* SIGKILLs pid and, when it leads a session, every process of that session (its jobs). */
static void kill_session(pid_t pid)
{
	cleanup_closedir DIR *d = opendir("/proc");
	struct dirent *e;
	kill(pid, SIGKILL);
	while (d && (e = readdir(d))) {
		pid_t p = (pid_t)atoi(e->d_name);
		if (p > 1 && getsid(p) == pid)
			kill(p, SIGKILL);
	}
}

/*
 * A console whose host went away (husk debug-console killed) has no call
 * left waiting on it: its shell would outlive it, holding the terminal.
 */
static void on_debug_conn_closed(void *data)
{
	struct agent *ag = data;
	for (struct process *p = ag->debug->execs; p; p = p->next)
		if (!p->exited && p->pid > 0 && !p->waits && !p->out.reads && !p->err.reads)
			kill_session(p->pid);
}

/* The debug console's port and server, when the host enabled it. */
/* A ttrpc server and the token gate in front of it. */
struct listener {
	int fd;
	struct ttrpc_server *srv;
	struct auth_gate *gate;
};

static void listener_free(struct listener *l)
{
	auth_gate_free(l->gate);
	ttrpc_server_free(l->srv);
	close_fd(&l->fd);
}

static int listener_start(struct agent *ag, struct listener *l, const struct ttrpc_method *methods,
                          size_t n, struct rpc_scope *scope, husk_err *err)
{
	if (!(l->srv = ttrpc_server_new(ag->loop, methods, n, scope, err)) ||
	    !(l->gate = auth_gate_new(ag->loop, ag->token_set ? &ag->token : NULL, l->srv, err)))
		return -1;
	return husk_loop_add(ag->loop, l->fd, EPOLLIN, on_accept, l->gate, err);
}

static int serve_debug_console(struct agent *ag, struct rpc_scope *scope, struct listener *l,
                               husk_err *err)
{
	if (!ag->debug_console)
		return 0;
	if (containers_add_debug(ag, DEBUGCON_ID, err) < 0 ||
	    (l->fd = listen_vsock(DEBUGCON_VSOCK_PORT, err)) < 0 ||
	    listener_start(ag, l, rpc_debug_methods, rpc_debug_nmethods, scope, err) < 0)
		return husk_error_prefix(err, "debug console");
	ttrpc_server_on_conn_closed(l->srv, on_debug_conn_closed, ag);
	log_info("serving the debug console on vsock port %d", DEBUGCON_VSOCK_PORT);
	return 0;
}

static int serve(struct agent *ag, int listen_fd, husk_err *err)
{
	struct rpc_scope scope = {.ag = ag}, debug_scope = {.ag = ag, .debug = 1};
	struct listener api = {.fd = listen_fd}, debug = {.fd = -1};
	int ret = listener_start(ag, &api, rpc_methods, rpc_nmethods, &scope, err);
	if (ret == 0) {
		ttrpc_server_on_conn_closed(api.srv, on_conn_closed, ag);
		ret = serve_debug_console(ag, &debug_scope, &debug, err);
	}
	if (ret == 0)
		ret = husk_loop_run(ag->loop, err);
	containers_free_all(ag);
	listener_free(&debug);
	api.fd = -1; /* the caller's */
	listener_free(&api);
	return ret;
}

static int run(struct agent *ag, const struct options *o, husk_err *err)
{
	if (ag->pid1 && init_guest(ag, err) < 0)
		return -1;
	if (!ag->pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return husk_error_set(err, errno, "PR_SET_CHILD_SUBREAPER");
	signal(SIGPIPE, SIG_IGN);
	if (!(ag->loop = husk_loop_new(err)) || watch_children(ag, err) < 0 ||
	    (ag->pid1 && watch_cgroups(ag, err) < 0))
		return -1;
	int unix_mode = o->listen_unix && !ag->pid1;
	if (unix_mode && o->token_file) {
		if (token_read_at(AT_FDCWD, o->token_file, &ag->token, err) < 0)
			return -1;
		ag->token_set = true;
	}
	cleanup_close int fd = unix_mode ? unix_listen(o->listen_unix, 16, SOCK_NONBLOCK, err)
	                                 : listen_vsock(AGENT_VSOCK_PORT, err);
	if (fd < 0)
		return -1;
	log_info("serving the agent API on %s", unix_mode ? o->listen_unix : "vsock port 1024");
	int ret = serve(ag, fd, err);
	if (unix_mode)
		unlink(o->listen_unix);
	return ret;
}

/*
 * The kernel's request_module runs MODPROBE -q -- NAME in the guest's init
 * namespaces; a module the image lacks is no error worth a line (the kernel
 * asks speculatively), a load that fails is one on the console.
 */
static int modprobe_main(int argc, char **argv)
{
	cleanup_error husk_err err = NULL;
	if (argc < 2 || argv[argc - 1][0] == '-') /* the kernel's: [-q] [--] NAME */
		return 2;
	if (modload_probe(MODULES_DIR, argv[argc - 1], &err) == 0)
		return 0;
	if (err->code != ENOENT) {
		log_init("husk modprobe");
		log_error("%s", husk_error_msg(err));
	}
	return 1;
}

int main(int argc, char **argv)
{
	cleanup_error husk_err err = NULL;
	struct options o = {0};
	struct agent ag = {
	    .pid1 = getpid() == 1, .inotify_fd = -1, .freeze_timeout_ms = EVENTS_FREEZE_TIMEOUT_MS};

	const char *base = strrchr(argv[0], '/');
	if (strcmp(base ? base + 1 : argv[0], "modprobe") == 0)
		return modprobe_main(argc, argv);
	log_init("husk-agent");
	log_set_level(LOG_LEVEL_WARN);
	if (parse_options(argc, argv, &o, &err) < 0) {
		fprintf(stderr, "husk-agent: %s\n", husk_error_msg(err));
		return 2;
	}
	ag.shared_dir = o.shared_dir;
	int ret = run(&ag, &o, &err);
	if (ret < 0)
		log_error("%s", husk_error_msg(err));
	if (ag.pid1)
		power_off();
	events_close(&ag);
	dns_relay_free(ag.dns);
	husk_loop_free(ag.loop);
	return ret < 0 ? 1 : 0;
}
