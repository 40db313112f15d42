#include "virtiofsd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"

static const char *const cache_names[] = {
    [VIRTIOFS_CACHE_AUTO] = "auto",
    [VIRTIOFS_CACHE_ALWAYS] = "always",
    [VIRTIOFS_CACHE_NONE] = "none",
};

int virtiofs_cache_parse(const char *s, enum virtiofs_cache *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(cache_names); i++) {
		if (strcmp(s, cache_names[i]) == 0) {
			*out = (enum virtiofs_cache)i;
			return 0;
		}
	}
	return -1;
}

const char *virtiofs_cache_name(enum virtiofs_cache c)
{
	return (unsigned)c < ARRAY_SIZE(cache_names) ? cache_names[c] : "?";
}

/* A socket left by an earlier run would satisfy the wait at once: remove it. */
static int remove_stale_socket(const char *path, husk_err *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : husk_error_set(err, errno, "stat %s", path);
	if (!S_ISSOCK(st.st_mode))
		return husk_error_set(err, EEXIST, "%s exists and is not a socket", path);
	if (unlink(path) < 0)
		return husk_error_set(err, errno, "unlink %s", path);
	return 0;
}

/* Appends the last line virtiofsd logged (its own reason for failing) to *err. */
static void add_log_reason(const char *log_path, husk_err *err)
{
	char tail[512];
	cleanup_close int fd = open(log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(tail) - 1 ? size - (off_t)sizeof(tail) + 1 : 0;
	ssize_t n = pread(fd, tail, sizeof(tail) - 1, from);
	if (n <= 0)
		return;
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
		n--;
	tail[n] = '\0';
	char *last = strrchr(tail, '\n');
	last = last ? last + 1 : tail;
	if (*last && err && *err) {
		husk_err outer = NULL;
		husk_error_set(&outer, 0, "%s (%s: \"%.200s\")", husk_error_msg(*err), log_path,
		               last);
		husk_error_free(err);
		*err = outer;
	}
}

void virtiofsd_remove_pidfile(const struct proc *p, const char *socket_path)
{
	char path[PATH_MAX], buf[32];
	if (p->pid <= 0 || !p->reaped ||
	    snprintf(path, sizeof(path), "/var/run/virtiofsd/%s.pid", socket_path) >=
	        (int)sizeof(path))
		return;
	for (char *c = path + strlen("/var/run/virtiofsd/"); *c; c++)
		if (*c == '/')
			*c = '.';
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (strtol(buf, NULL, 10) == p->pid && unlink(path) < 0)
		log_warn("unlink %s: %s", path, strerror(errno));
}

int virtiofsd_start(const struct virtiofsd_spec *spec, struct proc *out, husk_err *err)
{
	proc_init(out);
	if (remove_stale_socket(spec->socket_path, err) < 0)
		return husk_error_prefix(err, "virtiofsd");
	cleanup_close int log =
	    open(spec->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log < 0)
		return husk_error_set(err, errno, "virtiofsd: open %s", spec->log_path);
	cleanup_free char *sock = NULL, *source = NULL, *cache = NULL;
	if (asprintf(&sock, "--socket-path=%s", spec->socket_path) < 0 ||
	    asprintf(&source, "source=%s", spec->shared_dir) < 0 ||
	    asprintf(&cache, "cache=%s", virtiofs_cache_name(spec->cache)) < 0)
		return husk_error_set(err, ENOMEM, "virtiofsd");
	/* announce_submounts: container rootfs bind mounts under the shared dir */
	const char *argv[] = {spec->binary, sock,
	                      "-o",         source,
	                      "-o",         cache,
	                      "-o",         "announce_submounts",
	                      "-o",         spec->debug ? "log_level=debug" : "log_level=warn",
	                      NULL};
	struct proc_spec ps = {.argv = argv, .stdin_fd = -1, .stdout_fd = log, .stderr_fd = log};
	if (proc_spawn(&ps, out, err) < 0)
		return husk_error_prefix(err, "virtiofsd");
	if (proc_wait_for_path(spec->socket_path, out, spec->timeout_ms, err) < 0) {
		proc_kill_and_reap(out, SIGTERM, 1000);
		virtiofsd_remove_pidfile(out, spec->socket_path);
		husk_error_prefix(err, "virtiofsd");
		add_log_reason(spec->log_path, err);
		return -1;
	}
	return 0;
}

int virtiofsd_version(const char *binary, char *buf, size_t len, husk_err *err)
{
	const char *argv[] = {binary, "--version", NULL};
	return proc_first_line(argv, 5000, buf, len, err);
}
