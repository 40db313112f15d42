/*
 * husk create: validate the bundle, fork the sandbox owner (shim/owner.c,
 * a new session holding our stdio), wait on a pipe until it reports the
 * container created (or fails), write --pid-file and return.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "husk.h"
#include "ocistate.h"
#include "spec.h"

/* Writes pid to path atomically (temp file in the same directory + rename), like runc. */
static int write_pid_file(const char *path, pid_t pid, husk_err *err)
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

/* The owner keeps stdio, its report pipe and the log; nothing else of the caller's. */
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

/* Reads the owner's one-line report; "ok" means created. */
static int wait_created(int fd, pid_t owner, husk_err *err)
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
	/* the owner tore everything down before reporting; reap it so nothing is left */
	waitpid(owner, NULL, 0);
	return husk_error_set(err, 0, "%s", have ? line : "sandbox owner died during create");
}

static int create_container(const struct husk_globals *g, struct owner_args *a,
                            const char *pid_file, husk_err *err)
{
	char dir[PATH_MAX];
	int p[2];
	snprintf(dir, sizeof(dir), "%s/%s", g->root, a->id);
	if (access(dir, F_OK) == 0)
		return husk_error_set(err, 0, "container %s already exists", a->id);
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
		close_inherited_fds(p[1], g->log_fd);
		setsid();
		if (chdir("/") < 0)
			_exit(1);
		_exit(owner_main(a, p[1]));
	}
	close(p[1]);
	int r = wait_created(p[0], pid, err);
	close(p[0]);
	if (r == 0 && pid_file && write_pid_file(pid_file, pid, err) < 0) {
		kill(pid, SIGKILL);
		return -1;
	}
	return r;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: husk create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] "
	           "[--no-pivot] [--no-new-keyring] [--config FILE] ID\n");
}

int cmd_create(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"console-socket", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"no-pivot", no_argument, NULL, 'P'},
	    {"no-new-keyring", no_argument, NULL, 'K'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *bundle = ".", *pid_file = NULL, *console = NULL, *config = NULL;
	struct husk_config cfg = {0};
	struct oci_spec spec = {0};
	cleanup_free char *rootfs = NULL, *abs_bundle = NULL;
	int c, status = 1;

	while ((c = getopt_long(argc, argv, "+b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bundle = optarg;
			break;
		case 'p':
			pid_file = optarg;
			break;
		case 's':
			console = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'P':
		case 'K':
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	const char *id = argv[optind];
	if (container_id_check(id, err) < 0 || config_load(config, &cfg, err) < 0)
		goto out;
	if (!(abs_bundle = realpath(bundle, NULL))) {
		husk_error_set(err, errno, "bundle %s", bundle);
		goto out;
	}
	if (spec_load(abs_bundle, &spec, &rootfs, err) < 0)
		goto out;
	if (spec.terminal || console) {
		husk_error_set(err, 0,
		               "bundle %s: terminals (process.terminal, --console-socket) "
		               "are not supported yet",
		               bundle);
		goto out;
	}
	struct owner_args a = {.root = g->root,
	                       .id = id,
	                       .bundle = abs_bundle,
	                       .rootfs = rootfs,
	                       .spec = &spec,
	                       .cfg = &cfg};
	if (create_container(g, &a, pid_file, err) == 0)
		status = 0;
out:
	spec_free(&spec);
	config_free(&cfg);
	if (*err && strncmp(husk_error_msg(*err), "create ", 7))
		husk_error_prefix(err, "create %s", id);
	return status;
}
