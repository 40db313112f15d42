/* husk start, kill and delete: state transitions of a container made by husk create. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "shim/lib/control.h"
#include "shim/lib/hostcg.h"
#include "oci/hooks.h"
#include "husk.h"
#include "lib/log.h"
#include "shim/lib/ocistate.h"
#include "shim/lib/statedir.h"

#define START_TIMEOUT_MS 60000
#define KILL_TIMEOUT_MS  10000
/* how long delete waits for the owner to power the VM off before SIGKILL */
#define OWNER_EXIT_MS 30000

/* Parses "ID" as the only operand, optionally followed by one more (kill's SIGNAL). */
static int operands(int argc, char **argv, int max, const char *use, char ***out)
{
	if (optind >= argc || argc - optind > max) {
		fprintf(stderr, "usage: husk %s\n", use);
		return -1;
	}
	*out = argv + optind;
	return argc - optind;
}

static bool only_help_flags(int argc, char **argv, const char *use)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		fprintf(c == 'h' ? stdout : stderr, "usage: husk %s\n", use);
		return false;
	}
	return true;
}

int cmd_start(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	const char *use = "start ID";
	struct oci_state st;
	char **ops;
	if (!only_help_flags(argc, argv, use) || operands(argc, argv, 1, use, &ops) < 0)
		return 2;
	const char *id = ops[0];
	cleanup_close int lock = ocistate_lock(g->root, id, err);
	if (lock < 0 || ocistate_read(g->root, id, &st, err) < 0)
		goto fail;
	enum oci_status s = ocistate_live_status(&st);
	ocistate_free(&st);
	if (s != OCI_CREATED) {
		husk_error_set(err, 0,
		               s == OCI_STOPPED   ? "cannot start a container that has stopped"
		               : s == OCI_RUNNING ? "cannot start an already running container"
		                                  : "cannot start a container in the %s state",
		               oci_status_name(s));
		goto fail;
	}
	struct control_request req = {.op = "start"};
	if (control_call(g->root, id, &req, START_TIMEOUT_MS, err) == 0)
		return 0;
fail:
	husk_error_prefix(err, "start %s", id);
	return 1;
}

/* "TERM", "SIGTERM", "term" or "15". */
static int parse_signal(const char *s, husk_err *err)
{
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (*s && !*end)
		return !errno && n > 0 && n < NSIG ? (int)n
		                                   : husk_error_set(err, 0, "invalid signal %s", s);
	const char *name = strncasecmp(s, "SIG", 3) ? s : s + 3;
	for (int i = 1; i < NSIG; i++)
		if (sigabbrev_np(i) && !strcasecmp(name, sigabbrev_np(i)))
			return i;
	return husk_error_set(err, 0, "invalid signal %s", s);
}

int cmd_kill(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *use = "kill [--all] ID [SIGNAL]";
	struct control_request req = {.op = "kill", .signal = SIGTERM};
	struct oci_state st;
	char **ops;
	int c, n;
	while ((c = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
		if (c != 'a') {
			fprintf(c == 'h' ? stdout : stderr, "usage: husk %s\n", use);
			return c == 'h' ? 0 : 2;
		}
		req.all = true;
	}
	if ((n = operands(argc, argv, 2, use, &ops)) < 0)
		return 2;
	const char *id = ops[0];
	if (n == 2 && (req.signal = parse_signal(ops[1], err)) < 0)
		goto fail;
	if (ocistate_read(g->root, id, &st, err) < 0)
		goto fail;
	enum oci_status s = ocistate_live_status(&st);
	ocistate_free(&st);
	if (s == OCI_STOPPED) {
		husk_error_set(err, 0, "container not running");
		goto fail;
	}
	if (control_call(g->root, id, &req, KILL_TIMEOUT_MS, err) == 0)
		return 0;
fail:
	husk_error_prefix(err, "kill %s", id);
	return 1;
}

static bool wait_exit(int pidfd, int timeout_ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int r;
	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	return r == 1;
}

/* Stops the owner (it powers the VM off) and waits until it is gone. */
static void stop_owner(const struct husk_globals *g, const struct oci_state *st)
{
	cleanup_close int pidfd = ocistate_owner_pidfd(st);
	cleanup_error husk_err ignored = NULL;
	if (pidfd < 0)
		return;
	struct control_request req = {.op = "kill", .signal = SIGKILL};
	if (st->status != OCI_STOPPED)
		control_call(g->root, st->id, &req, KILL_TIMEOUT_MS, &ignored);
	if (wait_exit(pidfd, OWNER_EXIT_MS))
		return;
	/* its helpers die with it (PR_SET_PDEATHSIG) */
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	wait_exit(pidfd, OWNER_EXIT_MS);
}

/* The poststop hooks of the config.json the owner kept in dir (none if it kept none). */
static int kept_hooks(const char *dir, struct hooks *h, husk_err *err)
{
	char path[PATH_MAX + sizeof(OCISTATE_CONFIG) + 1];
	snprintf(path, sizeof(path), "%s/%s", dir, OCISTATE_CONFIG);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : husk_error_set(err, errno, "%s", path);
	/* written by the owner from the validated config: at most SPEC_MAX_JSON */
	cleanup_free char *buf = malloc(SPEC_MAX_JSON);
	size_t len = 0;
	ssize_t n = 1;
	while (buf && len < SPEC_MAX_JSON && (n = read(fd, buf + len, SPEC_MAX_JSON - len)) > 0)
		len += (size_t)n;
	if (!buf || n < 0)
		return husk_error_set(err, buf ? errno : ENOMEM, "%s", path);
	return hooks_parse_spec(buf, len, h, err);
}

/* After the container is gone: its poststop hooks get its last state. */
static void run_poststop_hooks(struct oci_state *st, const struct hooks *h)
{
	cleanup_free char *state = NULL;
	cleanup_error husk_err err = NULL;
	if (!h->n[HOOK_POSTSTOP])
		return;
	st->status = OCI_STOPPED;
	state = ocistate_json(st, OCI_STOPPED);
	if ((state ? hooks_run(h, HOOK_POSTSTOP, state, &err)
	           : husk_error_set(&err, ENOMEM, "state")) < 0)
		log_warn("delete %s: poststop hooks: %s", st->id, husk_error_msg(err));
}

int cmd_delete(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *use = "delete [--force] ID";
	cleanup_error husk_err hooks_err = NULL;
	struct hooks hooks = {0};
	struct oci_state st;
	char dir[PATH_MAX];
	bool force = false;
	cleanup_close int lock = -1;
	char **ops;
	int c;
	while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		if (c != 'f') {
			fprintf(c == 'h' ? stdout : stderr, "usage: husk %s\n", use);
			return c == 'h' ? 0 : 2;
		}
		force = true;
	}
	if (operands(argc, argv, 1, use, &ops) < 0)
		return 2;
	const char *id = ops[0];
	if (container_id_check(id, err) < 0)
		goto fail;
	lock = ocistate_lock(g->root, id, err);
	if (lock < 0 || ocistate_read(g->root, id, &st, err) < 0) {
		if (force && *err && (*err)->code == ENOENT) {
			husk_error_free(err);
			return 0;
		}
		goto fail;
	}
	enum oci_status s = ocistate_live_status(&st);
	if ((s == OCI_RUNNING || s == OCI_PAUSED) && !force) {
		ocistate_free(&st);
		husk_error_set(err, 0, "cannot delete container %s that is not stopped: %s", id,
		               oci_status_name(s));
		goto fail;
	}
	stop_owner(g, &st);
	snprintf(dir, sizeof(dir), "%s/%s", g->root, id);
	if (kept_hooks(dir, &hooks, &hooks_err) < 0)
		log_warn("delete %s: poststop hooks: %s", id, husk_error_msg(hooks_err));
	hostcg_remove_recorded(dir);
	statedir_remove_path(dir);
	run_poststop_hooks(&st, &hooks);
	hooks_free(&hooks);
	ocistate_free(&st);
	return 0;
fail:
	husk_error_prefix(err, "delete %s", id);
	return 1;
}
