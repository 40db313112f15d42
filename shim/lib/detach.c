#include "detach.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"

int path_from_cwd(const char *path, char **out, husk_err *err)
{
	char cwd[PATH_MAX];
	if (path[0] == '/')
		*out = strdup(path);
	else if (!getcwd(cwd, sizeof(cwd)))
		return husk_error_set(err, errno, "%s", path);
	else if (asprintf(out, "%s/%s", cwd, path) < 0)
		*out = NULL;
	return *out ? 0 : husk_error_set(err, ENOMEM, "%s", path);
}

int write_pid_file(const char *path, pid_t pid, husk_err *err)
{
	char tmp[PATH_MAX], text[32];
	int n = snprintf(tmp, sizeof(tmp), "%s.husk-tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return husk_error_set(err, ENAMETOOLONG, "pid file %s", path);
	n = snprintf(text, sizeof(text), "%d", (int)pid);
	cleanup_close int fd =
	    open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || write(fd, text, (size_t)n) != n)
		return husk_error_set(err, errno, "pid file %s", tmp);
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return husk_error_set(err, errno, "pid file %s", path);
	}
	return 0;
}

/* The child keeps stdio, its report pipe and keep; nothing else of the caller's. */
static void close_inherited_fds(int keep_a, int keep_b)
{
	int lo = keep_a < keep_b ? keep_a : keep_b, hi = keep_a < keep_b ? keep_b : keep_a;
	if (lo < 3)
		lo = hi;
	if (lo > 3)
		syscall(SYS_close_range, 3, lo - 1, 0);
	if (hi > lo + 1)
		syscall(SYS_close_range, lo + 1, hi - 1, 0);
	syscall(SYS_close_range, hi + 1, ~0U, 0);
}

/* Reads the child's one-line report; "ok" means ready. */
static int wait_ready(int fd, pid_t child, husk_err *err)
{
	char line[4096];
	size_t have = 0;
	ssize_t n;
	while (
	    have < sizeof(line) - 1 &&
	    ((n = read(fd, line + have, sizeof(line) - 1 - have)) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			have += (size_t)n;
	while (have && line[have - 1] == '\n')
		have--;
	line[have] = '\0';
	if (!strcmp(line, "ok"))
		return 0;
	waitpid(child, NULL, 0);
	return husk_error_set(err, 0, "%s",
	                      have ? line : "detached process died before it was ready");
}

int detach_spawn(detach_fn fn, void *arg, int keep_fd, husk_err *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return husk_error_set(err, errno, "pipe");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return husk_error_set(err, errno, "fork");
	}
	if (pid == 0) {
		close(p[0]);
		close_inherited_fds(p[1], keep_fd);
		setsid();
		if (chdir("/") < 0)
			_exit(1);
		_exit(fn(arg, p[1]));
	}
	close(p[1]);
	int r = wait_ready(p[0], pid, err);
	close(p[0]);
	return r;
}

void detach_report(int fd, husk_err error)
{
	char line[4096];
	if (fd < 0)
		return;
	int n = snprintf(line, sizeof(line), "%s\n", error ? husk_error_msg(error) : "ok");
	if (n > 0 && write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		log_warn("report: %s", strerror(errno));
	close(fd);
}
