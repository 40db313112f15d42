#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/cmsg.h"
#include "lib/fs.h"
#include "copyup.h"
#include "oci/hooks.h"
#include "isolation.h"
#include "lib/log.h"

extern char **environ;

/* passed_fd >= 0 travels with the record (SCM_RIGHTS) */
static void send_report_fd(int fd, int kind, pid_t pid, const char *msg, int passed_fd)
{
	struct report r = {.kind = kind, .pid = pid};
	snprintf(r.msg, sizeof(r.msg), "%s", msg ? msg : "");
	if (cmsg_send(fd, &r, sizeof(r), &passed_fd, passed_fd >= 0) != sizeof(r))
		_exit(126);
}

static void send_report(int fd, int kind, pid_t pid, const char *msg)
{
	send_report_fd(fd, kind, pid, msg, -1);
}

__attribute__((noreturn)) static void fail(int report_fd, husk_err *err, int status)
{
	send_report(report_fd, REPORT_ERROR, 0, husk_error_msg(*err));
	_exit(status);
}

static int reset_signals(husk_err *err)
{
	sigset_t all;
	sigemptyset(&all);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	if (sigprocmask(SIG_SETMASK, &all, NULL) < 0)
		return husk_error_set(err, errno, "sigprocmask");
	return 0;
}

/*
 * Puts stdio on 0-2 and closes every other fd but keep_a and keep_b (the
 * report and start pipes): an fd of another container's pipe held here until
 * exec would, for example, keep that container's stdin from ever seeing EOF.
 */
static int setup_stdio(const struct child_stdio *s, int keep_a, int keep_b, husk_err *err)
{
	if (dup2(s->in, 0) < 0 || dup2(s->out, 1) < 0 || dup2(s->err, 2) < 0)
		return husk_error_set(err, errno, "stdio");
	unsigned lo = (unsigned)(keep_a < keep_b ? keep_a : keep_b);
	unsigned hi = (unsigned)(keep_a < keep_b ? keep_b : keep_a);
	if ((lo > 3 && syscall(SYS_close_range, 3, lo - 1, 0) < 0) ||
	    (hi > lo + 1 && syscall(SYS_close_range, lo + 1, hi - 1, 0) < 0) ||
	    syscall(SYS_close_range, hi + 1, ~0u, 0) < 0)
		return husk_error_set(err, errno, "close_range");
	return 0;
}

/*
 * pivot_root cannot leave the initramfs (the guest's root), so there the
 * rootfs is moved over / and chrooted into: the initramfs stays covered and
 * unreachable by any path. Elsewhere (--listen-unix tests) pivot_root is used.
 */
static int enter_rootfs(const char *rootfs, husk_err *err)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return husk_error_set(err, errno, "make mounts private");
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return husk_error_set(err, errno, "bind rootfs %s", rootfs);
	if (chdir(rootfs) < 0)
		return husk_error_set(err, errno, "chdir %s", rootfs);
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0)
			return husk_error_set(err, errno, "umount old root");
		return chdir("/") < 0 ? husk_error_set(err, errno, "chdir /") : 0;
	}
	if (errno != EINVAL)
		return husk_error_set(err, errno, "pivot_root %s", rootfs);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return husk_error_set(err, errno, "move rootfs %s to /", rootfs);
	if (chroot(".") < 0 || chdir("/") < 0)
		return husk_error_set(err, errno, "chroot %s", rootfs);
	return 0;
}

struct device {
	const char *name;
	unsigned major, minor;
};

static const struct device devices[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const char *const dev_links[][2] = {
    {"/dev/ptmx", "pts/ptmx"},          {"/dev/fd", "/proc/self/fd"},
    {"/dev/stdin", "/proc/self/fd/0"},  {"/dev/stdout", "/proc/self/fd/1"},
    {"/dev/stderr", "/proc/self/fd/2"},
};

/*
 * What the mounts take from the guest's tree before the root switch covers
 * it: the bind mounts' sources and, in a user namespace (where neither mknod
 * nor a sysfs of the guest's network namespace is allowed), the guest's /dev
 * for its nodes and its /sys to bind, as runc does.
 */
struct guest_refs {
	int trees[SPEC_MAX_MOUNTS]; /* -1 for mounts that are no binds */
	int dev;                    /* the guest's /dev (O_PATH), or -1 */
	int userns;
};

/* A user namespace's node is a bind of the guest's, onto an empty file. */
static int bind_node(int dev, const char *name, const char *path, husk_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0)
		return husk_error_set(err, errno, "create %s", path);
	close(fd);
	cleanup_close int tree = open_tree(dev, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0 || move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return husk_error_set(err, errno, "bind the guest's /dev/%s", name);
	return 0;
}

static int make_node(const struct device *d, int dev, husk_err *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/dev/%s", d->name);
	if (dev >= 0)
		return bind_node(dev, d->name, path, err);
	if (mknod(path, S_IFCHR | 0666, makedev(d->major, d->minor)) < 0)
		return husk_error_set(err, errno, "mknod %s", path);
	return 0;
}

static int populate_dev(int dev, husk_err *err)
{
	mode_t old = umask(0);
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++)
		if (make_node(&devices[i], dev, err) < 0) {
			umask(old);
			return -1;
		}
	umask(old);
	for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++)
		if (symlink(dev_links[i][1], dev_links[i][0]) < 0)
			return husk_error_set(err, errno, "symlink %s", dev_links[i][0]);
	return 0;
}

/*
 * The bind mounts' sources, cloned (open_tree) while the shared directory is
 * still reachable: the root switch covers it. trees[i] is -1 for other mounts.
 */
static int open_guest_refs(const struct spec *s, struct guest_refs *g, husk_err *err)
{
	g->userns = s->userns;
	g->dev = -1;
	if (s->userns && (g->dev = open("/dev", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return husk_error_set(err, errno, "open the guest's /dev");
	for (size_t i = 0; i < s->nmounts; i++) {
		const struct spec_mount *m = &s->mounts[i];
		int sys = s->userns && m->type && strcmp(m->type, "sysfs") == 0;
		g->trees[i] = -1;
		if (!(m->flags & MS_BIND) && !sys)
			continue;
		unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW |
		                 (m->flags & MS_REC || sys ? AT_RECURSIVE : 0);
		g->trees[i] = open_tree(AT_FDCWD, sys ? "/sys" : m->source, flags);
		if (g->trees[i] < 0)
			return husk_error_set(err, errno, "mount %s: open %s", m->destination,
			                      sys ? "/sys" : m->source);
	}
	return 0;
}

/*
 * A bind remount may not clear the flags a user namespace's copy of the
 * guest's mounts locked (nosuid, nodev, noexec, ro): they are kept.
 */
static int remount_bind(const char *path, unsigned long flags, int userns)
{
	struct statvfs st;
	if (userns && statvfs(path, &st) == 0)
		flags |= (st.f_flag & ST_NOSUID ? MS_NOSUID : 0) |
		         (st.f_flag & ST_NODEV ? MS_NODEV : 0) |
		         (st.f_flag & ST_NOEXEC ? MS_NOEXEC : 0) |
		         (st.f_flag & ST_RDONLY ? MS_RDONLY : 0);
	return mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | flags, NULL);
}

/* A directory, or an empty file for a source that is not one (as runc). */
static int make_mount_point(const char *path, int dir, husk_err *err)
{
	if (dir)
		return mkdir_p(path, 0755, err);
	char parent[SPEC_MAX_PATH];
	snprintf(parent, sizeof(parent), "%s", path);
	*strrchr(parent, '/') = '\0';
	if (parent[0] && mkdir_p(parent, 0755, err) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return husk_error_set(err, errno, "create %s", path);
	close(fd);
	return 0;
}

static int bind_one(const struct spec_mount *m, int tree, int userns, husk_err *err)
{
	struct stat st;
	if (fstat(tree, &st) < 0)
		return husk_error_set(err, errno, "source %s", m->source ? m->source : "/sys");
	if (make_mount_point(m->destination, S_ISDIR(st.st_mode), err) < 0)
		return -1;
	if (move_mount(tree, "", AT_FDCWD, m->destination, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return husk_error_set(err, errno, "bind");
	unsigned long flags = m->flags & ~(MS_BIND | MS_REC);
	if (flags && remount_bind(m->destination, flags, userns) < 0)
		return husk_error_set(err, errno, "remount bind");
	return 0;
}

/* The tmpfs goes up read-write for the copy, then gets the spec's flags. */
static int mount_copy_up(const struct spec_mount *m, husk_err *err)
{
	cleanup_close int old = open(m->destination, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (old < 0)
		return husk_error_set(err, errno, "tmpcopyup");
	if (mount(m->source, m->destination, m->type, m->flags & ~MS_RDONLY, m->data) < 0)
		return husk_error_set(err, errno, "%s", m->type);
	cleanup_close int copy = open(m->destination, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (copy < 0 || copy_tree(old, copy, err) < 0)
		return copy < 0 ? husk_error_set(err, errno, "tmpcopyup") : -1;
	if ((m->flags & MS_RDONLY) &&
	    mount(NULL, m->destination, NULL, MS_REMOUNT | m->flags, m->data) < 0)
		return husk_error_set(err, errno, "remount read-only");
	return 0;
}

/*
 * In a user namespace /sys is the guest's, bound with its cgroup2 mount, and
 * the same superblock may not be mounted on its own root (EBUSY): a tmpfs
 * goes in between.
 */
static int cover_guest_cgroup(const struct spec_mount *m, int userns, husk_err *err)
{
	if (userns && strcmp(m->type, "cgroup2") == 0 &&
	    mount("tmpfs", m->destination, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") <
	        0)
		return husk_error_set(err, errno, "cover the guest's cgroup2");
	return 0;
}

static int mount_one(const struct spec_mount *m, const struct guest_refs *g, int tree,
                     husk_err *err)
{
	if (tree >= 0)
		return bind_one(m, tree, g->userns, err);
	if (m->copy_up)
		return mkdir_p(m->destination, 0755, err) < 0 ? -1 : mount_copy_up(m, err);
	if (mkdir_p(m->destination, 0755, err) < 0 || cover_guest_cgroup(m, g->userns, err) < 0)
		return -1;
	if (mount(m->source, m->destination, m->type, m->flags, m->data) < 0)
		return husk_error_set(err, errno, "%s", m->type);
	if (strcmp(m->destination, "/dev") == 0 && strcmp(m->type, "tmpfs") == 0)
		return populate_dev(g->dev, err);
	return 0;
}

/* After rootfsPropagation, which applies to the whole tree. */
static int apply_propagation(const struct spec *s, husk_err *err)
{
	for (size_t i = 0; i < s->nmounts; i++) {
		const struct spec_mount *m = &s->mounts[i];
		if (m->propagation && mount(NULL, m->destination, NULL, m->propagation, NULL) < 0)
			return husk_error_set(err, errno, "mount %s: propagation", m->destination);
	}
	return 0;
}

static int setup_mounts(const struct spec *s, const struct guest_refs *g, husk_err *err)
{
	for (size_t i = 0; i < s->nmounts; i++)
		if (mount_one(&s->mounts[i], g, g->trees[i], err) < 0)
			return husk_error_prefix(err, "mount %s", s->mounts[i].destination);
	if (devices_create(s, err) < 0)
		return -1;
	/* everything is private already (enter_rootfs) */
	if (s->rootfs_propagation && s->rootfs_propagation != MS_PRIVATE &&
	    mount(NULL, "/", NULL, MS_REC | s->rootfs_propagation, NULL) < 0)
		return husk_error_set(err, errno, "linux.rootfsPropagation");
	if (apply_propagation(s, err) < 0)
		return -1;
	if (s->root_readonly && remount_bind("/", MS_RDONLY, s->userns) < 0)
		return husk_error_set(err, errno, "remount / read-only");
	return 0;
}

/* Missing paths are skipped, as runc does. */
static int make_readonly(const char *path, husk_err *err)
{
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT ? 0 : husk_error_set(err, errno, "readonly %s", path);
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL))
		return husk_error_set(err, errno, "readonly %s", path);
	return 0;
}

static int mask(const char *path, husk_err *err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : husk_error_set(err, errno, "mask %s", path);
	int r = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL)
	                            : mount("/dev/null", path, NULL, MS_BIND, NULL);
	return r < 0 ? husk_error_set(err, errno, "mask %s", path) : 0;
}

static int restrict_paths(const struct spec *s, husk_err *err)
{
	for (size_t i = 0; s->readonly_paths && s->readonly_paths[i]; i++)
		if (make_readonly(s->readonly_paths[i], err) < 0)
			return -1;
	for (size_t i = 0; s->masked_paths && s->masked_paths[i]; i++)
		if (mask(s->masked_paths[i], err) < 0)
			return -1;
	return 0;
}

static int setup_container(const struct spec *s, const char *rootfs, husk_err *err)
{
	struct guest_refs g;
	if (sysctl_apply(s, err) < 0 || open_guest_refs(s, &g, err) < 0 ||
	    enter_rootfs(rootfs, err) < 0 || setup_mounts(s, &g, err) < 0 ||
	    restrict_paths(s, err) < 0)
		return -1;
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return husk_error_set(err, errno, "sethostname %s", s->hostname);
	if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return husk_error_set(err, errno, "setdomainname %s", s->domainname);
	/* like runc: a missing working directory is created */
	return mkdir_p(s->process.cwd, 0755, err);
}

/* As runc does for a container's init: /dev/console is the process's terminal. */
static int bind_console(const char *slave, husk_err *err)
{
	int fd = open("/dev/console", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return husk_error_set(err, errno, "create /dev/console");
	close(fd);
	if (mount(slave, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return husk_error_set(err, errno, "bind %s to /dev/console", slave);
	return 0;
}

static int open_pty(const struct spec_process *p, int *master, int *slave, char *name, size_t size,
                    husk_err *err)
{
	struct winsize ws = {.ws_row = (unsigned short)p->console_rows,
	                     .ws_col = (unsigned short)p->console_cols};
	*master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return husk_error_set(err, errno, "terminal: open /dev/ptmx");
	if (unlockpt(*master) < 0 || ptsname_r(*master, name, size) != 0)
		return husk_error_set(err, errno, "terminal: unlock pty");
	if ((ws.ws_row || ws.ws_col) && ioctl(*master, TIOCSWINSZ, &ws) < 0)
		return husk_error_set(err, errno, "terminal: process.consoleSize");
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		return husk_error_set(err, errno, "terminal: open %s", name);
	/* the process's own terminal even after it drops root */
	if (fchown(*slave, p->uid, (gid_t)-1) < 0)
		return husk_error_set(err, errno, "terminal: chown %s", name);
	return 0;
}

/*
 * Like runc: the pty comes from the container's own devpts (its /dev/ptmx,
 * opened after the mounts), so the process sees /dev/pts/N. The process
 * becomes a session leader with the slave as its controlling terminal on 0-2;
 * the master goes to the agent with a REPORT_CONSOLE record.
 */
static int setup_terminal(const struct spec_process *p, int report_fd, int console, husk_err *err)
{
	cleanup_close int master = -1, slave = -1;
	char name[64];
	if (open_pty(p, &master, &slave, name, sizeof(name), err) < 0 ||
	    (console && bind_console(name, err) < 0))
		return -1;
	if (setsid() < 0)
		return husk_error_set(err, errno, "terminal: setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return husk_error_set(err, errno, "terminal: TIOCSCTTY");
	if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
		return husk_error_set(err, errno, "terminal: stdio");
	send_report_fd(report_fd, REPORT_CONSOLE, 0, NULL, master);
	return 0;
}

static int switch_user(const struct spec_process *p, husk_err *err)
{
	if (setgroups(p->ngids, p->gids) < 0)
		return husk_error_set(err, errno, "setgroups");
	if (setgid(p->gid) < 0)
		return husk_error_set(err, errno, "setgid %u", (unsigned)p->gid);
	if (setuid(p->uid) < 0)
		return husk_error_set(err, errno, "setuid %u", (unsigned)p->uid);
	return 0;
}

static int drop_bounding(uint64_t keep, husk_err *err)
{
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			return husk_error_set(err, errno, "drop capability %d", cap);
	return 0;
}

static int set_caps(const struct spec_caps *c, husk_err *err)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {
	    {(uint32_t)c->effective, (uint32_t)c->permitted, (uint32_t)c->inheritable},
	    {(uint32_t)(c->effective >> 32), (uint32_t)(c->permitted >> 32),
	     (uint32_t)(c->inheritable >> 32)},
	};
	if (syscall(SYS_capset, &hdr, data) < 0)
		return husk_error_set(err, errno, "capset");
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if ((c->ambient & (1ull << cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return husk_error_set(err, errno, "raise ambient capability %d", cap);
	return 0;
}

/* The spec's capability sets survive the uid change (PR_SET_KEEPCAPS), then replace all. */
static int switch_identity(const struct spec_process *p, husk_err *err)
{
	if (p->caps.present && drop_bounding(p->caps.bounding, err) < 0)
		return -1;
	if (p->caps.present && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return husk_error_set(err, errno, "keep capabilities");
	if (switch_user(p, err) < 0)
		return -1;
	return p->caps.present ? set_caps(&p->caps, err) : 0;
}

/*
 * Execs p, resolving args[0] through p's own PATH. die_with_agent: the init
 * (and with it its pid namespace) is killed if the agent dies, so an agent
 * killed outside a guest (--listen-unix) leaves no container behind. Set last,
 * since a credential change clears it. The seccomp filter comes as late as
 * loading it allows (as runc): last with no_new_privs, else while the process
 * still has CAP_SYS_ADMIN, before the identity switch. Returns only on failure.
 */
static int exec_process(const struct spec_process *p, const struct spec_seccomp *sc,
                        int die_with_agent, husk_err *err)
{
	if (chdir(p->cwd) < 0)
		return husk_error_set(err, errno, "chdir %s", p->cwd);
	if (p->umask >= 0)
		umask((mode_t)p->umask);
	if ((!p->no_new_privs && seccomp_apply(sc, err) < 0) || switch_identity(p, err) < 0)
		return -1;
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return husk_error_set(err, errno, "no_new_privs");
	if (die_with_agent && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return husk_error_set(err, errno, "PR_SET_PDEATHSIG");
	if (p->no_new_privs && seccomp_apply(sc, err) < 0)
		return -1;
	environ = p->env;
	execvp(p->args[0], p->args);
	return husk_error_set(err, errno, "exec %s", p->args[0]);
}

static int wait_for_start(int start_fd)
{
	char c;
	ssize_t n;
	while ((n = read(start_fd, &c, 1)) < 0 && errno == EINTR)
		;
	return n == 1 ? 0 : -1;
}

/* The cgroup namespace is made once in the container's cgroup, so that it is its root. */
static int enter_cgroup(const char *cgroup_dir, husk_err *err)
{
	if (cgroup_join(cgroup_dir, err) < 0)
		return -1;
	if (unshare(CLONE_NEWCGROUP) < 0)
		return husk_error_set(err, errno, "unshare cgroup namespace");
	return 0;
}

/*
 * In its user namespace a process becomes that namespace's root (as runc
 * does), so that what it makes is owned by a mapped id; it keeps its
 * capabilities there.
 */
static int become_userns_root(int userns, husk_err *err)
{
	if (userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return husk_error_set(err, errno, "become root in the user namespace");
	return 0;
}

/*
 * Guest hooks run in the container's namespaces with its root as theirs, so
 * their paths resolve in the container's rootfs (the guest has no host
 * programs). Their state names the init by the pid the agent sees; the
 * bundle is on the host, the container's root "/" stands in for it.
 */
static int run_guest_hooks(const struct spec *s, enum hook_kind kind, const char *id,
                           const char *pid, const char *status, husk_err *err)
{
	if (!s->hooks.n[kind])
		return 0;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "ociVersion", json_object_new_string("1.1.0"));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "pid", json_object_new_int(atoi(pid)));
	json_object_object_add(o, "bundle", json_object_new_string("/"));
	int r = hooks_run(&s->hooks, kind, json_object_to_json_string(o), err);
	json_object_put(o);
	return r;
}

void container_init_main(const char *id, const struct spec *s, const char *rootfs,
                         const char *cgroup_dir, const struct child_stdio *stdio, int report_fd,
                         int start_fd)
{
	husk_err err = NULL;
	char pid[16] = "0";
	/* the agent's /proc, before the container's replaces it: our pid as the agent sees it */
	ssize_t n = readlink("/proc/self", pid, sizeof(pid) - 1);
	pid[n > 0 ? n : 1] = '\0';
	/* fd 2 becomes the container's stderr: nothing of the agent's log belongs there */
	log_set_level(LOG_LEVEL_ERROR);
	/* its user namespace has no maps until the agent's byte */
	if (s->userns && wait_for_start(start_fd) < 0)
		_exit(1);
	if (enter_cgroup(cgroup_dir, &err) < 0 || become_userns_root(s->userns, &err) < 0 ||
	    reset_signals(&err) < 0 || setup_stdio(stdio, report_fd, start_fd, &err) < 0 ||
	    setup_container(s, rootfs, &err) < 0 ||
	    run_guest_hooks(s, HOOK_CREATE_CONTAINER, id, pid, "creating", &err) < 0 ||
	    (s->process.terminal && setup_terminal(&s->process, report_fd, 1, &err) < 0))
		fail(report_fd, &err, 1);
	send_report(report_fd, REPORT_READY, 0, NULL);
	/* EOF instead of the start byte: the container was removed before starting */
	if (wait_for_start(start_fd) < 0)
		_exit(1);
	if (run_guest_hooks(s, HOOK_START_CONTAINER, id, pid, "created", &err) == 0)
		exec_process(&s->process, s->seccomp, 1, &err);
	fail(report_fd, &err, 127);
}

/*
 * The user namespace last: root outside may enter the others (they are its
 * own or its descendants'), and inside it the ones the container joined from
 * another container would be out of reach.
 */
static const char *const ns_names[] = {"ipc", "uts", "cgroup", "pid", "mnt", "user"};

static int join_namespaces(pid_t init_pid, int userns, husk_err *err)
{
	int fds[ARRAY_SIZE(ns_names)];
	char path[64];
	int ret = 0;
	size_t n = 0;
	for (; n < ARRAY_SIZE(ns_names) - !userns; n++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)init_pid, ns_names[n]);
		fds[n] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[n] < 0) {
			/* gone, or a zombie (its namespaces gone too): a kill raced the exec */
			ret = errno == ENOENT
			          ? husk_error_set(err, ESRCH, "the container's process has exited")
			          : husk_error_set(err, errno, "open %s", path);
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!ret && setns(fds[i], 0) < 0)
			ret = husk_error_set(err, errno, "setns %s", ns_names[i]);
		close(fds[i]);
	}
	return ret;
}

void container_exec_main(pid_t init_pid, int userns, const char *cgroup_dir,
                         const struct spec_seccomp *sc, const struct spec_process *p,
                         const struct child_stdio *stdio, int report_fd)
{
	husk_err err = NULL;
	if (reset_signals(&err) < 0 || cgroup_join(cgroup_dir, &err) < 0 ||
	    process_limits_apply(0, p, &err) < 0 || join_namespaces(init_pid, userns, &err) < 0 ||
	    become_userns_root(userns, &err) < 0)
		fail(report_fd, &err, 1);
	/* joining a pid namespace only applies to children */
	pid_t pid = fork();
	if (pid < 0) {
		husk_error_set(&err, errno, "fork");
		fail(report_fd, &err, 1);
	}
	if (pid > 0) {
		send_report(report_fd, REPORT_PID, pid, NULL);
		_exit(0);
	}
	if (setup_stdio(stdio, report_fd, report_fd, &err) == 0 &&
	    (!p->terminal || setup_terminal(p, report_fd, 0, &err) == 0))
		exec_process(p, sc, 0, &err);
	fail(report_fd, &err, 127);
}
