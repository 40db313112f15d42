/*
 * husk create: validate the bundle, fork the sandbox owner (shim/owner.c,
 * a new session holding our stdio), wait on a pipe until it reports the
 * container created (or fails) and return. husk run shares all of it.
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
#include "log.h"
#include "ocistate.h"
#include "spec.h"

/* The owner works in "/": a relative --pid-file is taken from our cwd, as runc does. */
static int absolute_path(const char *path, char **out, husk_err *err)
{
	char cwd[PATH_MAX];
	if (path[0] == '/')
		*out = strdup(path);
	else if (!getcwd(cwd, sizeof(cwd)))
		return husk_error_set(err, errno, "pid file %s", path);
	else if (asprintf(out, "%s/%s", cwd, path) < 0)
		*out = NULL;
	return *out ? 0 : husk_error_set(err, ENOMEM, "pid file %s", path);
}

int owner_args_load(struct owner_args *a, const struct husk_globals *g, const char *id,
                    const char *bundle, const char *config, const char *pid_file, husk_err *err)
{
	*a = (struct owner_args){.root = g->root, .id = id};
	if (container_id_check(id, err) < 0 || config_load(config, &a->cfg, err) < 0 ||
	    (pid_file && absolute_path(pid_file, &a->pid_file, err) < 0))
		return -1;
	if (!(a->bundle = realpath(bundle, NULL)))
		return husk_error_set(err, errno, "bundle %s", bundle);
	if (spec_load(a->bundle, &a->spec, &a->rootfs, err) < 0)
		return -1;
	if (a->spec.terminal)
		return husk_error_set(
		    err, 0, "bundle %s: config.json: process.terminal: not supported yet", bundle);
	return 0;
}

void owner_args_free(struct owner_args *a)
{
	free(a->bundle);
	free(a->rootfs);
	free(a->pid_file);
	spec_free(&a->spec);
	config_free(&a->cfg);
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

static _Noreturn void owner_child(const struct husk_globals *g, const struct owner_args *a,
                                  int ready_fd)
{
	husk_err err = NULL;
	close_inherited_fds(ready_fd, g->log_fd);
	setsid();
	if (chdir("/") < 0)
		_exit(1);
	int status = owner_run(a, ready_fd, &err);
	if (err)
		log_error("container %s: %s", a->id, husk_error_msg(err));
	husk_error_free(&err);
	_exit(status);
}

int owner_fork(const struct husk_globals *g, const struct owner_args *a, husk_err *err)
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
		owner_child(g, a, p[1]);
	}
	close(p[1]);
	int r = wait_created(p[0], pid, err);
	close(p[0]);
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
	struct owner_args a = {0};
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
	if (console)
		husk_error_set(err, 0, "--console-socket: terminals are not supported yet");
	else if (owner_args_load(&a, g, id, bundle, config, pid_file, err) == 0 &&
	         owner_fork(g, &a, err) == 0)
		status = 0;
	owner_args_free(&a);
	if (*err)
		husk_error_prefix(err, "create %s", id);
	return status;
}
