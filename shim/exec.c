/*
 * husk exec: run another process in a running container, over this
 * command's own agent connection (shim/lib/attach.h). In the foreground it
 * relays stdio and signals and exits with the process's status. With
 * --detach it forks the holder (shim/lib/detach.h), a --pid-file process
 * that does the same and exits with that status, and returns once the
 * process has started: the role runc's exec'd process plays for conmon and
 * containerd's runc shim.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "shim/lib/attach.h"
#include "lib/cleanup.h"
#include "shim/lib/config.h"
#include "shim/lib/detach.h"
#include "shim/lib/execproc.h"
#include "husk.h"
#include "lib/log.h"
#include "shim/lib/ocistate.h"
#include "shim/lib/procwatch.h"
#include "shim/lib/relay.h"
#include "shim/lib/tty.h"

#define MAX_REPEATED 1024

/* The state of one exec while it runs. */
struct exec_run {
	const struct exec_cmd *x;
	struct husk_loop *loop;
	struct agent_client *agent;
	struct tty_front *tty;
	struct proc_watch *watch;
};

static void forward_signal(struct exec_run *r, int sig)
{
	Husk__Agent__V1__SignalProcessRequest req = HUSK__AGENT__V1__SIGNAL_PROCESS_REQUEST__INIT;
	cleanup_error husk_err error = NULL;
	req.container_id = (char *)r->x->agent_id;
	req.exec_id = (char *)r->x->exec_id;
	req.signal = (uint32_t)sig;
	/* fire and forget: a process that just exited makes it fail harmlessly */
	if (agent_client_call(r->agent, "SignalProcess", &req.base,
	                      &husk__agent__v1__empty__descriptor, r->x->cfg.timeouts.agent_call_ms,
	                      NULL, NULL, &error) < 0)
		log_debug("signal %d: %s", sig, husk_error_msg(error));
}

static int on_signal(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct exec_run *r = data;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGWINCH)
			tty_front_resize(r->tty, r->agent, r->x->agent_id, r->x->exec_id);
		else if (!proc_watch_exited(r->watch))
			forward_signal(r, (int)si.ssi_signo);
	}
	return 0;
}

/*
 * The agent's error names the RPC and the exec id, which mean nothing to the
 * caller: keep the cause ("exec /x: No such file or directory").
 */
static int exec_failure(const struct exec_cmd *x, husk_err *err)
{
	char prefix[sizeof(x->exec_id) + SPEC_MAX_ID + 16];
	snprintf(prefix, sizeof(prefix), "exec %s in %s: ", x->exec_id, x->agent_id);
	const char *cause = strstr(husk_error_msg(*err), prefix);
	if (!cause)
		return -1;
	husk_err plain = NULL;
	husk_error_set(&plain, 0, "%s", cause + strlen(prefix));
	husk_error_set_code(&plain, (*err)->code);
	husk_error_free(err);
	*err = plain;
	return -1;
}

static int start_process(struct exec_run *r, husk_err *err)
{
	Husk__Agent__V1__ExecProcessRequest req = HUSK__AGENT__V1__EXEC_PROCESS_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = (char *)r->x->agent_id;
	req.exec_id = (char *)r->x->exec_id;
	req.process_json.data = (uint8_t *)r->x->process_json;
	req.process_json.len = strlen(r->x->process_json);
	req.stdin = true;
	if (agent_client_call_sync(r->agent, "ExecProcess", &req.base,
	                           &husk__agent__v1__exec_process_response__descriptor,
	                           (int)r->x->cfg.timeouts.agent_call_ms, &resp, err) < 0)
		return exec_failure(r->x, err);
	log_debug("exec %s in %s: guest pid %u", r->x->exec_id, r->x->agent_id,
	          ((Husk__Agent__V1__ExecProcessResponse *)resp)->pid);
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

static int open_terminal(struct exec_run *r, bool holder, husk_err *err)
{
	if (!r->x->terminal)
		return 0;
	r->tty = r->x->console_socket ? tty_front_console(r->x->console_socket, err)
	                              : tty_front_own(STDIN_FILENO, err);
	if (!r->tty || (holder && r->x->console_socket && tty_release_stdio(err) < 0))
		return -1;
	return 0;
}

static int watch(struct exec_run *r, int sigfd, int winchfd, husk_err *err)
{
	int in = r->tty ? tty_front_fd(r->tty) : STDIN_FILENO;
	int out = r->tty ? in : STDOUT_FILENO, errfd = r->tty ? in : STDERR_FILENO;
	r->watch =
	    proc_watch_start(r->loop, r->agent, r->x->agent_id, r->x->exec_id, in, out, errfd, err);
	if (!r->watch || husk_loop_add(r->loop, sigfd, EPOLLIN, on_signal, r, err) < 0 ||
	    (winchfd >= 0 && husk_loop_add(r->loop, winchfd, EPOLLIN, on_signal, r, err) < 0))
		return -1;
	if (r->tty)
		tty_front_resize(r->tty, r->agent, r->x->agent_id, r->x->exec_id);
	int done;
	while ((done = proc_watch_check(r->watch, err)) == 0)
		if (husk_loop_run_once(r->loop, -1, err) < 0)
			return -1;
	return done < 0 ? -1 : 0;
}

static int check_state(const struct oci_state *st, husk_err *err)
{
	enum oci_status s = ocistate_live_status(st);
	if (s == OCI_RUNNING)
		return 0;
	if (s == OCI_CREATED)
		return husk_error_set(err, 0, "cannot exec in a created container: start it first");
	return husk_error_set(err, 0, "cannot exec in a %s container", oci_status_name(s));
}

/* The agent of a running container (an exec_cmd's attach). */
static struct agent_client *attach_container(struct husk_loop *loop, const struct exec_cmd *x,
                                             husk_err *err)
{
	struct oci_state st = {0};
	struct agent_client *a = sandbox_attach(loop, x->g->root, x->id, &x->cfg, &st, err);
	if (a && check_state(&st, err) < 0) {
		agent_client_free(a);
		a = NULL;
	}
	ocistate_free(&st);
	return a;
}

int exec_main(const struct exec_cmd *x, int *report_fd, husk_err *err)
{
	struct exec_run r = {.x = x};
	int status = EXEC_FAILED;

	signal(SIGPIPE, SIG_IGN);
	cleanup_close int sigfd = relay_signals_fd(err);
	cleanup_close int winchfd = x->terminal && sigfd >= 0 ? tty_winch_fd(err) : -1;
	if (sigfd < 0 || (x->terminal && winchfd < 0) || !(r.loop = husk_loop_new(err)) ||
	    !(r.agent = x->attach(r.loop, x, err)))
		goto out;
	if (open_terminal(&r, *report_fd >= 0, err) < 0 ||
	    (x->pid_file && write_pid_file(x->pid_file, getpid(), err) < 0) ||
	    start_process(&r, err) < 0)
		goto out;
	detach_report(*report_fd, NULL);
	*report_fd = -1;
	if (watch(&r, sigfd, winchfd, err) == 0)
		status = proc_watch_status(r.watch);
out:
	proc_watch_free(r.watch);
	tty_front_free(r.tty);
	agent_client_free(r.agent);
	husk_loop_free(r.loop);
	return status;
}

/* The detached holder: errors after the report go to the log, as the sandbox owner's do. */
static int exec_holder(void *arg, int report_fd)
{
	const struct exec_cmd *x = arg;
	husk_err err = NULL;
	int status = exec_main(x, &report_fd, &err);
	if (err && report_fd >= 0)
		detach_report(report_fd, err);
	else if (err)
		log_error("exec %s: %s", x->id, husk_error_msg(err));
	husk_error_free(&err);
	return status;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: husk exec [--process FILE | ARGS...] [--detach] [--pid-file FILE] "
	           "[--console-socket SOCK] [--tty] [--env K=V]... [--cwd DIR] [--user UID[:GID]] "
	           "[--additional-gids GID]... [--no-new-privs] [--config FILE] ID [ARGS...]\n");
}

/* Collects a repeated flag's values (they point into argv). */
static int push(char ***list, size_t *n, char *value, const char *flag, husk_err *err)
{
	if (*n >= MAX_REPEATED)
		return husk_error_set(err, 0, "%s: more than %d given", flag, MAX_REPEATED);
	char **grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown)
		return husk_error_set(err, ENOMEM, "%s", flag);
	grown[(*n)++] = value;
	*list = grown;
	return 0;
}

void exec_make_id(char *buf, size_t size)
{
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)rand();
	snprintf(buf, size, "exec-%d-%08x", (int)getpid(), rnd);
}

/* The process JSON: --process FILE, or the bundle's process with the flags applied. */
static int load_process(struct exec_cmd *x, const char *process_file, struct exec_flags *f,
                        husk_err *err)
{
	struct oci_state st;
	if (ocistate_read(x->g->root, x->id, &st, err) < 0)
		return -1;
	int r = check_state(&st, err);
	if (r == 0)
		r = process_file
		        ? execproc_load(process_file, &x->process_json, &x->terminal, err)
		        : execproc_build(st.bundle, f, &x->process_json, &x->terminal, err);
	ocistate_free(&st);
	return r;
}

static int check_modes(const struct exec_cmd *x, bool detach, husk_err *err)
{
	if (x->terminal && detach && !x->console_socket)
		return husk_error_set(err, 0, "--detach with a terminal needs --console-socket");
	if (x->console_socket && !x->terminal)
		return husk_error_set(err, 0, "--console-socket needs a terminal (--tty)");
	return 0;
}

int cmd_exec(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {
	    {"process", required_argument, NULL, 'p'},
	    {"detach", no_argument, NULL, 'd'},
	    {"pid-file", required_argument, NULL, 'P'},
	    {"console-socket", required_argument, NULL, 's'},
	    {"tty", no_argument, NULL, 't'},
	    {"env", required_argument, NULL, 'e'},
	    {"cwd", required_argument, NULL, 'C'},
	    {"user", required_argument, NULL, 'u'},
	    {"additional-gids", required_argument, NULL, 'g'},
	    {"no-new-privs", no_argument, NULL, 'n'},
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct exec_cmd x = {.g = g, .attach = attach_container};
	struct exec_flags f = {0};
	const char *process_file = NULL, *config = NULL;
	bool detach = false;
	int c, status = EXEC_FAILED;

	while ((c = getopt_long(argc, argv, "+de:tu:g:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			process_file = optarg;
			break;
		case 'd':
			detach = true;
			break;
		case 'P':
			free(x.pid_file);
			if (path_from_cwd(optarg, &x.pid_file, err) < 0)
				goto out;
			break;
		case 's':
			free(x.console_socket);
			if (path_from_cwd(optarg, &x.console_socket, err) < 0)
				goto out;
			break;
		case 't':
			f.tty = true;
			break;
		case 'e':
			if (push(&f.env, &f.nenv, optarg, "--env", err) < 0)
				goto out;
			break;
		case 'C':
			f.cwd = optarg;
			break;
		case 'u':
			f.user = optarg;
			break;
		case 'g':
			if (push(&f.gids, &f.ngids, optarg, "--additional-gids", err) < 0)
				goto out;
			break;
		case 'n':
			f.no_new_privs = true;
			break;
		case 'c':
			config = optarg;
			break;
		default:
			status = verb_usage(c, usage);
			goto out;
		}
	}
	if (optind >= argc || (!process_file && optind == argc - 1)) {
		status = verb_usage('?', usage);
		goto out;
	}
	x.id = x.agent_id = argv[optind];
	f.args = argv + optind + 1;
	f.nargs = (size_t)(argc - optind - 1);
	exec_make_id(x.exec_id, sizeof(x.exec_id));
	if (container_id_check(x.id, err) < 0 || config_load(config, &x.cfg, err) < 0 ||
	    load_process(&x, process_file, &f, err) < 0 || check_modes(&x, detach, err) < 0)
		goto out;
	if (detach) {
		if (detach_spawn(exec_holder, &x, g->log_fd, err) == 0)
			status = 0;
		goto out;
	}
	int no_report = -1;
	status = exec_main(&x, &no_report, err);
out:
	if (*err && x.id)
		husk_error_prefix(err, "exec %s", x.id);
	else if (*err)
		husk_error_prefix(err, "exec");
	free(f.env);
	free(f.gids);
	free(x.process_json);
	free(x.pid_file);
	free(x.console_socket);
	config_free(&x.cfg);
	return status;
}
