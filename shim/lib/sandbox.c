#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bootslot.h"
#include "metricsdir.h"
#include "lib/clock.h"
#include "conslog.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/text.h"
#include "lib/token.h"
#include "hypervisor/qemu/qemu.h"
#include "hypervisor/qemu/virtiofsd.h"
#include "podnet.h"
#include "resources.h"
#include "hypervisor/vsock/dial.h"

#define DIAL_INTERVAL_MS 50
#define TAIL_BYTES       4096
#define TAIL_SHOWN       300
/* how long a helper's death waits to see whether QEMU's caused it */
#define CAUSE_WAIT_MS 500

struct helper {
	struct sandbox *sb;
	const char *name;
	const char *log; /* where its complaints go, for the error message */
	struct proc proc;
	bool watched;
};

/* A host path bound at shared/<name>: a container's rootfs, or a bind mount's source. */
struct share {
	char *container_id;
	/* the container id for its rootfs (the rootfs tag), else "_m<N>": ids start alphanumeric */
	char name[SPEC_MAX_ID + 1];
	bool rootfs;
	bool
	    readonly_once_created; /* a read-only rootfs, read-write until its mount points exist */
	uint32_t index;            /* a bind mount's index into the spec's mounts */
};

struct sandbox {
	struct husk_loop *loop;
	char *id;
	const struct husk_config *cfg;
	struct statedir sd;
	bool shared_mounted;
	struct share *shares; /* what is bound under shared/ */
	size_t nshares;
	unsigned next_tag;
	struct helper vsockd, virtiofsd, qemu;
	struct conslog console;
	int virtiofsd_listener; /* held until QEMU is connected: see virtiofsd_start */
	int ready_fd;
	bool vsockd_ready;
	int boot_timer, dial_timer;
	int boot_slot;                /* held from QEMU's start until the agent answers */
	int net_watch;                /* podnet_watch's fd, in the loop once booted; else -1 */
	struct vsock_dial_state dial; /* the agent dial attempt in progress, if dial.fd >= 0 */
	unsigned dial_failures;
	char dial_last[96]; /* why the last failed attempt failed, for the boot timeout's message */
	enum vsock_transport transport;
	struct agent_client *agent;
	bool stopping;
	const char *const *keep; /* entries of the state dir that outlive the sandbox */
	struct timespec boot_start;
	unsigned vcpus, memory_mib; /* the VM's size: cfg's, or sandbox_set_size's */
	bool guest_log;             /* the console's lines also go to the log */
	struct podnet *net;         /* the pod's network namespace, attached, or NULL */
	bool debug_console;         /* the guest serves the debug console */
	enum accel_mode accel;      /* once booted */
	int64_t created_us;         /* monotonic_us at sandbox_create */
	int64_t boot_us, start_us;  /* sandbox_stats's, -1 until known */
	struct token token;         /* the agent's (make_token) */
	unsigned cid;               /* the guest's vsock CID */
	int cid_slot;       /* its slot's lock, held for the sandbox's life (kernel vsock) */
	int uid_slot;       /* the helpers' users' slot (bootslot.h), held likewise */
	unsigned user_slot; /* its number */
};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static double ms_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The last lines of a log, flattened to one printable line. */
static void log_tail(const char *path, char *out, size_t len)
{
	char buf[TAIL_BYTES + 1];
	out[0] = '\0';
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t start = end > TAIL_BYTES ? end - TAIL_BYTES : 0;
	ssize_t n = pread(fd, buf, TAIL_BYTES, start);
	if (n <= 0)
		return;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	/* the last two lines */
	char *from = buf;
	for (int lines = 0, i = (int)n - 1; i >= 0; i--) {
		if (buf[i] == '\n' && ++lines == 2) {
			from = buf + i + 1;
			break;
		}
	}
	/* the console is the guest's text: each line escaped, joined by " | " */
	size_t o = 0, cap = len < TAIL_SHOWN + 1 ? len : TAIL_SHOWN + 1;
	for (char *line = from; line && o + 4 < cap;) {
		char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);
		if (l && line[l - 1] == '\r')
			l--;
		if (o) {
			memcpy(out + o, " | ", 3);
			o += 3;
		}
		text_escape(out + o, cap - o, line, l);
		o += strlen(out + o);
		line = nl ? nl + 1 : NULL;
	}
	out[o] = '\0';
}

/* "; see /run/husk/abc/console.log: last lines" (empty if the log is empty) */
static void log_hint(const char *path, char *out, size_t len)
{
	char tail[TAIL_SHOWN + 8];
	log_tail(path, tail, sizeof(tail));
	if (tail[0])
		snprintf(out, len, "; %s: %s", path, tail);
	else
		out[0] = '\0';
}

/* The console's last lines, with what QEMU wrote last read in first. */
static void console_hint(struct sandbox *sb, char *out, size_t len)
{
	conslog_drain(&sb->console);
	log_hint(sb->sd.console_log, out, len);
}

static void qemu_hint(struct sandbox *sb, char *out, size_t len)
{
	log_hint(sb->sd.qemu_log, out, len);
	if (!out[0])
		console_hint(sb, out, len);
}

static bool qemu_running(struct sandbox *sb)
{
	return sb->qemu.proc.pid > 0 && !sb->qemu.proc.reaped;
}

/*
 * When QEMU dies its back-ends follow (husk-vsockd exits as QEMU hangs up),
 * and their pidfds may fire first: name QEMU if it exits right after.
 */
static struct helper *root_cause(struct helper *h)
{
	struct sandbox *sb = h->sb;
	husk_err ignored = NULL;
	if (h == &sb->qemu || !qemu_running(sb))
		return h;
	int r = proc_wait_status(&sb->qemu.proc, CAUSE_WAIT_MS, &ignored);
	husk_error_free(&ignored);
	if (r != 1)
		return h;
	if (sb->qemu.watched)
		husk_loop_del(sb->loop, sb->qemu.proc.pidfd);
	sb->qemu.watched = false;
	return &sb->qemu;
}

static int helper_failed(struct helper *h, husk_err *err)
{
	char status[96], hint[TAIL_SHOWN + 256];
	h = root_cause(h);
	proc_status_str(h->proc.status, status, sizeof(status));
	if (h == &h->sb->qemu)
		qemu_hint(h->sb, hint, sizeof(hint));
	else
		log_hint(h->log, hint, sizeof(hint));
	return husk_error_set(err, 0, "%s exited unexpectedly (%s)%s", h->name, status, hint);
}

static int on_helper_exit(struct husk_loop *loop, int fd, uint32_t events, void *data,
                          husk_err *err)
{
	struct helper *h = data;
	husk_err ignored = NULL;
	if (proc_try_reap(&h->proc, &ignored) == 0)
		return 0;
	husk_error_free(&ignored);
	husk_loop_del(loop, fd);
	h->watched = false;
	if (h->sb->stopping)
		return 0;
	if (h->sb->boot_us >= 0)
		failcount_add(FAIL_HELPER); /* during the boot, the boot failed */
	return helper_failed(h, err);
}

static int watch_helper(struct sandbox *sb, struct helper *h, husk_err *err)
{
	if (h->proc.pidfd < 0)
		return 0;
	if (husk_loop_add(sb->loop, h->proc.pidfd, EPOLLIN, on_helper_exit, h, err) < 0)
		return -1;
	h->watched = true;
	return 0;
}

static void stop_helper(struct sandbox *sb, struct helper *h, int sig, int timeout_ms)
{
	if (h->watched)
		husk_loop_del(sb->loop, h->proc.pidfd);
	h->watched = false;
	proc_kill_and_reap(&h->proc, sig, timeout_ms);
}

static void helper_init(struct sandbox *sb, struct helper *h, const char *name, const char *log)
{
	h->sb = sb;
	h->name = name;
	h->log = log;
	proc_init(&h->proc);
}

/*
 * shared/ is a small tmpfs of the owner's mount namespace over the state directory's empty
 * shared/: virtiofsd serves it read-write, so what the guest's root writes there outside any
 * bind is bounded (the mount points take an inode each) and never reaches the host's /run.
 */
#define SHARED_TMPFS_OPTS "mode=0711,size=1m,nr_inodes=4096"

static int share_dir(struct sandbox *sb, husk_err *err)
{
	const char *dir = sb->sd.shared;
	if (mount("husk-shared", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	          SHARED_TMPFS_OPTS) < 0)
		return husk_error_set(err, errno, "tmpfs %s", dir);
	sb->shared_mounted = true;
	if (mount(NULL, dir, NULL, MS_SHARED, NULL) < 0)
		return husk_error_set(err, errno, "make %s shared", dir);
	return 0;
}

/*
 * The agent serves only connections that show the sandbox's token: the host's commands read it
 * from the state dir, the guest from the share, where the agent removes it as it starts.
 */
static int make_token(struct sandbox *sb, husk_err *err)
{
	cleanup_close int shared = open(sb->sd.shared, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (shared < 0)
		return husk_error_set(err, errno, "%s", sb->sd.shared);
	if (token_generate(&sb->token, err) < 0 ||
	    token_write_at(sb->sd.fd, STATEDIR_AGENT_TOKEN, &sb->token, err) < 0 ||
	    token_write_at(shared, TOKEN_SHARE_NAME, &sb->token, err) < 0)
		return -1;
	return 0;
}

static int enter_namespace_once(husk_err *err)
{
	static bool entered;
	if (entered)
		return 0;
	if (mount_namespace_enter(err) < 0)
		return -1;
	entered = true;
	return 0;
}

struct sandbox *sandbox_create(struct husk_loop *loop, const char *root, const char *id,
                               const struct husk_config *cfg, husk_err *err)
{
	if (container_id_check(id, err) < 0)
		return NULL;
	struct sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb || !(sb->id = strdup(id))) {
		free(sb);
		husk_error_set(err, ENOMEM, "sandbox");
		return NULL;
	}
	sb->loop = loop;
	sb->cfg = cfg;
	sb->vcpus = cfg->vcpus;
	sb->memory_mib = cfg->memory_mib;
	sb->guest_log = true;
	sb->ready_fd = sb->boot_timer = sb->dial_timer = sb->dial.fd = sb->virtiofsd_listener = -1;
	sb->boot_slot = sb->net_watch = sb->cid_slot = sb->uid_slot = -1;
	sb->cid = cfg->guest_cid;
	sb->created_us = monotonic_us();
	sb->boot_us = sb->start_us = -1;
	helper_init(sb, &sb->vsockd, "husk-vsockd", NULL);
	helper_init(sb, &sb->virtiofsd, "virtiofsd", NULL);
	helper_init(sb, &sb->qemu, "qemu", NULL);
	conslog_init(&sb->console);
	if (statedir_create(root, id, &sb->sd, err) < 0) {
		free(sb->id);
		free(sb);
		return NULL;
	}
	sb->vsockd.log = sb->sd.vsockd_log;
	sb->virtiofsd.log = sb->sd.virtiofsd_log;
	sb->qemu.log = sb->sd.console_log;
	if (enter_namespace_once(err) < 0 || share_dir(sb, err) < 0 || make_token(sb, err) < 0) {
		sandbox_destroy(sb);
		return NULL;
	}
	return sb;
}

static struct share *share_add(struct sandbox *sb, const char *container_id, husk_err *err)
{
	struct share *grown = realloc(sb->shares, (sb->nshares + 1) * sizeof(*grown));
	if (!grown) {
		husk_error_set(err, ENOMEM, "shares");
		return NULL;
	}
	sb->shares = grown;
	struct share *sh = &sb->shares[sb->nshares];
	*sh = (struct share){.container_id = strdup(container_id)};
	if (!sh->container_id) {
		husk_error_set(err, ENOMEM, "shares");
		return NULL;
	}
	sb->nshares++;
	return sh;
}

/* Unbinds and forgets sb->shares[i]. */
static void share_drop(struct sandbox *sb, size_t i)
{
	statedir_unbind(&sb->sd, sb->shares[i].name);
	free(sb->shares[i].container_id);
	sb->shares[i] = sb->shares[--sb->nshares];
}

int sandbox_add_rootfs(struct sandbox *sb, const char *container_id, const char *rootfs, bool ro,
                       husk_err *err)
{
	struct share *sh = share_add(sb, container_id, err);
	if (!sh)
		return -1;
	sh->rootfs = true;
	sh->readonly_once_created = ro;
	snprintf(sh->name, sizeof(sh->name), "%s", container_id);
	if (statedir_bind(&sb->sd, container_id, rootfs, STATEDIR_BIND_REC, err) < 0) {
		free(sh->container_id);
		sb->nshares--;
		return husk_error_prefix(err, "rootfs");
	}
	return statedir_record_task(sb->sd.fd, container_id, err);
}

static unsigned bind_how(const struct bundle_bind *b)
{
	return (b->recursive ? STATEDIR_BIND_REC : 0) | (b->readonly ? STATEDIR_BIND_RO : 0) |
	       (b->private_ ? STATEDIR_BIND_PRIVATE : 0);
}

int sandbox_add_mounts(struct sandbox *sb, const char *container_id, const struct bundle *spec,
                       husk_err *err)
{
	for (size_t i = 0; i < spec->nbinds; i++) {
		const struct bundle_bind *b = &spec->binds[i];
		struct share *sh = share_add(sb, container_id, err);
		if (!sh)
			goto fail;
		sh->index = b->index;
		snprintf(sh->name, sizeof(sh->name), "_m%u", sb->next_tag++);
		if (statedir_bind(&sb->sd, sh->name, b->source, bind_how(b), err) < 0) {
			free(sh->container_id);
			sb->nshares--;
			husk_error_prefix(err, "mount %s", b->destination);
			goto fail;
		}
		log_debug("mount %s: %s shared as %s%s", b->destination, b->source, sh->name,
		          b->readonly ? " (read-only)" : "");
	}
	return 0;
fail:
	for (size_t i = sb->nshares; i-- > 0;)
		if (!sb->shares[i].rootfs && !strcmp(sb->shares[i].container_id, container_id))
			share_drop(sb, i);
	return -1;
}

void sandbox_release_container(struct sandbox *sb, const char *container_id)
{
	statedir_forget_task(sb->sd.fd, container_id);
	for (size_t i = sb->nshares; i-- > 0;)
		if (!strcmp(sb->shares[i].container_id, container_id))
			share_drop(sb, i);
}

/* --- boot ------------------------------------------------------------------------------- */

static int open_log(const char *path, husk_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return husk_error_set(err, errno, "%s", path);
	return fd;
}

/* Runs the loop until *flag is set; helper deaths, the boot timer and signals end it early. */
static int wait_for(struct sandbox *sb, const bool *flag, husk_err *err)
{
	while (!*flag)
		if (husk_loop_run_once(sb->loop, -1, err) < 0)
			return -1;
	return 0;
}

static int on_vsockd_ready(struct husk_loop *loop, int fd, uint32_t events, void *data,
                           husk_err *err)
{
	struct sandbox *sb = data;
	char buf[16];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	husk_loop_del(loop, fd);
	if (n >= 6 && !memcmp(buf, "READY\n", 6)) {
		sb->vsockd_ready = true;
		return 0;
	}
	char hint[TAIL_SHOWN + 256];
	log_hint(sb->sd.vsockd_log, hint, sizeof(hint));
	return husk_error_set(err, 0, "husk-vsockd did not become ready%s", hint);
}

/*
 * With the hybrid vsock, QEMU and husk-vsockd run as users of their own: the same slot of
 * QEMU_UID_SLOT_DIR, held for the sandbox's life, in each one's range (bootslot.h).
 */
static int take_helper_users(struct sandbox *sb, husk_err *err)
{
	if (mkdir_p(QEMU_UID_SLOT_DIR, 0700, err) < 0)
		return -1;
	sb->uid_slot = slot_try(QEMU_UID_SLOT_DIR, 0, QEMU_UID_RANGE, &sb->user_slot, err);
	if (sb->uid_slot == -1)
		return husk_error_set(err, EUSERS, "helper users: all %d taken", QEMU_UID_RANGE);
	return sb->uid_slot < 0 ? -1 : 0;
}

static struct proc_ids helper_ids(const struct sandbox *sb, uid_t base)
{
	return (struct proc_ids){.uid = base + sb->user_slot, .gid = base + sb->user_slot};
}

/* "<root>/<id>/", as every helper's command line names it (pgrep -f finds all) */
static char *dir_named(struct sandbox *sb, const char *helper, husk_err *err)
{
	char *dir = NULL;
	if (asprintf(&dir, "%s/", sb->sd.dir) < 0) {
		husk_error_set(err, ENOMEM, "%s", helper);
		return NULL;
	}
	return dir;
}

/*
 * husk-vsockd's own directory, its user's alone (the owner reaches it as root), as getcwd will
 * name it to the daemon, which checks it was started there: canonical, and by path (the state
 * dir's fd is of the mount namespace before the owner's, where getcwd cannot name it).
 */
static char *make_vsockd_dir(struct sandbox *sb, const struct proc_ids *ids, husk_err *err)
{
	cleanup_free char *path = NULL, *real = NULL;
	char *dir = NULL;
	if (mkdirat(sb->sd.fd, STATEDIR_VSOCKD_DIR, 0700) < 0)
		husk_error_set(err, errno, "mkdir %s", STATEDIR_VSOCKD_DIR);
	else if (fchownat(sb->sd.fd, STATEDIR_VSOCKD_DIR, ids->uid, ids->gid, AT_SYMLINK_NOFOLLOW) <
	         0)
		husk_error_set(err, errno, "chown %s", STATEDIR_VSOCKD_DIR);
	else if (asprintf(&path, "%s/%s", sb->sd.dir, STATEDIR_VSOCKD_DIR) < 0)
		husk_error_set(err, ENOMEM, "husk-vsockd"), path = NULL;
	else if (!(real = realpath(path, NULL)))
		husk_error_set(err, errno, "%s", path);
	else if (asprintf(&dir, "%s/", real) < 0)
		husk_error_set(err, ENOMEM, "husk-vsockd"), dir = NULL;
	return dir;
}

static int start_vsockd(struct sandbox *sb, husk_err *err)
{
	char cid[16], ready_fd[8];
	int pipefd[2];
	struct proc_ids ids = helper_ids(sb, VSOCKD_UID_BASE);
	cleanup_close int log_fd = open_log(sb->sd.vsockd_log, err);
	if (log_fd < 0)
		return -1;
	cleanup_free char *dir = make_vsockd_dir(sb, &ids, err);
	if (!dir)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return husk_error_set(err, errno, "pipe");
	sb->ready_fd = pipefd[0];
	cleanup_close int write_end = pipefd[1];
	snprintf(cid, sizeof(cid), "%u", sb->cid);
	snprintf(ready_fd, sizeof(ready_fd), "%d", 3);
	const char *level = log_get_level() >= LOG_LEVEL_DEBUG ? "debug" : "warn";
	const char *argv[] = {
	    sb->cfg->vsockd, "--dir",         dir,           "--socket", VSOCKD_VHOST_SOCK,
	    "--uds-path",    VSOCKD_UDS_SOCK, "--guest-cid", cid,        "--ready-fd",
	    ready_fd,        "--log-level",   level,         NULL};
	struct proc_fd_map fds[] = {{write_end, 3}};
	/*
	 * No capability: it binds its sockets in its own directory, started there (its user
	 * cannot pass root's state directory to reach it by path).
	 */
	struct proc_spec spec = {.argv = argv,
	                         .fds = fds,
	                         .nfds = 1,
	                         .stdin_fd = -1,
	                         .stdout_fd = log_fd,
	                         .stderr_fd = log_fd,
	                         .cwd = dir,
	                         .least_privilege = true,
	                         .keep_caps = 0,
	                         .ids = &ids};
	if (proc_spawn(&spec, &sb->vsockd.proc, err) < 0)
		return husk_error_prefix(err, "husk-vsockd");
	if (watch_helper(sb, &sb->vsockd, err) < 0 ||
	    husk_loop_add(sb->loop, sb->ready_fd, EPOLLIN, on_vsockd_ready, sb, err) < 0)
		return -1;
	close(move_fd(write_end));
	if (wait_for(sb, &sb->vsockd_ready, err) < 0)
		return -1;
	log_debug("boot: husk-vsockd ready (+%.0f ms)", ms_since(&sb->boot_start));
	return 0;
}

static int start_virtiofsd(struct sandbox *sb, husk_err *err)
{
	struct virtiofsd_spec spec = {.binary = sb->cfg->virtiofsd,
	                              .socket_path = sb->sd.virtiofsd_sock,
	                              .shared_dir = sb->sd.shared,
	                              .cache = sb->cfg->virtiofs_cache,
	                              .log_path = sb->sd.virtiofsd_log,
	                              .debug = log_get_level() >= LOG_LEVEL_DEBUG};
	sb->virtiofsd_listener = virtiofsd_start(&spec, &sb->virtiofsd.proc, err);
	if (sb->virtiofsd_listener < 0 || watch_helper(sb, &sb->virtiofsd, err) < 0)
		return -1;
	log_debug("boot: virtiofsd started (+%.0f ms)", ms_since(&sb->boot_start));
	return 0;
}

static void log_argv(char **argv)
{
	char line[4096];
	size_t o = 0;
	for (char **a = argv; *a && o < sizeof(line) - 1; a++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%s", o ? " " : "", *a);
	log_debug("qemu: %s", line);
}

/* the back-end's socket name in the state dir, connected */
static int connect_backend(struct sandbox *sb, const char *name, husk_err *err)
{
	char path[STATEDIR_SOCK_PATH_MAX];
	if (statedir_sock_path(sb->sd.fd, name, path, err) < 0)
		return -1;
	return unix_connect("connect", path, err);
}

static int open_image(const char *path, husk_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? husk_error_set(err, errno, "guest image %s", path) : fd;
}

/*
 * QEMU as a user of its own (helper_ids), given open
 * what it would reach by path: the back-ends' sockets, the kernel and initrd; with KVM also in
 * /dev/kvm's group. With the kernel's vsock QEMU opens /dev/vhost-vsock itself and stays root.
 */
static int qemu_confine(struct sandbox *sb, const struct accel_choice *accel, struct qemu_opened *o,
                        struct proc_ids *ids, gid_t *kvm_group, husk_err *err)
{
	struct stat kvm;
	*ids = helper_ids(sb, QEMU_UID_BASE);
	if (accel->accel == ACCEL_KVM && stat("/dev/kvm", &kvm) == 0) {
		*kvm_group = kvm.st_gid;
		ids->groups = kvm_group;
		ids->ngroups = 1;
	}
	if ((o->vsock = connect_backend(sb, STATEDIR_VHOST_VSOCK_SOCK, err)) < 0 ||
	    (o->virtiofs = connect_backend(sb, STATEDIR_VIRTIOFSD_SOCK, err)) < 0 ||
	    (o->kernel = open_image(sb->cfg->kernel, err)) < 0 ||
	    (sb->cfg->initrd && (o->initrd = open_image(sb->cfg->initrd, err)) < 0))
		return -1;
	return 0;
}

static void qemu_opened_close(struct qemu_opened *o)
{
	close_fd(&o->vsock);
	close_fd(&o->virtiofs);
	close_fd(&o->kernel);
	close_fd(&o->initrd);
}

static int start_qemu(struct sandbox *sb, const struct accel_choice *accel, husk_err *err)
{
	const struct husk_config *cfg = sb->cfg;
	struct qemu_nic nics[PODNET_IFACES_MAX];
	char cmdline[128];
	enum husk_log_level level =
	    log_get_level() > cfg->log_level ? log_get_level() : cfg->log_level;
	snprintf(cmdline, sizeof(cmdline), "console=ttyS0 panic=-1 quiet husk.log=%s%s",
	         level_names[level], sb->debug_console ? " husk.debug_console=1" : "");
	cleanup_free char *name = dir_named(sb, "qemu", err);
	cleanup_close int console = -1;
	if (!name || conslog_open(&sb->console, sb->loop, sb->sd.console_log,
	                          sb->guest_log ? sb->id : NULL, &console, err) < 0)
		return -1;
	struct qemu_spec spec = {
	    .binary = cfg->qemu,
	    .name = name,
	    .kernel = cfg->kernel,
	    .initrd = cfg->initrd,
	    .cmdline = cmdline,
	    .vcpus = sb->vcpus,
	    .memory_mib = sb->memory_mib,
	    .accel = accel->accel,
	    .dir = sb->sd.dir,
	    .vsock = sb->transport == VSOCK_HYBRID ? QEMU_VSOCK_VHOST_USER : QEMU_VSOCK_KERNEL,
	    .vsock_socket = STATEDIR_VHOST_VSOCK_SOCK,
	    .guest_cid = sb->cid,
	    .virtiofs_socket = STATEDIR_VIRTIOFSD_SOCK,
	    .virtiofs_tag = "husk",
	    .console_fd = console,
	    .qmp_socket = sb->sd.qmp_sock,
	    .nics = nics,
	    .nnics = sb->net ? podnet_nics(sb->net, nics) : 0,
	};
	if (log_get_level() >= LOG_LEVEL_DEBUG) {
		char **argv = NULL;
		if (qemu_build_argv(&spec, &argv, err) < 0)
			return -1;
		log_argv(argv);
		qemu_argv_free(argv);
	}
	struct qemu_opened opened = {-1, -1, -1, -1};
	struct proc_ids ids;
	gid_t kvm_group;
	if (sb->transport == VSOCK_HYBRID) {
		if (qemu_confine(sb, accel, &opened, &ids, &kvm_group, err) < 0) {
			qemu_opened_close(&opened);
			return -1;
		}
		spec.opened = &opened;
		spec.run_as = &ids;
	}
	cleanup_close int log_fd = open_log(sb->sd.qemu_log, err);
	int r = log_fd < 0 ? -1 : qemu_start(&spec, log_fd, &sb->qemu.proc, err);
	qemu_opened_close(&opened);
	if (r < 0)
		return log_fd < 0 ? -1 : husk_error_prefix(err, "qemu");
	if (watch_helper(sb, &sb->qemu, err) < 0)
		return -1;
	log_debug("boot: qemu started (+%.0f ms)", ms_since(&sb->boot_start));
	return 0;
}

static int timer_arm(int fd, unsigned first_ms, unsigned interval_ms, husk_err *err)
{
	struct itimerspec its = {
	    .it_value = {first_ms / 1000, (long)(first_ms % 1000) * 1000000},
	    .it_interval = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000},
	};
	if (timerfd_settime(fd, 0, &its, NULL) < 0)
		return husk_error_set(err, errno, "timerfd_settime");
	return 0;
}

static int timer_add(struct sandbox *sb, int *fd, unsigned first_ms, unsigned interval_ms,
                     husk_loop_cb cb, husk_err *err)
{
	*fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (*fd < 0)
		return husk_error_set(err, errno, "timerfd_create");
	if (timer_arm(*fd, first_ms, interval_ms, err) < 0)
		return -1;
	return husk_loop_add(sb->loop, *fd, EPOLLIN, cb, sb, err);
}

static void timer_close(struct sandbox *sb, int *fd)
{
	if (*fd < 0)
		return;
	husk_loop_del(sb->loop, *fd);
	close_fd(fd);
}

/* How far the dial got: tells a guest that never listened from one that never answered. */
static void dial_summary(const struct sandbox *sb, char *out, size_t len)
{
	if (sb->dial.fd >= 0)
		snprintf(out, len, " (%u attempts failed; one still waits for an answer)",
		         sb->dial_failures);
	else if (sb->dial_failures)
		snprintf(out, len, " (%u attempts failed, the last: %s)", sb->dial_failures,
		         sb->dial_last);
	else
		snprintf(out, len, " (no attempt made)");
}

static int on_boot_timeout(struct husk_loop *loop, int fd, uint32_t events, void *data,
                           husk_err *err)
{
	struct sandbox *sb = data;
	char hint[TAIL_SHOWN + 256], dial[160];
	dial_summary(sb, dial, sizeof(dial));
	console_hint(sb, hint, sizeof(hint));
	return husk_error_set(err, 0, "agent not reachable within %u ms%s%s",
	                      sb->cfg->timeouts.boot_ms, dial, hint);
}

static void dial_failed(struct sandbox *sb, husk_err *dial_err)
{
	sb->dial_failures++;
	snprintf(sb->dial_last, sizeof(sb->dial_last), "%s", husk_error_msg(*dial_err));
	husk_error_free(dial_err);
}

static void dial_stop(struct sandbox *sb)
{
	if (sb->dial.fd < 0)
		return;
	husk_loop_del(sb->loop, sb->dial.fd);
	vsock_dial_abort(&sb->dial);
}

/* Advances the attempt; a failed one (agent not listening yet) is begun again on the next tick. */
static int on_dial_ready(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct sandbox *sb = data;
	husk_err dial_err = NULL;
	int r = vsock_dial_step(&sb->dial, &dial_err);
	if (r == 0)
		return husk_loop_mod(loop, fd, (uint32_t)sb->dial.events, err);
	husk_loop_del(loop, fd);
	if (r < 0) {
		dial_failed(sb, &dial_err);
		return 0;
	}
	int conn = move_fd(sb->dial.fd);
	timer_close(sb, &sb->dial_timer);
	sb->agent = agent_client_new(loop, conn, &sb->token, err);
	if (!sb->agent)
		return -1;
	agent_client_set_timeout(sb->agent, (int)sb->cfg->timeouts.agent_call_ms);
	return 0;
}

static int on_dial_tick(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct sandbox *sb = data;
	uint64_t ticks;
	husk_err dial_err = NULL;
	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return 0;
	if (sb->dial.fd >= 0)
		return 0;
	if (vsock_dial_begin(&sb->dial, sb->transport, sb->cid, sb->sd.vsock_sock, AGENT_PORT,
	                     &dial_err) < 0) {
		dial_failed(sb, &dial_err);
		return 0;
	}
	return husk_loop_add(loop, sb->dial.fd, (uint32_t)sb->dial.events, on_dial_ready, sb, err);
}

static int connect_agent(struct sandbox *sb, husk_err *err)
{
	if (timer_add(sb, &sb->dial_timer, 1, DIAL_INTERVAL_MS, on_dial_tick, err) < 0)
		return -1;
	while (!sb->agent)
		if (husk_loop_run_once(sb->loop, -1, err) < 0)
			return -1;
	Husk__Agent__V1__HealthRequest req = HUSK__AGENT__V1__HEALTH_REQUEST__INIT;
	Husk__Agent__V1__HealthResponse *resp = NULL;
	if (agent_client_call_sync(
	        sb->agent, "Health", &req.base, &husk__agent__v1__health_response__descriptor,
	        (int)sb->cfg->timeouts.agent_call_ms, (ProtobufCMessage **)&resp, err) < 0)
		return -1;
	log_debug(
	    "boot: agent reachable (+%.0f ms): agent %.64s, guest kernel %.64s, boot id %.64s",
	    ms_since(&sb->boot_start), resp->agent_version, resp->kernel_release, resp->boot_id);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return 0;
}

static int check_guest_image(const struct husk_config *cfg, husk_err *err)
{
	if (access(cfg->kernel, R_OK) < 0)
		return husk_error_set(err, errno, "guest kernel %s", cfg->kernel);
	if (cfg->initrd && access(cfg->initrd, R_OK) < 0)
		return husk_error_set(err, errno, "guest initrd %s", cfg->initrd);
	return 0;
}

static enum vsock_transport pick_transport(enum config_vsock v)
{
	switch (v) {
	case CONFIG_VSOCK_VHOST:
		return VSOCK_VHOST;
	case CONFIG_VSOCK_HYBRID:
		return VSOCK_HYBRID;
	default:
		return vsock_transport_detect();
	}
}

int sandbox_attach_network(struct sandbox *sb, const char *netns_path, husk_err *err)
{
	if (sb->net)
		return husk_error_set(err, EEXIST, "network namespace %s: the VM has one",
		                      netns_path);
	sb->net = podnet_attach(netns_path, err);
	return sb->net ? 0 : -1;
}

/* The guest's NICs get the attached interfaces' addresses, and the routes and neighbours. */
static int setup_network(struct sandbox *sb, husk_err *err)
{
	ProtobufCMessage *resp = NULL;
	const Husk__Agent__V1__SetupNetworkRequest *req = podnet_request(sb->net);
	if (!req->n_interfaces) /* loopback only (podman --network none) */
		return 0;
	if (agent_client_call_sync(sb->agent, "SetupNetwork", &req->base,
	                           &husk__agent__v1__empty__descriptor,
	                           (int)sb->cfg->timeouts.agent_call_ms, &resp, err) < 0)
		return husk_error_prefix(err, "SetupNetwork");
	protobuf_c_message_free_unpacked(resp, NULL);
	log_debug("boot: guest network set up (+%.0f ms)", ms_since(&sb->boot_start));
	return 0;
}

/* Waits for a host-wide boot slot: the boot timeout starts once the boot may run. */
static int admit_boot(struct sandbox *sb, husk_err *err)
{
	unsigned waited,
	    n = sb->cfg->boot_concurrency ? sb->cfg->boot_concurrency : boot_slots_default();
	sb->boot_slot = boot_slot_take(sb->loop, BOOT_SLOT_DIR, n, sb->cfg->timeouts.admission_ms,
	                               &waited, err);
	if (sb->boot_slot < 0)
		return -1;
	if (waited >= BOOT_SLOT_POLL_MS)
		log_debug("boot: admitted after %u ms (at most %u boots at once)", waited, n);
	clock_gettime(CLOCK_MONOTONIC, &sb->boot_start);
	return 0;
}

/* The VM's NICs from index first on, as the namespace's interfaces that appeared since the boot. */
static int plug_nics(struct sandbox *sb, size_t first, size_t n, husk_err *err)
{
	struct qemu_nic nics[PODNET_IFACES_MAX];
	struct qmp qmp;
	int r = 0;
	podnet_nics(sb->net, nics);
	if (qmp_connect(&qmp, sb->sd.qmp_sock, (int)sb->cfg->timeouts.agent_call_ms, err) < 0)
		return -1;
	for (size_t i = first; i < first + n && r == 0; i++)
		r = qmp_add_nic(&qmp, i, &nics[i], (int)sb->cfg->timeouts.agent_call_ms, err);
	qmp_close(&qmp);
	return r;
}

/* Docker's network connect, a CNI plugin run late: a new interface becomes a hot-plugged NIC. */
static int on_netns_change(struct husk_loop *loop, int fd, uint32_t events, void *data,
                           husk_err *err)
{
	struct sandbox *sb = data;
	cleanup_error husk_err e = NULL;
	size_t first;
	podnet_watch_drain(sb->net);
	int n = podnet_attach_new(sb->net, &first, &e);
	if (n > 0 && (plug_nics(sb, first, (size_t)n, &e) < 0 || setup_network(sb, &e) < 0))
		husk_error_prefix(&e, "hot-plug");
	if (e)
		log_warn("%s", husk_error_msg(e));
	return 0;
}

static int watch_network(struct sandbox *sb, husk_err *err)
{
	int fd = podnet_watch(sb->net, err);
	if (fd < 0 || husk_loop_add(sb->loop, fd, EPOLLIN, on_netns_change, sb, err) < 0)
		return -1;
	sb->net_watch = fd;
	return 0;
}

/* The kernel's vsock has one namespace of CIDs for the host: each VM takes a free one. */
static int take_cid(struct sandbox *sb, husk_err *err)
{
	unsigned first = sb->cfg->guest_cid,
	         n = UINT32_MAX - 1 - first < CID_RANGE ? UINT32_MAX - 1 - first : CID_RANGE;
	if (mkdir_p(CID_SLOT_DIR, 0700, err) < 0)
		return -1;
	sb->cid_slot = slot_try(CID_SLOT_DIR, first, n, &sb->cid, err);
	if (sb->cid_slot == -1)
		return husk_error_set(err, EADDRINUSE, "vsock: CIDs %u to %u all taken", first,
		                      first + n - 1);
	if (sb->cid_slot < 0)
		return -1;
	return statedir_write_cid(sb->sd.fd, sb->cid, err);
}

static int boot(struct sandbox *sb, husk_err *err)
{
	struct accel_choice accel;
	if (check_guest_image(sb->cfg, err) < 0 || accel_detect(sb->cfg->accel, &accel, err) < 0 ||
	    admit_boot(sb, err) < 0)
		return -1;
	if (accel.warn)
		log_warn("%s; using TCG (software emulation, slower)", accel.reason);
	sb->accel = accel.accel;
	sb->transport = pick_transport(sb->cfg->vsock);
	if (sb->transport == VSOCK_VHOST && take_cid(sb, err) < 0)
		return -1;
	if (timer_add(sb, &sb->boot_timer, sb->cfg->timeouts.boot_ms, 0, on_boot_timeout, err) < 0)
		return -1;
	if (sb->transport == VSOCK_HYBRID &&
	    (take_helper_users(sb, err) < 0 || start_vsockd(sb, err) < 0))
		return -1;
	if (start_virtiofsd(sb, err) < 0 || start_qemu(sb, &accel, err) < 0 ||
	    connect_agent(sb, err) < 0)
		return -1;
	close_fd(&sb->boot_slot);
	if (sb->net && (setup_network(sb, err) < 0 || watch_network(sb, err) < 0))
		return -1;
	close_fd(&sb->virtiofsd_listener);
	timer_close(sb, &sb->boot_timer);
	sb->boot_us = (int64_t)(ms_since(&sb->boot_start) * 1000);
	return 0;
}

int sandbox_boot(struct sandbox *sb, husk_err *err)
{
	if (boot(sb, err) < 0) {
		failcount_add(FAIL_BOOT);
		return -1;
	}
	return 0;
}

/* --- containers ------------------------------------------------------------------------- */

/*
 * A read-only rootfs is shared read-write until the agent has created the
 * container (its mount points made, as runc makes them before the root turns
 * read-only), then read-only on the host too, before the container's process
 * has run.
 */
static int seal_rootfs(struct sandbox *sb, const char *container_id, husk_err *err)
{
	for (size_t i = 0; i < sb->nshares; i++) {
		struct share *sh = &sb->shares[i];
		if (!sh->rootfs || !sh->readonly_once_created ||
		    strcmp(sh->container_id, container_id))
			continue;
		if (statedir_bind_readonly(&sb->sd, sh->name, err) < 0)
			return husk_error_prefix(err, "rootfs");
		sh->readonly_once_created = false;
	}
	return 0;
}

int sandbox_create_container(struct sandbox *sb, const char *container_id,
                             const struct bundle *spec, bool with_stdin, husk_err *err)
{
	Husk__Agent__V1__CreateContainerRequest req =
	    HUSK__AGENT__V1__CREATE_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = (char *)container_id;
	req.oci_spec_json.data = (uint8_t *)spec->json;
	req.oci_spec_json.len = spec->json_len;
	req.rootfs_tag = (char *)container_id;
	req.stdin = with_stdin;
	cleanup_free Husk__Agent__V1__SharedMount *mounts =
	    calloc(sb->nshares + 1, sizeof(*mounts));
	cleanup_free Husk__Agent__V1__SharedMount **list = calloc(sb->nshares + 1, sizeof(*list));
	if (!mounts || !list)
		return husk_error_set(err, ENOMEM, "shared mounts");
	for (size_t i = 0; i < sb->nshares; i++) {
		const struct share *sh = &sb->shares[i];
		if (sh->rootfs || strcmp(sh->container_id, container_id))
			continue;
		Husk__Agent__V1__SharedMount *m = &mounts[req.n_shared_mounts];
		husk__agent__v1__shared_mount__init(m);
		m->index = sh->index;
		m->tag = (char *)sh->name;
		list[req.n_shared_mounts++] = m;
	}
	req.shared_mounts = list;
	if (agent_client_call_sync(sb->agent, "CreateContainer", &req.base,
	                           &husk__agent__v1__empty__descriptor,
	                           (int)sb->cfg->timeouts.agent_call_ms, &resp, err) < 0) {
		failcount_add(FAIL_CONTAINER);
		return -1;
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	return seal_rootfs(sb, container_id, err);
}

int sandbox_start_container(struct sandbox *sb, const char *container_id, uint32_t *pid,
                            husk_err *err)
{
	Husk__Agent__V1__ContainerRequest req = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	Husk__Agent__V1__StartContainerResponse *resp = NULL;
	req.container_id = (char *)container_id;
	if (agent_client_call_sync(sb->agent, "StartContainer", &req.base,
	                           &husk__agent__v1__start_container_response__descriptor,
	                           (int)sb->cfg->timeouts.agent_call_ms, (ProtobufCMessage **)&resp,
	                           err) < 0) {
		failcount_add(FAIL_CONTAINER);
		return -1;
	}
	*pid = resp->pid;
	if (sb->start_us < 0)
		sb->start_us = monotonic_us() - sb->created_us;
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	log_debug("container %s started, guest pid %u (+%.0f ms since boot)", container_id, *pid,
	          ms_since(&sb->boot_start));
	return 0;
}

static void on_signalled(ProtobufCMessage *resp, husk_err error, void *data)
{
	if (!resp)
		log_warn("forwarding signal: %s", husk_error_msg(error));
}

void sandbox_signal(struct sandbox *sb, const char *container_id, const char *exec_id, int sig)
{
	Husk__Agent__V1__SignalProcessRequest req = HUSK__AGENT__V1__SIGNAL_PROCESS_REQUEST__INIT;
	cleanup_error husk_err err = NULL;
	req.container_id = (char *)container_id;
	req.exec_id = (char *)exec_id;
	req.signal = (uint32_t)sig;
	log_debug("forwarding signal %d (%s) to %s", sig, strsignal(sig), container_id);
	if (agent_client_call(sb->agent, "SignalProcess", &req.base,
	                      &husk__agent__v1__empty__descriptor,
	                      (int)sb->cfg->timeouts.agent_call_ms, on_signalled, sb, &err) < 0)
		log_warn("forwarding signal %d: %s", sig, husk_error_msg(err));
}

void sandbox_keep_files(struct sandbox *sb, const char *const *names)
{
	sb->keep = names;
}

const char *sandbox_dir(struct sandbox *sb)
{
	return sb->sd.dir;
}

int sandbox_dir_fd(struct sandbox *sb)
{
	return sb->sd.fd;
}

void sandbox_stats(struct sandbox *sb, struct sandbox_stats *out)
{
	*out = (struct sandbox_stats){
	    .id = sb->id,
	    .vcpus = sb->vcpus,
	    .memory_mib = sb->memory_mib,
	    .accel = sb->boot_us >= 0 ? accel_name(sb->accel) : NULL,
	    .vsockd = sb->vsockd.proc.reaped ? 0 : sb->vsockd.proc.pid,
	    .virtiofsd = sb->virtiofsd.proc.reaped ? 0 : sb->virtiofsd.proc.pid,
	    .qemu = sb->qemu.proc.reaped ? 0 : sb->qemu.proc.pid,
	    .boot_us = sb->boot_us,
	    .start_us = sb->start_us,
	};
}

struct agent_client *sandbox_agent(struct sandbox *sb)
{
	return sb->agent;
}

pid_t sandbox_vmm_pid(struct sandbox *sb)
{
	return qemu_running(sb) ? sb->qemu.proc.pid : 0;
}

/* --- teardown --------------------------------------------------------------------------- */

/* Asks the agent to power the guest off; true if it acknowledged. */
static bool agent_power_off(struct sandbox *sb)
{
	cleanup_error husk_err err = NULL;
	Husk__Agent__V1__Empty req = HUSK__AGENT__V1__EMPTY__INIT;
	ProtobufCMessage *resp = NULL;
	if (!sb->agent || !agent_client_alive(sb->agent) || !qemu_running(sb))
		return false;
	if (agent_client_call_sync(sb->agent, "DestroySandbox", &req.base,
	                           &husk__agent__v1__empty__descriptor,
	                           (int)sb->cfg->timeouts.agent_call_ms, &resp, &err) < 0) {
		log_debug("DestroySandbox: %s", husk_error_msg(err));
		return false;
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	return true;
}

static void power_off(struct sandbox *sb)
{
	cleanup_error husk_err err = NULL;
	bool acked = agent_power_off(sb);
	agent_client_free(sb->agent);
	sb->agent = NULL;
	if (!qemu_running(sb))
		return;
	if (acked &&
	    proc_wait_status(&sb->qemu.proc, (int)sb->cfg->timeouts.shutdown_ms, &err) == 1)
		return;
	husk_error_free(&err);
	struct qmp qmp;
	if (qmp_connect(&qmp, sb->sd.qmp_sock, 1000, &err) < 0) {
		log_debug("qmp: %s", husk_error_msg(err));
		return;
	}
	if (qmp_quit(&qmp, 1000, &err) < 0)
		log_debug("qmp quit: %s", husk_error_msg(err));
	qmp_close(&qmp);
}

void sandbox_destroy(struct sandbox *sb)
{
	if (!sb)
		return;
	sb->stopping = true;
	timer_close(sb, &sb->boot_timer);
	timer_close(sb, &sb->dial_timer);
	close_fd(&sb->boot_slot);
	dial_stop(sb);
	if (sb->ready_fd >= 0) {
		husk_loop_del(sb->loop, sb->ready_fd);
		close(sb->ready_fd);
	}
	power_off(sb);
	stop_helper(sb, &sb->qemu, SIGTERM, 1000);
	close_fd(&sb->cid_slot); /* the VM that had the CID is gone */
	close_fd(&sb->uid_slot);
	conslog_close(&sb->console);
	if (sb->net_watch >= 0)
		husk_loop_del(sb->loop, sb->net_watch);
	podnet_detach(sb->net);
	stop_helper(sb, &sb->virtiofsd, SIGTERM, 1000);
	close_fd(&sb->virtiofsd_listener);
	stop_helper(sb, &sb->vsockd, SIGTERM, 1000);
	while (sb->nshares)
		share_drop(sb, sb->nshares - 1);
	free(sb->shares);
	if (sb->shared_mounted && umount2(sb->sd.shared, MNT_DETACH) < 0)
		log_warn("umount %s: %s", sb->sd.shared, strerror(errno));
	if (sb->keep)
		statedir_clear(&sb->sd, sb->keep);
	else
		statedir_remove(&sb->sd);
	free(sb->id);
	free(sb);
}

/* resources_vm_size on this host */
static void vm_size_for(const struct resource_limits *l, unsigned *vcpus, unsigned *memory_mib)
{
	unsigned cpus;
	uint64_t host_mib;
	resources_host(&cpus, &host_mib);
	resources_vm_size(l, cpus, host_mib, vcpus, memory_mib);
}

int sandbox_set_size(struct sandbox *sb, const struct bundle *spec, husk_err *err)
{
	struct resource_limits l;
	if (resources_from_spec(spec->json, spec->json_len, &l, err) < 0)
		return husk_error_prefix(err, "config.json");
	vm_size_for(&l, &sb->vcpus, &sb->memory_mib);
	log_debug("sandbox %s: %u vCPUs, %u MiB", sb->id, sb->vcpus, sb->memory_mib);
	return 0;
}

void sandbox_set_guest_log(struct sandbox *sb, bool on)
{
	sb->guest_log = on;
}

void sandbox_size_at_least(struct sandbox *sb, const struct resource_limits *l, unsigned *vcpus,
                           unsigned *memory_mib)
{
	unsigned v = sb->vcpus, mib = sb->memory_mib;
	vm_size_for(l, &v, &mib);
	sb->vcpus = v > sb->vcpus ? v : sb->vcpus;
	sb->memory_mib = mib > sb->memory_mib ? mib : sb->memory_mib;
	*vcpus = sb->vcpus;
	*memory_mib = sb->memory_mib;
	log_debug("sandbox %s: %u vCPUs, %u MiB", sb->id, sb->vcpus, sb->memory_mib);
}

int sandbox_set_debug_console(struct sandbox *sb, const struct bundle *spec, husk_err *err)
{
	json_object *a = json_member(spec->annotations, SANDBOX_DEBUG_CONSOLE_ANNOTATION);
	const char *v = a ? json_object_get_string(a) : NULL;
	if (v && strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
		return husk_error_set(err, 0, "annotations.%s: must be \"true\" or \"false\"",
		                      SANDBOX_DEBUG_CONSOLE_ANNOTATION);
	sb->debug_console = v ? strcmp(v, "true") == 0 : sb->cfg->debug_console;
	if (!sb->debug_console)
		return 0;
	log_debug("sandbox %s: debug console enabled", sb->id);
	return statedir_mark_debug_console(sb->sd.fd, err);
}
