/*
 * A task's stdio as containerd names it: FIFO paths (plain or fifo://), an
 * empty string for no stream, file:///path (stdout and stderr appended to
 * one file) or binary:///path?k=v (a logger process reading fd 3 and 4,
 * closing fd 5 once ready). The fds opened here are what the stdio relay
 * (shim/lib/relay.h) reads and writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "shim.h"

#define LOGGER_READY_MS 10000
#define LOGGER_STOP_MS  12000
#define LOGGER_EOF_MS   1000
#define LOGGER_MAX_ARGS 64

extern char **environ;

struct task_io {
	int in, in_keep, out, err;
	struct proc logger;
};

static const char *fifo_path(const char *uri)
{
	return strncmp(uri, "fifo://", 7) ? uri : uri + 7;
}

/*
 * Output FIFO: opened read-write so the open never waits for containerd's
 * reader; the relay reopens it write-only, and this fd is dropped once it has.
 */
static int open_out_fifo(const char *uri, husk_err *err)
{
	const char *path = fifo_path(uri);
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return husk_error_set(err, errno, "open %s", path);
	return fd;
}

/* stdin: our own write end stays open until CloseIO, so EOF comes only then. */
static int open_in_fifo(struct task_io *io, const char *uri, husk_err *err)
{
	const char *path = fifo_path(uri);
	io->in = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (io->in < 0)
		return husk_error_set(err, errno, "open %s", path);
	io->in_keep = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (io->in_keep < 0)
		return husk_error_set(err, errno, "open %s", path);
	return 0;
}

static int open_file_log(struct task_io *io, const char *path, husk_err *err)
{
	io->out = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (io->out < 0)
		return husk_error_set(err, errno, "log file %s", path);
	io->err = fcntl(io->out, F_DUPFD_CLOEXEC, 3);
	if (io->err < 0)
		return husk_error_set(err, errno, "log file %s", path);
	return 0;
}

/* "/path?k=v&k2" -> argv {path, k, v, k2, NULL} in buf (modified in place) */
static int logger_argv(char *buf, const char **argv, husk_err *err)
{
	size_t n = 0;
	char *query = strchr(buf, '?');
	if (query)
		*query++ = '\0';
	argv[n++] = buf;
	for (char *kv = query ? strtok(query, "&") : NULL; kv; kv = strtok(NULL, "&")) {
		char *v = strchr(kv, '=');
		if (n + 3 > LOGGER_MAX_ARGS)
			return husk_error_set(err, E2BIG, "logger %s: too many arguments", buf);
		if (v)
			*v++ = '\0';
		argv[n++] = kv;
		if (v)
			argv[n++] = v;
	}
	argv[n] = NULL;
	return 0;
}

static int wait_logger_ready(int fd, husk_err *err)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char c;
	int64_t deadline = monotonic_ms() + LOGGER_READY_MS;
	for (;;) {
		int left = (int)(deadline - monotonic_ms());
		if (left <= 0)
			return husk_error_set(err, ETIMEDOUT, "logger not ready within %d ms",
			                      LOGGER_READY_MS);
		int r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return husk_error_set(err, errno, "logger ready pipe");
		if (r && read(fd, &c, 1) <= 0)
			return 0;
	}
}

static int start_logger(struct task_io *io, const char *uri, const char *id, const char *ns,
                        husk_err *err)
{
	const char *argv[LOGGER_MAX_ARGS];
	int out[2] = {-1, -1}, errp[2] = {-1, -1}, ready[2] = {-1, -1};
	cleanup_free char *buf = strdup(uri + strlen("binary://"));
	cleanup_free char *env_id = NULL, *env_ns = NULL;
	int ret = -1;
	if (!buf || asprintf(&env_id, "CONTAINER_ID=%s", id) < 0 ||
	    asprintf(&env_ns, "CONTAINER_NAMESPACE=%s", ns) < 0)
		return husk_error_set(err, ENOMEM, "logger");
	if (logger_argv(buf, argv, err) < 0)
		return -1;
	size_t nenv = 0;
	while (environ[nenv])
		nenv++;
	cleanup_free const char **envp = calloc(nenv + 3, sizeof(*envp));
	if (!envp)
		return husk_error_set(err, ENOMEM, "logger");
	memcpy(envp, environ, nenv * sizeof(*envp));
	envp[nenv] = env_id;
	envp[nenv + 1] = env_ns;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    pipe2(ready, O_CLOEXEC) < 0) {
		husk_error_set(err, errno, "logger pipes");
		goto out;
	}
	struct proc_fd_map fds[] = {{out[0], 3}, {errp[0], 4}, {ready[1], 5}};
	struct proc_spec spec = {.argv = argv,
	                         .envp = envp,
	                         .fds = fds,
	                         .nfds = ARRAY_SIZE(fds),
	                         .stdin_fd = -1,
	                         .stdout_fd = -1,
	                         .stderr_fd = -1};
	if (proc_spawn(&spec, &io->logger, err) < 0) {
		husk_error_prefix(err, "logger %s", argv[0]);
		goto out;
	}
	close_fd(&ready[1]);
	if (wait_logger_ready(ready[0], err) < 0) {
		husk_error_prefix(err, "logger %s", argv[0]);
		goto out;
	}
	io->out = out[1];
	io->err = errp[1];
	out[1] = errp[1] = -1;
	ret = 0;
out:
	for (int i = 0; i < 2; i++) {
		close_fd(&out[i]);
		close_fd(&errp[i]);
		close_fd(&ready[i]);
	}
	return ret;
}

static int open_outputs(struct task_io *io, const struct stdio_paths *paths, const char *id,
                        const char *ns, husk_err *err)
{
	if (!strncmp(paths->out, "binary://", 9))
		return start_logger(io, paths->out, id, ns, err);
	if (!strncmp(paths->out, "file://", 7))
		return open_file_log(io, paths->out + 7, err);
	if (paths->out[0] && (io->out = open_out_fifo(paths->out, err)) < 0)
		return -1;
	if (paths->err[0] && !paths->terminal && (io->err = open_out_fifo(paths->err, err)) < 0)
		return -1;
	return 0;
}

struct task_io *task_io_open(const struct stdio_paths *paths, const char *id, const char *ns,
                             husk_err *err)
{
	struct task_io *io = calloc(1, sizeof(*io));
	if (!io) {
		husk_error_set(err, ENOMEM, "stdio");
		return NULL;
	}
	io->in = io->in_keep = io->out = io->err = -1;
	proc_init(&io->logger);
	if ((paths->in[0] && open_in_fifo(io, paths->in, err) < 0) ||
	    open_outputs(io, paths, id, ns, err) < 0) {
		task_io_free(io);
		return NULL;
	}
	return io;
}

int task_io_in(const struct task_io *io)
{
	return io->in;
}

int task_io_out(const struct task_io *io)
{
	return io->out;
}

int task_io_err(const struct task_io *io)
{
	return io->err;
}

void task_io_drop_outputs(struct task_io *io)
{
	close_fd(&io->out);
	close_fd(&io->err);
}

void task_io_close_stdin(struct task_io *io)
{
	close_fd(&io->in_keep);
}

void task_io_free(struct task_io *io)
{
	if (!io)
		return;
	close_fd(&io->in);
	close_fd(&io->in_keep);
	close_fd(&io->out);
	close_fd(&io->err);
	/* a logger normally ends on EOF; SIGTERM (as containerd sends) only if it does not */
	cleanup_error husk_err err = NULL;
	if (io->logger.pid > 0 && proc_wait_status(&io->logger, LOGGER_EOF_MS, &err) != 1)
		log_debug("logger %d still running after EOF: SIGTERM", (int)io->logger.pid);
	proc_kill_and_reap(&io->logger, SIGTERM, LOGGER_STOP_MS);
	free(io);
}
