#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"
#include "specjson.h"

/* How much of a hook's output is looked at afterwards. */
#define OUTPUT_TAIL 4096

static const char *const kind_names[HOOK_KINDS] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

const char *hook_kind_name(enum hook_kind kind)
{
	return kind_names[kind];
}

/* An array of NUL-free strings (NULL: empty), copied into a NULL-terminated vector. */
static int parse_strv(json_object *arr, const char *what, const char *field, char ***out,
                      husk_err *err)
{
	size_t n = 0;
	if (arr && !json_object_is_type(arr, json_type_array))
		return husk_error_set(err, 0, "%s.%s: must be an array of strings", what, field);
	if (arr && (n = json_object_array_length(arr)) > HOOK_MAX_ARGS)
		return husk_error_set(err, 0, "%s.%s: more than %d entries", what, field,
		                      HOOK_MAX_ARGS);
	if (!(*out = calloc(n + 1, sizeof(char *))))
		return husk_error_set(err, ENOMEM, "%s.%s", what, field);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(s, json_type_string) ||
		    strlen(json_object_get_string(s)) != (size_t)json_object_get_string_len(s))
			return husk_error_set(err, 0, "%s.%s[%zu]: must be a string", what, field,
			                      i);
		if (!((*out)[i] = strdup(json_object_get_string(s))))
			return husk_error_set(err, ENOMEM, "%s.%s", what, field);
	}
	return 0;
}

static int parse_timeout(json_object *t, const char *what, int *out, husk_err *err)
{
	*out = 0;
	if (!t)
		return 0;
	errno = 0;
	int64_t v = json_object_get_int64(t);
	if (!json_object_is_type(t, json_type_int) || errno || v < 1 || v > HOOK_MAX_TIMEOUT)
		return husk_error_set(err, 0,
		                      "%s.timeout: must be a whole number of seconds, 1 to %d",
		                      what, HOOK_MAX_TIMEOUT);
	*out = (int)v;
	return 0;
}

static int parse_hook(json_object *o, const char *what, struct hook *hk, husk_err *err)
{
	json_object *path;
	if (!json_object_is_type(o, json_type_object))
		return husk_error_set(err, 0, "%s: must be an object", what);
	if (!(path = json_member(o, "path")))
		return husk_error_set(err, 0, "%s.path: missing", what);
	if (!json_object_is_type(path, json_type_string) ||
	    json_object_get_string(path)[0] != '/' ||
	    strlen(json_object_get_string(path)) != (size_t)json_object_get_string_len(path) ||
	    json_object_get_string_len(path) >= SPEC_MAX_PATH)
		return husk_error_set(err, 0, "%s.path: must be an absolute path", what);
	if (!(hk->path = strdup(json_object_get_string(path))))
		return husk_error_set(err, ENOMEM, "%s", what);
	if (parse_strv(json_member(o, "args"), what, "args", &hk->args, err) < 0 ||
	    parse_strv(json_member(o, "env"), what, "env", &hk->env, err) < 0 ||
	    parse_timeout(json_member(o, "timeout"), what, &hk->timeout, err) < 0)
		return -1;
	if (!hk->args[0]) {
		free(hk->args);
		hk->args = calloc(2, sizeof(char *));
		if (!hk->args || !(hk->args[0] = strdup(hk->path)))
			return husk_error_set(err, ENOMEM, "%s", what);
	}
	return 0;
}

static int parse_kind(json_object *arr, enum hook_kind k, struct hooks *h, husk_err *err)
{
	char what[64];
	size_t n;
	if (!json_object_is_type(arr, json_type_array))
		return husk_error_set(err, 0, "hooks.%s: must be an array", kind_names[k]);
	if ((n = json_object_array_length(arr)) > HOOKS_MAX)
		return husk_error_set(err, 0, "hooks.%s: more than %d hooks", kind_names[k],
		                      HOOKS_MAX);
	if (n && !(h->list[k] = calloc(n, sizeof(struct hook))))
		return husk_error_set(err, ENOMEM, "hooks.%s", kind_names[k]);
	for (size_t i = 0; i < n; i++) {
		h->n[k] = i + 1;
		snprintf(what, sizeof(what), "hooks.%s[%zu]", kind_names[k], i);
		if (parse_hook(json_object_array_get_idx(arr, i), what, &h->list[k][i], err) < 0)
			return -1;
	}
	return 0;
}

int hooks_parse(json_object *hooks, struct hooks *h, husk_err *err)
{
	*h = (struct hooks){0};
	if (!hooks || json_object_is_type(hooks, json_type_null))
		return 0;
	if (!json_object_is_type(hooks, json_type_object))
		return husk_error_set(err, 0, "hooks: must be an object");
	for (int k = 0; k < HOOK_KINDS; k++) {
		json_object *arr = json_member(hooks, kind_names[k]);
		if (arr && parse_kind(arr, (enum hook_kind)k, h, err) < 0) {
			hooks_free(h);
			return -1;
		}
	}
	return 0;
}

int hooks_parse_spec(const char *json, size_t len, struct hooks *h, husk_err *err)
{
	*h = (struct hooks){0};
	cleanup_json json_object *o = spec_json_parse(json, len, err);
	if (!o)
		return -1;
	return hooks_parse(json_member(o, "hooks"), h, err);
}

void hooks_free(struct hooks *h)
{
	for (int k = 0; k < HOOK_KINDS; k++) {
		for (size_t i = 0; i < h->n[k]; i++) {
			free(h->list[k][i].path);
			free_strv(h->list[k][i].args);
			free_strv(h->list[k][i].env);
		}
		free(h->list[k]);
	}
	*h = (struct hooks){0};
}

/* --- running ---------------------------------------------------------------------------- */

static int state_memfd(const char *state_json, husk_err *err)
{
	size_t len = strlen(state_json);
	int fd = (int)syscall(SYS_memfd_create, "hook-state", MFD_CLOEXEC);
	if (fd < 0)
		return husk_error_set(err, errno, "memfd");
	if (write(fd, state_json, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return husk_error_set(err, errno, "hook state");
	}
	return fd;
}

/* The child: its own process group (killed as one at the timeout), default signals. */
static _Noreturn void exec_hook(const struct hook *hk, int in_fd, int out_fd)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	setpgid(0, 0);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(126);
	syscall(SYS_close_range, 3, ~0U, 0);
	execve(hk->path, hk->args, hk->env);
	dprintf(2, "exec %s: %s\n", hk->path, strerror(errno));
	_exit(127);
}

/* Waits for pid at most timeout_s (0: forever); kills its group at the deadline. */
static int wait_hook(pid_t pid, int timeout_s, int *status, bool *timed_out, husk_err *err)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int64_t deadline = deadline_after(timeout_s ? timeout_s * 1000 : -1);
	*timed_out = false;
	if (pidfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, status, 0);
		return husk_error_set(err, errno, "pidfd_open");
	}
	for (;;) {
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		int left = deadline_left(deadline);
		int n = left == 0 ? 0 : poll(&p, 1, left);
		if (n > 0)
			break;
		if (n == 0) {
			*timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		if (errno != EINTR) {
			kill(pid, SIGKILL);
			break;
		}
	}
	close(pidfd);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return husk_error_set(err, errno, "waitpid");
	return 0;
}

/* Logs the tail of the hook's output, line by line; leaves its last line in last. */
static void log_output(int fd, const char *what, char *last, size_t len)
{
	char buf[OUTPUT_TAIL + 1];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t start = end > OUTPUT_TAIL ? end - OUTPUT_TAIL : 0;
	ssize_t n = end > 0 ? pread(fd, buf, OUTPUT_TAIL, start) : 0;
	last[0] = '\0';
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line)
			continue;
		log_info("hook %s: %s", what, line);
		size_t n_last = strnlen(line, len - 1);
		memcpy(last, line, n_last);
		last[n_last] = '\0';
	}
}

static int run_one(const struct hook *hk, const char *what, const char *state_json, husk_err *err)
{
	char last[256], why[64];
	int status = 0;
	bool timed_out;
	cleanup_close int in = state_memfd(state_json, err);
	if (in < 0)
		return -1;
	cleanup_close int out = (int)syscall(SYS_memfd_create, "hook-output", MFD_CLOEXEC);
	if (out < 0)
		return husk_error_set(err, errno, "hook %s %s: memfd", what, hk->path);
	pid_t pid = fork();
	if (pid < 0)
		return husk_error_set(err, errno, "hook %s %s: fork", what, hk->path);
	if (pid == 0)
		exec_hook(hk, in, out);
	if (wait_hook(pid, hk->timeout, &status, &timed_out, err) < 0)
		return husk_error_prefix(err, "hook %s %s", what, hk->path);
	log_output(out, what, last, sizeof(last));
	if (timed_out)
		snprintf(why, sizeof(why), "timed out after %d s", hk->timeout);
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(status));
	else if (WEXITSTATUS(status))
		snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(status));
	else
		return 0;
	return husk_error_set(err, 0, "hook %s %s: %s%s%s", what, hk->path, why,
	                      last[0] ? ": " : "", last);
}

int hooks_run(const struct hooks *h, enum hook_kind kind, const char *state_json, husk_err *err)
{
	bool warn_only = kind == HOOK_POSTSTART || kind == HOOK_POSTSTOP;
	char what[64];
	for (size_t i = 0; i < h->n[kind]; i++) {
		cleanup_error husk_err e = NULL;
		snprintf(what, sizeof(what), "%s[%zu]", kind_names[kind], i);
		log_debug("hook %s: %s", what, h->list[kind][i].path);
		if (run_one(&h->list[kind][i], what, state_json, &e) == 0)
			continue;
		if (!warn_only) {
			*err = move_ptr(e);
			return -1;
		}
		log_warn("%s", husk_error_msg(e));
	}
	return 0;
}
