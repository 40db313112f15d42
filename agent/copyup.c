#include "copyup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"

#define COPY_MAX_DEPTH 64

static int copy_tree_at(int from, int to, int depth, husk_err *err);

static int copy_file(int from, int to, const char *name, const struct stat *st, husk_err *err)
{
	cleanup_close int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return husk_error_set(err, errno, "copy %s", name);
	cleanup_close int out =
	    openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return husk_error_set(err, errno, "copy %s", name);
	for (off_t left = st->st_size; left > 0;) {
		ssize_t n = sendfile(out, in, NULL, (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? husk_error_set(err, errno, "copy %s", name) : 0;
		left -= n;
	}
	return 0;
}

static int copy_dir(int from, int to, const char *name, int depth, husk_err *err)
{
	if (depth >= COPY_MAX_DEPTH)
		return husk_error_set(err, ELOOP, "copy %s: deeper than %d", name, COPY_MAX_DEPTH);
	if (mkdirat(to, name, 0700) < 0)
		return husk_error_set(err, errno, "copy %s", name);
	cleanup_close int sub_from =
	    openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	cleanup_close int sub_to =
	    openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub_from < 0 || sub_to < 0)
		return husk_error_set(err, errno, "copy %s", name);
	if (copy_tree_at(sub_from, sub_to, depth + 1, err) < 0)
		return husk_error_prefix(err, "%s", name);
	return 0;
}

static int copy_link(int from, int to, const char *name, husk_err *err)
{
	char target[4096];
	ssize_t n = readlinkat(from, name, target, sizeof(target) - 1);
	if (n < 0)
		return husk_error_set(err, errno, "copy %s", name);
	target[n] = '\0';
	if (symlinkat(target, to, name) < 0)
		return husk_error_set(err, errno, "copy %s", name);
	return 0;
}

static int copy_entry(int from, int to, const char *name, int depth, husk_err *err)
{
	struct stat st;
	int r;
	if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return husk_error_set(err, errno, "copy %s", name);
	if (S_ISDIR(st.st_mode))
		r = copy_dir(from, to, name, depth, err);
	else if (S_ISREG(st.st_mode))
		r = copy_file(from, to, name, &st, err);
	else if (S_ISLNK(st.st_mode))
		r = copy_link(from, to, name, err);
	else if (mknodat(to, name, st.st_mode, st.st_rdev) < 0)
		r = husk_error_set(err, errno, "copy %s", name);
	else
		r = 0;
	if (r < 0)
		return -1;
	if (fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (!S_ISLNK(st.st_mode) && fchmodat(to, name, st.st_mode & 07777, 0) < 0))
		return husk_error_set(err, errno, "copy %s: owner and mode", name);
	return 0;
}

static int copy_tree_at(int from, int to, int depth, husk_err *err)
{
	/* its own open file, not a dup: readdir must not move from's offset */
	int fd = openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return husk_error_set(err, e, "copy");
	}
	struct dirent *e;
	int ret = 0;
	while (ret == 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			ret = copy_entry(from, to, e->d_name, depth, err);
	closedir(d);
	return ret;
}

int copy_tree(int from, int to, husk_err *err)
{
	return copy_tree_at(from, to, 0, err);
}
