#include "tests/unit/harness/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "shim/lib/statedir.h"

static void touch(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
}

TEST(statedir_create_refuses_an_existing_id_and_removes_everything)
{
	char root[] = "/tmp/test_statedir.XXXXXX";
	struct statedir sd, again;
	cleanup_error husk_err err = NULL;
	struct stat st;

	CHECK(mkdtemp(root));
	CHECK_INT(statedir_create(root, "abc", &sd, &err), ==, 0);
	CHECK_INT(stat(sd.dir, &st), ==, 0);
	CHECK_INT(st.st_mode & 0777, ==, 0700);
	CHECK_INT(stat(sd.shared, &st), ==, 0);

	CHECK_INT(statedir_create(root, "abc", &again, &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "container abc already exists");
	CHECK_INT(err->code, ==, EEXIST);

	touch(sd.dir, "console.log");
	touch(sd.shared, "file");
	char sub[512];
	snprintf(sub, sizeof(sub), "%s/abc", sd.shared);
	CHECK_INT(mkdir(sub, 0755), ==, 0);
	touch(sub, "deep");
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", sd.dir);
	statedir_remove(&sd);
	CHECK_INT(stat(dir, &st), ==, -1);
	CHECK(sd.dir == NULL);
	CHECK_INT(rmdir(root), ==, 0);
}

TEST(statedir_records_the_guest_cid)
{
	char root[] = "/tmp/test_statedir.XXXXXX";
	struct statedir sd;
	cleanup_error husk_err err = NULL;
	CHECK(mkdtemp(root));
	CHECK_INT(statedir_create(root, "abc", &sd, &err), ==, 0);
	CHECK_INT(statedir_cid(sd.fd), ==, 0); /* none recorded */
	CHECK_INT(statedir_write_cid(sd.fd, 4099, &err), ==, 0);
	CHECK_INT(statedir_cid(sd.fd), ==, 4099);
	CHECK_INT(statedir_write_cid(sd.fd, 5, &err), ==, -1); /* never over another */
	statedir_remove(&sd);
	CHECK_INT(rmdir(root), ==, 0);
}

TEST(statedir_creates_missing_parents_of_root)
{
	char base[] = "/tmp/test_statedir.XXXXXX", root[256];
	struct statedir sd;
	cleanup_error husk_err err = NULL;
	CHECK(mkdtemp(base));
	snprintf(root, sizeof(root), "%s/a/b/", base);
	CHECK_INT(statedir_create(root, "x", &sd, &err), ==, 0);
	statedir_remove(&sd);
	snprintf(root, sizeof(root), "%s/a/b", base);
	CHECK_INT(rmdir(root), ==, 0);
	snprintf(root, sizeof(root), "%s/a", base);
	CHECK_INT(rmdir(root), ==, 0);
	CHECK_INT(rmdir(base), ==, 0);
}

/* base/ then components of 200 bytes up to about len bytes in all */
static void long_root(char *root, size_t len, const char *base)
{
	size_t n = (size_t)snprintf(root, len, "%s", base);
	while (n + 202 < len) {
		root[n++] = '/';
		memset(root + n, 'r', 200);
		n += 200;
	}
	root[n] = '\0';
}

/* rmdir of root and its parents up to base */
static void remove_up_to(char *root, const char *base)
{
	while (strcmp(root, base) != 0 && rmdir(root) == 0)
		*strrchr(root, '/') = '\0';
	rmdir(base);
}

/* The id as long as a file name may be, under a --root as long as a path may be. */
TEST(statedir_sockets_are_reached_by_short_paths_whatever_the_dir_length)
{
	char base[] = "/tmp/test_statedir.XXXXXX", root[PATH_MAX - 300], id[256], path[PATH_MAX],
	     sock[STATEDIR_SOCK_PATH_MAX];
	struct statedir sd;
	cleanup_error husk_err err = NULL;
	struct stat st;
	CHECK(mkdtemp(base));
	long_root(root, sizeof(root), base);
	memset(id, 'i', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	CHECK_INT(statedir_create(root, id, &sd, &err), ==, 0);
	snprintf(sock, sizeof(sock), "/proc/self/fd/%d/qmp.sock", sd.fd);
	CHECK_STR(sd.qmp_sock, sock);
	cleanup_close int listener = unix_listen(sd.qmp_sock, 1, 0, &err);
	CHECK_INT(listener, >=, 0);
	snprintf(path, sizeof(path), "%s/qmp.sock", sd.dir);
	CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));

	/* another process finds it from root and id */
	cleanup_close int dir = statedir_open(root, id, &err);
	CHECK_INT(dir, >=, 0);
	CHECK_INT(statedir_sock_path(dir, STATEDIR_QMP_SOCK, sock, &err), ==, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	cleanup_close int conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_INT(connect(conn, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);

	int fd = sd.fd;
	statedir_remove(&sd);
	CHECK_INT(fcntl(fd, F_GETFD), ==, -1); /* closed */
	CHECK_INT(lstat(path, &st), ==, -1);
	remove_up_to(root, base);
	CHECK_INT(access(base, F_OK), ==, -1);
}

TEST(statedir_open_and_sock_path_name_what_fails)
{
	char sock[STATEDIR_SOCK_PATH_MAX], name[STATEDIR_SOCK_PATH_MAX];
	cleanup_error husk_err err = NULL;
	CHECK_INT(statedir_open("/tmp", "test-statedir-none", &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "container test-statedir-none does not exist");
	CHECK_INT(err->code, ==, ENOENT);
	husk_error_free(&err);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	CHECK_INT(statedir_sock_path(3, name, sock, &err), ==, -1);
	CHECK_INT(err->code, ==, ENAMETOOLONG);
}

static int try_create(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	return fd >= 0 ? 0 : errno;
}

/* In a child (the namespace is process-wide): bind, check, and see it is private. */
static int bind_in_child(const char *root, const char *src)
{
	struct statedir sd;
	husk_err err = NULL;
	char probe[512], file[512], sub[512];
	snprintf(file, sizeof(file), "%s/marker", src);
	snprintf(sub, sizeof(sub), "%s/sub", src);
	if (mount_namespace_enter(&err) < 0 || statedir_create(root, "c1", &sd, &err) < 0 ||
	    mount("tmpfs", sub, "tmpfs", 0, NULL) < 0 ||
	    statedir_bind(&sd, "c1", src, STATEDIR_BIND_REC | STATEDIR_BIND_RO, &err) < 0 ||
	    statedir_bind(&sd, "_m0", file, 0, &err) < 0) {
		fprintf(stderr, "%s\n", husk_error_msg(err));
		return 1;
	}
	snprintf(probe, sizeof(probe), "%s/c1/marker", sd.shared);
	if (access(probe, F_OK) < 0)
		return 2;
	/* read-only bind, submounts included */
	snprintf(probe, sizeof(probe), "%s/c1", sd.shared);
	if (try_create(probe, "new") != EROFS)
		return 3;
	snprintf(probe, sizeof(probe), "%s/c1/sub", sd.shared);
	if (try_create(probe, "new") != EROFS)
		return 4;
	/* a file bind, writable */
	snprintf(probe, sizeof(probe), "%s/_m0", sd.shared);
	int fd = open(probe, O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, "x", 1) != 1)
		return 5;
	close(fd);
	/* read-write, then read-only after the fact */
	if (statedir_bind(&sd, "c2", src, STATEDIR_BIND_REC, &err) < 0)
		return 8;
	snprintf(probe, sizeof(probe), "%s/c2", sd.shared);
	if (try_create(probe, "rw") != 0 || statedir_bind_readonly(&sd, "c2", &err) < 0 ||
	    try_create(probe, "rw2") != EROFS)
		return 9;
	snprintf(probe, sizeof(probe), "%s/rw", src);
	unlink(probe);
	statedir_unbind(&sd, "c2");
	snprintf(probe, sizeof(probe), "%s/_m0", sd.shared);
	/* an entry that exists is not bound over */
	if (statedir_bind(&sd, "_m0", file, 0, &err) == 0)
		return 6;
	husk_error_free(&err);
	statedir_unbind(&sd, "c1");
	statedir_unbind(&sd, "_m0");
	if (access(probe, F_OK) == 0)
		return 7;
	umount2(sub, MNT_DETACH);
	statedir_remove(&sd);
	return 0;
}

TEST(statedir_binds_dirs_and_files_read_only_or_not_in_a_private_namespace)
{
	char root[] = "/tmp/test_statedir.XXXXXX", src[] = "/tmp/test_statedir_src.XXXXXX";
	int status;
	CHECK(mkdtemp(root));
	CHECK(mkdtemp(src));
	touch(src, "marker");
	char path[512];
	snprintf(path, sizeof(path), "%s/sub", src);
	CHECK_INT(mkdir(path, 0700), ==, 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(bind_in_child(root, src));
	CHECK_INT(waitpid(pid, &status, 0), ==, pid);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), ==, 0);
	snprintf(path, sizeof(path), "%s/new", src);
	CHECK_INT(access(path, F_OK), ==, -1);
	snprintf(path, sizeof(path), "%s/marker", src);
	struct stat st;
	CHECK_INT(stat(path, &st), ==, 0);
	CHECK_INT(st.st_size, ==, 1);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", src);
	CHECK_INT(rmdir(path), ==, 0);
	CHECK_INT(rmdir(src), ==, 0);
	CHECK_INT(rmdir(root), ==, 0);
}

/* 1 if path is a mount point (its device differs from its parent's). */
static int is_mount_point(const char *dir, const char *name)
{
	char path[512], parent[512];
	struct stat a, b;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(parent, sizeof(parent), "%s/%s/..", dir, name);
	return stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

/* In a child: src is a shared mount (as kubelet's volumes); a later mount under it reaches a
 * plain bind of it, not a private one. */
static int propagate_in_child(const char *root, const char *src)
{
	struct statedir sd;
	husk_err err = NULL;
	char late[512], bound[512];
	snprintf(late, sizeof(late), "%s/late", src);
	if (mount_namespace_enter(&err) < 0 || mount(src, src, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, src, NULL, MS_SHARED, NULL) < 0 ||
	    statedir_create(root, "c1", &sd, &err) < 0 ||
	    statedir_bind(&sd, "_m0", src, STATEDIR_BIND_REC, &err) < 0 ||
	    statedir_bind(&sd, "_m1", src, STATEDIR_BIND_REC | STATEDIR_BIND_PRIVATE, &err) < 0 ||
	    mount("tmpfs", late, "tmpfs", 0, NULL) < 0) {
		fprintf(stderr, "%s\n", err ? husk_error_msg(err) : strerror(errno));
		return 1;
	}
	snprintf(bound, sizeof(bound), "%s/_m0", sd.shared);
	if (!is_mount_point(bound, "late"))
		return 2;
	snprintf(bound, sizeof(bound), "%s/_m1", sd.shared);
	if (is_mount_point(bound, "late"))
		return 3;
	statedir_unbind(&sd, "_m0");
	statedir_unbind(&sd, "_m1");
	statedir_remove(&sd);
	return 0;
}

TEST(statedir_bind_follows_later_host_mounts_unless_private)
{
	char root[] = "/tmp/test_statedir.XXXXXX", src[] = "/tmp/test_statedir_src.XXXXXX";
	char late[512];
	int status;
	CHECK(mkdtemp(root));
	CHECK(mkdtemp(src));
	snprintf(late, sizeof(late), "%s/late", src);
	CHECK_INT(mkdir(late, 0700), ==, 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(propagate_in_child(root, src));
	CHECK_INT(waitpid(pid, &status, 0), ==, pid);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), ==, 0);
	CHECK_INT(rmdir(late), ==, 0);
	CHECK_INT(rmdir(src), ==, 0);
	CHECK_INT(rmdir(root), ==, 0);
}

/*
 * What a hostile guest can leave in shared/: a tree 2000 directories deep
 * (more than the fds a recursive walk may hold open) with files at every level,
 * and symlinks to a host directory. Removal takes all of it, with at most
 * STATEDIR_CLEAN_DEPTH directories open, and follows no link.
 */
TEST(statedir_remove_takes_a_2000_deep_tree_and_follows_no_link)
{
	char root[] = "/tmp/test_statedir.XXXXXX", outside[] = "/tmp/test_statedir_out.XXXXXX";
	struct statedir sd;
	cleanup_error husk_err err = NULL;
	struct stat st;
	char dir[512], path[600];

	CHECK(mkdtemp(root));
	CHECK(mkdtemp(outside));
	touch(outside, "precious");
	int before = open("/dev/null", O_RDONLY | O_CLOEXEC);
	close(before);
	CHECK_INT(statedir_create(root, "deep", &sd, &err), ==, 0);
	snprintf(dir, sizeof(dir), "%s", sd.dir);
	int fd = open(sd.shared, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_INT(symlinkat(outside, fd, "link"), ==, 0);
	for (int i = 0; i < 2000; i++) {
		CHECK_INT(mkdirat(fd, "d", 0755), ==, 0);
		int f = openat(fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		CHECK(f >= 0);
		close(f);
		if (i == 1500)
			CHECK_INT(symlinkat(outside, fd, "deeplink"), ==, 0);
		int sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = sub;
		CHECK(fd >= 0);
	}
	close(fd);
	/* the fds this process may open stay well below the depth */
	struct rlimit saved, low = {.rlim_cur = 256};
	CHECK_INT(getrlimit(RLIMIT_NOFILE, &saved), ==, 0);
	low.rlim_max = saved.rlim_max;
	CHECK_INT(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
	statedir_remove(&sd);
	CHECK_INT(setrlimit(RLIMIT_NOFILE, &saved), ==, 0);
	CHECK_INT(stat(dir, &st), ==, -1);
	CHECK_INT(errno, ==, ENOENT);
	snprintf(path, sizeof(path), "%s/precious", outside);
	CHECK_INT(stat(path, &st), ==, 0);
	/* no fd left behind */
	int after = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK_INT(after, ==, before);
	close(after);
	CHECK_INT(unlink(path), ==, 0);
	CHECK_INT(rmdir(outside), ==, 0);
	CHECK_INT(rmdir(root), ==, 0);
}

/* statedir_clear keeps the named top-level entries, whatever it moved up to get at the rest. */
TEST(statedir_clear_keeps_named_entries_of_a_deep_tree)
{
	char root[] = "/tmp/test_statedir.XXXXXX";
	struct statedir sd;
	cleanup_error husk_err err = NULL;
	struct stat st;
	char dir[512], path[600];

	CHECK(mkdtemp(root));
	CHECK_INT(statedir_create(root, "keep", &sd, &err), ==, 0);
	snprintf(dir, sizeof(dir), "%s", sd.dir);
	touch(sd.dir, "state.json");
	int fd = open(sd.shared, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0);
	for (int i = 0; i < 3 * STATEDIR_CLEAN_DEPTH; i++) {
		CHECK_INT(mkdirat(fd, "d", 0755), ==, 0);
		int sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = sub;
		CHECK(fd >= 0);
	}
	close(fd);
	static const char *const keep[] = {"state.json", NULL};
	statedir_clear(&sd, keep);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	CHECK_INT(stat(path, &st), ==, 0);
	DIR *d = opendir(dir);
	CHECK(d);
	int entries = 0;
	for (struct dirent *e; (e = readdir(d));)
		entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	CHECK_INT(entries, ==, 1);
	CHECK_INT(unlink(path), ==, 0);
	CHECK_INT(rmdir(dir), ==, 0);
	CHECK_INT(rmdir(root), ==, 0);
}
