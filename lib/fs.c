#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"

int mkdir_p(const char *path, mode_t mode, husk_err *err)
{
	cleanup_free char *buf = strdup(path);
	if (!buf)
		return husk_error_set(err, ENOMEM, "mkdir %s", path);
	for (char *c = buf + 1;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char saved = *c;
		*c = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return husk_error_set(err, errno, "mkdir %s", buf);
		if (!saved)
			return 0;
		*c = saved;
	}
}

int unix_connect(const char *what, const char *path, husk_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return husk_error_set(err, ENAMETOOLONG, "%s %s", what, path);
	strcpy(sa.sun_path, path);
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return husk_error_set(err, errno, "%s %s", what, path);
	return move_fd(fd);
}

int unix_listen(const char *path, int backlog, int flags, husk_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return husk_error_set(err, ENAMETOOLONG, "socket %s", path);
	strcpy(sa.sun_path, path);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return husk_error_set(err, EEXIST, "socket %s: exists and is not a socket",
			                      path);
		unlink(path);
	}
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return husk_error_set(err, errno, "socket %s", path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return husk_error_set(err, errno, "bind %s", path);
	if (listen(fd, backlog) < 0)
		return husk_error_set(err, errno, "listen %s", path);
	return move_fd(fd);
}

void close_fd(int *fd)
{
	if (*fd < 0)
		return;
	int saved = errno;
	close(*fd);
	errno = saved;
	*fd = -1;
}

int write_knob(const char *path, const char *value)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = strlen(value);
	ssize_t w = write(fd, value, n);
	if (w >= 0 && w != (ssize_t)n)
		errno = EIO;
	return w == (ssize_t)n ? 0 : -1;
}

int write_str(const char *path, const char *value, husk_err *err)
{
	if (write_knob(path, value) < 0)
		return husk_error_set(err, errno, "write %s to %s", value, path);
	return 0;
}

ssize_t read_text_at(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	buf[0] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return errno = ENAMETOOLONG, -1;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}
