#include "statedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "metricsdir.h"
#include "oci/limits.h"
#include "lib/log.h"

static char *join(const char *dir, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

static void free_paths(struct statedir *sd)
{
	free(sd->dir);
	close_fd(&sd->fd);
	free(sd->console_log);
	free(sd->qemu_log);
	free(sd->virtiofsd_log);
	free(sd->vsockd_log);
	free(sd->shared);
	*sd = (struct statedir){.fd = -1};
}

static int fill_paths(struct statedir *sd, const char *root, const char *id, husk_err *err)
{
	sd->dir = join(root, id);
	if (!sd->dir)
		return husk_error_set(err, ENOMEM, "state dir");
	sd->console_log = join(sd->dir, "console.log");
	sd->qemu_log = join(sd->dir, "qemu.log");
	sd->virtiofsd_log = join(sd->dir, "virtiofsd.log");
	sd->vsockd_log = join(sd->dir, "vsockd.log");
	sd->shared = join(sd->dir, "shared");
	if (!sd->console_log || !sd->qemu_log || !sd->virtiofsd_log || !sd->vsockd_log ||
	    !sd->shared)
		return husk_error_set(err, ENOMEM, "state dir");
	return 0;
}

int statedir_sock_path(int dirfd, const char *name, char *buf, husk_err *err)
{
	int n = snprintf(buf, STATEDIR_SOCK_PATH_MAX, "/proc/self/fd/%d/%s", dirfd, name);
	if (n < 0 || n >= STATEDIR_SOCK_PATH_MAX)
		return husk_error_set(err, ENAMETOOLONG, "socket name %s", name);
	return 0;
}

static int open_sockets(struct statedir *sd, husk_err *err)
{
	sd->fd = open(sd->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sd->fd < 0)
		return husk_error_set(err, errno, "state dir %s", sd->dir);
	if (statedir_sock_path(sd->fd, STATEDIR_VSOCK_SOCK, sd->vsock_sock, err) < 0 ||
	    statedir_sock_path(sd->fd, STATEDIR_VIRTIOFSD_SOCK, sd->virtiofsd_sock, err) < 0 ||
	    statedir_sock_path(sd->fd, STATEDIR_QMP_SOCK, sd->qmp_sock, err) < 0)
		return -1;
	return 0;
}

int statedir_open(const char *root, const char *id, husk_err *err)
{
	cleanup_free char *dir = join(root, id);
	if (!dir)
		return husk_error_set(err, ENOMEM, "state dir");
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		husk_error_set(err, 0, "container %s does not exist", id);
		return husk_error_set_code(err, ENOENT);
	}
	if (fd < 0)
		return husk_error_set(err, errno, "state dir %s", dir);
	return fd;
}

/* mkdir -p with mode 0711, like runc for its --root */
int statedir_create(const char *root, const char *id, struct statedir *sd, husk_err *err)
{
	*sd = (struct statedir){.fd = -1};
	if (fill_paths(sd, root, id, err) < 0)
		goto fail;
	if (mkdir_p(root, 0711, err) < 0) {
		husk_error_prefix(err, "root");
		goto fail;
	}
	if (mkdir(sd->dir, 0700) < 0) {
		if (errno == EEXIST) {
			husk_error_set(err, 0, "container %s already exists", id);
			husk_error_set_code(err, EEXIST);
		} else {
			husk_error_set(err, errno, "state dir %s", sd->dir);
		}
		goto fail;
	}
	/*
	 * Searchable: in the guest a user namespace's root (an unmapped host uid
	 * to this directory) must reach its rootfs and bind sources through it,
	 * as runc needs of a bundle's path. The state dir above stays private.
	 */
	if (mkdir(sd->shared, 0711) < 0)
		husk_error_set(err, errno, "%s", sd->shared);
	else if (open_sockets(sd, err) == 0)
		return 0;
	statedir_remove_path(sd->dir);
fail:
	free_paths(sd);
	return -1;
}

static bool kept(const char *name, const char *const *keep)
{
	for (; keep && *keep; keep++)
		if (!strcmp(name, *keep))
			return true;
	return false;
}

/*
 * One open directory of the walk: its stream and the name it has in its
 * parent (to remove it once empty).
 */
struct level {
	DIR *d;
	char name[NAME_MAX + 1];
};

/* Moves dirfd/name to the top of the walk under a fresh name; true if it did. */
static bool move_to_top(int dirfd, const char *name, int topfd, unsigned *moved)
{
	char fresh[32];
	for (int tries = 0; tries < 1000; tries++) {
		snprintf(fresh, sizeof(fresh), ".husk-deep-%u", (*moved)++);
		if (renameat2(dirfd, name, topfd, fresh, RENAME_NOREPLACE) == 0)
			return true;
		if (errno != EEXIST)
			break;
	}
	log_warn("remove %s: too deep, and cannot move it up: %s", name, strerror(errno));
	return false;
}

/*
 * Removes everything under dir that lives on its device (mounts are left
 * alone), but the top-level entries named in keep. Iterative, never following
 * a symlink, with at most STATEDIR_CLEAN_DEPTH directories open: a directory
 * deeper than that (the guest can make trees of any depth in shared/) is
 * renamed up to the top and removed from there, so any depth is removed with
 * bounded fds and stack.
 */
static void remove_tree(const char *dir, const char *const *keep)
{
	struct level stack[STATEDIR_CLEAN_DEPTH];
	struct stat st;
	unsigned moved = 0, pass_moved;
	cleanup_close int top = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0 || fstat(top, &st) < 0)
		return;
	dev_t dev = st.st_dev;
	do {
		pass_moved = moved;
		int fd = dup(top);
		stack[0].d = fd < 0 ? NULL : fdopendir(fd);
		if (!stack[0].d) {
			if (fd >= 0)
				close(fd);
			log_warn("remove %s: %s", dir, strerror(errno));
			return;
		}
		rewinddir(stack[0].d);
		stack[0].name[0] = '\0';
		size_t depth = 1;
		while (depth) {
			struct level *l = &stack[depth - 1];
			int lfd = dirfd(l->d);
			struct dirent *e = readdir(l->d);
			if (!e) {
				closedir(l->d);
				if (--depth &&
				    unlinkat(dirfd(stack[depth - 1].d), l->name, AT_REMOVEDIR) < 0)
					log_warn("remove %s: %s", l->name, strerror(errno));
				continue;
			}
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
			    (depth == 1 && kept(e->d_name, keep)))
				continue;
			if (fstatat(lfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    st.st_dev != dev)
				continue;
			if (!S_ISDIR(st.st_mode)) {
				if (unlinkat(lfd, e->d_name, 0) < 0)
					log_warn("remove %s: %s", e->d_name, strerror(errno));
				continue;
			}
			if (depth == STATEDIR_CLEAN_DEPTH) {
				move_to_top(lfd, e->d_name, top, &moved);
				continue;
			}
			int sub =
			    openat(lfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			DIR *d = sub < 0 ? NULL : fdopendir(sub);
			if (!d) {
				if (sub >= 0)
					close(sub);
				log_warn("remove %s: %s", e->d_name, strerror(errno));
				continue;
			}
			stack[depth].d = d;
			snprintf(stack[depth].name, sizeof(stack[depth].name), "%s", e->d_name);
			depth++;
		}
		/* what was moved up may have come after the top's readdir passed: again */
	} while (moved != pass_moved);
}

static void clear_dir(const char *dir, const char *const *keep)
{
	remove_tree(dir, keep);
}

void statedir_remove(struct statedir *sd)
{
	if (!sd->dir)
		return;
	statedir_remove_path(sd->dir);
	free_paths(sd);
}

void statedir_remove_path(const char *dir)
{
	metrics_sock_remove(dir);
	clear_dir(dir, NULL);
	if (rmdir(dir) < 0 && errno != ENOENT)
		log_warn("remove state dir %s: %s", dir, strerror(errno));
}

void statedir_clear(struct statedir *sd, const char *const *keep)
{
	if (!sd->dir)
		return;
	clear_dir(sd->dir, keep);
	free_paths(sd);
}

int mount_namespace_enter(husk_err *err)
{
	if (unshare(CLONE_NEWNS) < 0)
		return husk_error_set(err, errno, "unshare mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return husk_error_set(err, errno, "make / rslave");
	return 0;
}

/*
 * shared/<name>, made here: a directory, or an empty file for a source that is
 * not one. The guest can write to shared/, so the entry is opened without
 * following links and then used only through the fd.
 */
static int make_mount_point(int shared, const char *name, bool dir, husk_err *err)
{
	int fd;
	if (dir && mkdirat(shared, name, 0755) < 0)
		return husk_error_set(err, errno, "mount point %s", name);
	if (dir)
		fd = openat(shared, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	else
		fd = openat(shared, name, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		            0600);
	if (fd < 0)
		return husk_error_set(err, errno, "mount point %s", name);
	return fd;
}

/* The mount at dirfd/path (or the detached tree dirfd, path ""), submounts too when rec. */
static int set_readonly(int dirfd, const char *path, bool rec, husk_err *err)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
	unsigned flags = (path[0] ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) | (rec ? AT_RECURSIVE : 0);
	if (mount_setattr(dirfd, path, flags, &attr, sizeof(attr)) < 0)
		return husk_error_set(err, errno, "read-only");
	return 0;
}

/* The detached tree leaves src's peer group before it is attached, as runc's rprivate. */
static int set_private(int tree, husk_err *err)
{
	struct mount_attr attr = {.propagation = MS_PRIVATE};
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return husk_error_set(err, errno, "private");
	return 0;
}

int statedir_bind(struct statedir *sd, const char *name, const char *src, unsigned how,
                  husk_err *err)
{
	struct stat st;
	bool rec = how & STATEDIR_BIND_REC;
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0);
	cleanup_close int tree = open_tree(AT_FDCWD, src, flags);
	if (tree < 0 || fstat(tree, &st) < 0)
		return husk_error_set(err, errno, "%s", src);
	/* before the guest can see any of it */
	if ((how & STATEDIR_BIND_RO) && set_readonly(tree, "", rec, err) < 0)
		return husk_error_prefix(err, "%s", src);
	if ((how & STATEDIR_BIND_PRIVATE) && set_private(tree, err) < 0)
		return husk_error_prefix(err, "%s", src);
	cleanup_close int shared = open(sd->shared, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (shared < 0)
		return husk_error_set(err, errno, "%s", sd->shared);
	cleanup_close int mp = make_mount_point(shared, name, S_ISDIR(st.st_mode), err);
	if (mp < 0)
		return -1;
	if (move_mount(tree, "", mp, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		int e = errno;
		unlinkat(shared, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
		return husk_error_set(err, e, "bind %s", src);
	}
	return 0;
}

int statedir_bind_readonly(struct statedir *sd, const char *name, husk_err *err)
{
	cleanup_close int shared = open(sd->shared, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (shared < 0)
		return husk_error_set(err, errno, "%s", sd->shared);
	if (set_readonly(shared, name, true, err) < 0)
		return husk_error_prefix(err, "%s/%s", sd->shared, name);
	return 0;
}

void statedir_unbind(struct statedir *sd, const char *name)
{
	cleanup_free char *dst = join(sd->shared, name);
	if (!dst)
		return;
	if (umount2(dst, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
		log_warn("umount %s: %s", dst, strerror(errno));
	if (rmdir(dst) < 0 && errno == ENOTDIR)
		unlink(dst);
}

int statedir_mark_debug_console(int dirfd, husk_err *err)
{
	int fd = openat(dirfd, STATEDIR_DEBUG_CONSOLE,
	                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return husk_error_set(err, errno, "%s", STATEDIR_DEBUG_CONSOLE);
	close(fd);
	return 0;
}

bool statedir_debug_console(int dirfd)
{
	struct stat st;
	return fstatat(dirfd, STATEDIR_DEBUG_CONSOLE, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode);
}

int statedir_write_cid(int dirfd, unsigned cid, husk_err *err)
{
	char text[16];
	int n = snprintf(text, sizeof(text), "%u\n", cid);
	cleanup_close int fd =
	    openat(dirfd, STATEDIR_CID, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, (size_t)n) != n)
		return husk_error_set(err, errno, "%s", STATEDIR_CID);
	return 0;
}

unsigned statedir_cid(int dirfd)
{
	char text[16];
	cleanup_close int fd = openat(dirfd, STATEDIR_CID, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	unsigned long v = strtoul(text, NULL, 10);
	return v > UINT32_MAX ? 0 : (unsigned)v;
}

int statedir_record_task(int dirfd, const char *id, husk_err *err)
{
	char path[sizeof(STATEDIR_TASKS) + SPEC_MAX_ID + 1];
	snprintf(path, sizeof(path), "%s/%s", STATEDIR_TASKS, id);
	if (mkdirat(dirfd, STATEDIR_TASKS, 0700) < 0 && errno != EEXIST)
		return husk_error_set(err, errno, "%s", STATEDIR_TASKS);
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return husk_error_set(err, errno, "%s", path);
	close(fd);
	return 0;
}

void statedir_forget_task(int dirfd, const char *id)
{
	char path[sizeof(STATEDIR_TASKS) + SPEC_MAX_ID + 1];
	snprintf(path, sizeof(path), "%s/%s", STATEDIR_TASKS, id);
	unlinkat(dirfd, path, 0);
}
