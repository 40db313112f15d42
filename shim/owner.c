/*
 * The sandbox owner: the --pid-file process, forked by `husk create` (and
 * `husk run --detach`) or run in the foreground by `husk run`. It holds the
 * VM (shim/lib/sandbox.h), creates the container in the guest, reports
 * "created" to the waiting create command over a pipe, then serves the
 * control socket (start, kill). Once started it relays its stdio and signals
 * to the container (with process.terminal: through a tty front, shim/lib/tty.h:
 * the pty whose master went to the --console-socket, or the caller's own
 * terminal for a foreground run; SIGWINCH becomes ResizePty); when the
 * container exits it records "stopped", powers the VM off and returns the
 * container's status, as runc's init would. The state directory stays until
 * husk delete, except after a foreground run.
 *
 * The life of a container, in order: set_up (state dir, VM, prestart and
 * createRuntime hooks, container in the guest, control socket, pid file),
 * report_ready, start_container (on the control request, or at once for run;
 * poststart hooks), serve, finish_stopped, tear_down, finish_deleted
 * (poststop hooks when the container is gone: a foreground run, a failure).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "shim/lib/control.h"
#include "shim/lib/detach.h"
#include "shim/lib/dnsforward.h"
#include "shim/lib/hostcg.h"
#include "oci/hooks.h"
#include "husk.h"
#include "lib/log.h"
#include "shim/lib/ocistate.h"
#include "shim/lib/procwatch.h"
#include "shim/lib/relay.h"
#include "shim/lib/sandbox.h"
#include "shim/lib/sbmetrics.h"
#include "shim/lib/statedir.h"
#include "shim/lib/tty.h"

#define MAX_CONNS 4

static const char *const kept_files[] = {OCISTATE_FILE, OCISTATE_LOCK, OCISTATE_CONFIG,
                                         HOSTCG_RECORD, NULL};

struct conn {
	int fd;
	size_t len;
	char buf[CONTROL_MAX_LINE];
};

struct owner {
	const struct owner_args *args;
	struct husk_loop *loop;
	struct sandbox *sb;
	struct oci_state st;
	struct proc_watch *watch; /* the started container's process */
	struct tty_front *tty;    /* process.terminal */
	struct dns_forward *dns;  /* Docker's DNS at 127.0.0.11 for the guest */
	struct sbmetrics *metrics;
	/* the host cgroup: args->cg, whose strings args owns, with what the owner made */
	struct hostcg cg;
	bool kept; /* the state outlives the owner: husk delete removes the cgroup */
	int listen_fd, ready_fd;
	struct conn conns[MAX_CONNS];
	struct conn *pending; /* a complete request, served from the main loop */
	bool env_created;     /* its VM booted: poststop runs when the container goes */
	bool done;
	int exit_status; /* also the status of a failed owner: 1, or 128 + an aborting signal */
};

static void finish(struct owner *o, int status)
{
	o->exit_status = status;
	o->done = true;
}

static bool process_exited(const struct owner *o)
{
	return o->watch && proc_watch_exited(o->watch);
}

static int on_signal(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct owner *o = data;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		int sig = (int)si.ssi_signo;
		if (o->st.status == OCI_RUNNING && !process_exited(o)) {
			sandbox_signal(o->sb, o->st.id, "", sig);
		} else if (o->st.status == OCI_CREATED) {
			finish(o, 128 + sig);
		} else if (o->st.status == OCI_CREATING) {
			o->exit_status = 128 + sig;
			return husk_error_set(err, EINTR,
			                      "interrupted by SIG%s before the container started",
			                      sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
		}
	}
	return 0;
}

/*
 * Runs the spec's hooks of kind with the state on their stdin: as it is now, but created for
 * prestart and createRuntime, which runtime.md puts after step 2 (the environment, here the VM,
 * exists), while `husk state` says creating until create returns (runc passes creating).
 */
static int run_hooks(struct owner *o, enum hook_kind kind, husk_err *err)
{
	if (!o->args->hooks.n[kind])
		return 0;
	bool early = kind == HOOK_PRESTART || kind == HOOK_CREATE_RUNTIME;
	cleanup_free char *state = ocistate_json(&o->st, early ? OCI_CREATED : o->st.status);
	if (!state)
		return husk_error_set(err, ENOMEM, "%s hooks", hook_kind_name(kind));
	return hooks_run(&o->args->hooks, kind, state, err);
}

static void run_warning_hooks(struct owner *o, enum hook_kind kind)
{
	cleanup_error husk_err err = NULL;
	if (run_hooks(o, kind, &err) < 0)
		log_warn("%s", husk_error_msg(err));
}

static int on_winch(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct owner *o = data;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si))
		;
	if (o->tty && !process_exited(o))
		tty_front_resize(o->tty, sandbox_agent(o->sb), o->st.id, "");
	return 0;
}

static int start_container(struct owner *o, husk_err *err)
{
	uint32_t pid;
	if (o->st.status != OCI_CREATED)
		return husk_error_set(err, 0, "container %s is %s, not created", o->st.id,
		                      oci_status_name(o->st.status));
	if (sandbox_start_container(o->sb, o->st.id, &pid, err) < 0)
		return -1;
	o->st.status = OCI_RUNNING;
	sbmetrics_set_state(o->metrics, "running");
	if (ocistate_write(sandbox_dir(o->sb), &o->st, err) < 0)
		return -1;
	/* a terminal's output is all on stdout */
	int in = STDIN_FILENO, out = STDOUT_FILENO, errfd = o->tty ? -1 : STDERR_FILENO;
	if (o->tty && o->args->console_socket)
		in = out = tty_front_fd(o->tty);
	o->watch =
	    proc_watch_start(o->loop, sandbox_agent(o->sb), o->st.id, "", in, out, errfd, err);
	if (!o->watch)
		return -1;
	run_warning_hooks(o, HOOK_POSTSTART);
	return 0;
}

static int kill_container(struct owner *o, int sig, husk_err *err)
{
	if (sig < 0 || sig >= NSIG)
		return husk_error_set(err, EINVAL, "invalid signal %d", sig);
	if (process_exited(o) || o->done)
		return husk_error_set(err, 0, "container not running");
	if (o->st.status == OCI_CREATED) {
		if (sig)
			finish(o, 128 + sig);
		return 0;
	}
	sandbox_signal(o->sb, o->st.id, "", sig);
	return 0;
}

static void conn_close(struct owner *o, struct conn *c)
{
	husk_loop_del(o->loop, c->fd);
	close_fd(&c->fd);
	if (o->pending == c)
		o->pending = NULL;
}

/* Serves the pending request; a failing start is fatal for the sandbox. */
static int serve_pending(struct owner *o, husk_err *fatal)
{
	struct conn *c = o->pending;
	struct control_request req;
	cleanup_error husk_err error = NULL;
	char reply[CONTROL_MAX_LINE + 64];
	int ret = 0;

	if (control_parse(c->buf, c->len, &req, &error) == 0) {
		if (!strcmp(req.op, "start")) {
			ret = start_container(o, &error);
			if (ret < 0)
				husk_error_set(fatal, 0, "start: %s", husk_error_msg(error));
		} else if (!strcmp(req.op, "kill")) {
			kill_container(o, req.signal, &error);
		} else {
			husk_error_set(&error, EINVAL, "unknown request %s", req.op);
		}
	}
	size_t n = control_reply(error, reply, sizeof(reply));
	/* a short reply into a fresh socket's buffer: a stalled client cannot block us */
	if (send(c->fd, reply, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_warn("control reply: %s", strerror(errno));
	conn_close(o, c);
	return ret;
}

static int on_conn(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct owner *o = data;
	struct conn *c = NULL;
	for (size_t i = 0; i < MAX_CONNS; i++)
		if (o->conns[i].fd == fd)
			c = &o->conns[i];
	if (!c || o->pending)
		return 0;
	ssize_t n = recv(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_close(o, c);
		return 0;
	}
	char *nl = memchr(c->buf + c->len, '\n', (size_t)n);
	c->len += (size_t)n;
	if (nl) {
		c->len = (size_t)(nl - c->buf);
		o->pending = c;
	} else if (c->len == sizeof(c->buf) - 1) {
		conn_close(o, c);
	}
	return 0;
}

static int on_accept(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct owner *o = data;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return 0;
	for (size_t i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &o->conns[i];
		if (c->fd >= 0)
			continue;
		c->fd = cfd;
		c->len = 0;
		if (husk_loop_add(loop, cfd, EPOLLIN, on_conn, o, err) < 0) {
			c->fd = -1;
			close(cfd);
			return -1;
		}
		return 0;
	}
	close(cfd); /* busy: the client sees the connection closed */
	return 0;
}

/*
 * An agent call failing is usually the echo of a helper dying: give the
 * helper's pidfd a moment to report, and prefer its message.
 */
static int explain_failure(struct owner *o, husk_err failure, husk_err *err)
{
	for (int i = 0; i < 4; i++)
		if (husk_loop_run_once(o->loop, 100, err) < 0) {
			husk_error_free(&failure);
			return -1;
		}
	*err = failure;
	return -1;
}

/* Until the container is over: exited and its output drained, or ended before start. */
static int serve(struct owner *o, husk_err *err)
{
	husk_err failure = NULL;
	while (!o->done) {
		if (husk_loop_run_once(o->loop, -1, err) < 0)
			return -1;
		if (o->pending && serve_pending(o, err) < 0)
			return -1;
		int r = o->watch ? proc_watch_check(o->watch, &failure) : 0;
		if (r < 0)
			return explain_failure(o, failure, err);
		if (r == 1)
			finish(o, proc_watch_status(o->watch));
	}
	return 0;
}

/* husk delete runs the poststop hooks of the config the container was created with. */
static int save_config(struct owner *o, husk_err *err)
{
	char path[PATH_MAX];
	const struct bundle *spec = &o->args->spec;
	if (!o->args->hooks.n[HOOK_POSTSTOP])
		return 0;
	snprintf(path, sizeof(path), "%s/%s", sandbox_dir(o->sb), OCISTATE_CONFIG);
	cleanup_close int fd =
	    open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, spec->json, spec->json_len) != (ssize_t)spec->json_len)
		return husk_error_set(err, errno, "%s", path);
	return 0;
}

/* After the guest made the process's pty; its size follows the front's from now on. */
static int open_terminal(struct owner *o, husk_err *err)
{
	const char *console = o->args->console_socket;
	o->tty = console ? tty_front_console(console, err) : tty_front_own(tty_own_fd(), err);
	if (!o->tty || (console && tty_release_stdio(err) < 0))
		return -1;
	tty_front_resize(o->tty, sandbox_agent(o->sb), o->args->id, "");
	return 0;
}

/*
 * A spec's network namespace without a path is the owner's own, made as the
 * owner starts, as runc makes one for its init: state.pid's is what hooks see.
 */
static int enter_own_netns(const struct owner_args *a, husk_err *err)
{
	if (a->spec.net_path)
		return 0;
	if (unshare(CLONE_NEWNET) < 0)
		return husk_error_set(err, errno, "a network namespace of its own");
	return 0;
}

/* The namespace's interfaces with an address become the VM's NICs (none: loopback only). */
static int attach_network(struct owner *o, husk_err *err)
{
	char own[sizeof("/proc//ns/net") + 3 * sizeof(pid_t)];
	const char *path = o->args->spec.net_path;
	if (!path) {
		snprintf(own, sizeof(own), "/proc/%d/ns/net", (int)getpid());
		path = own;
	}
	return sandbox_attach_network(o->sb, path, err);
}

/* The host path bound at /etc/resolv.conf, or NULL. */
static const char *resolv_conf(const struct bundle *b)
{
	for (size_t i = 0; i < b->nbinds; i++)
		if (!strcmp(b->binds[i].destination, "/etc/resolv.conf"))
			return b->binds[i].source;
	return NULL;
}

/*
 * A loopback nameserver (Docker's 127.0.0.11) listens in the owner's own network namespace,
 * out of the guest's reach: the guest's queries to it are relayed. With a namespace path the
 * owner is in the caller's namespace, whose loopback is not the container's: nothing is.
 */
static int forward_dns(struct owner *o, husk_err *err)
{
	const struct owner_args *a = o->args;
	const char *conf = resolv_conf(&a->spec);
	struct in_addr server;
	if (a->spec.net_path || !conf || !dns_forward_nameserver(conf, &server))
		return 0;
	o->dns = dns_forward_start(o->loop, sandbox_agent(o->sb), server,
	                           (int)a->cfg.timeouts.agent_call_ms, err);
	return o->dns ? 0 : -1;
}

static int set_up(struct owner *o, husk_err *err)
{
	const struct owner_args *a = o->args;
	char sock[STATEDIR_SOCK_PATH_MAX];
	o->sb = sandbox_create(o->loop, a->root, a->id, &a->cfg, err);
	if (o->sb)
		sandbox_set_guest_log(o->sb, a->guest_log);
	if (!o->sb || !(o->metrics = sbmetrics_serve(o->loop, o->sb, "cli", NULL, NULL, err)))
		return -1;
	if (ocistate_init(&o->st, a->id, a->bundle, a->rootfs, a->spec.annotations, err) < 0 ||
	    ocistate_write(sandbox_dir(o->sb), &o->st, err) < 0 || save_config(o, err) < 0 ||
	    sandbox_add_rootfs(o->sb, a->id, a->rootfs, a->spec.root_readonly, err) < 0 ||
	    sandbox_add_mounts(o->sb, a->id, &a->spec, err) < 0 ||
	    sandbox_set_size(o->sb, &a->spec, err) < 0 ||
	    sandbox_set_debug_console(o->sb, &a->spec, err) < 0 ||
	    /* before any helper starts: they inherit it */
	    hostcg_enter(&o->cg, &a->cg_limits, err) < 0 ||
	    hostcg_record(&o->cg, sandbox_dir_fd(o->sb), err) < 0)
		return -1;
	/*
	 * The runtime environment exists: the state, and the network namespace the
	 * hooks may configure (Docker's libnetwork-setkey does, through state.pid's).
	 * The VM boots after them with what they put there; the container's root
	 * switch happens in CreateContainer, which also runs its createContainer hooks.
	 */
	o->env_created = true;
	if (run_hooks(o, HOOK_PRESTART, err) < 0 || run_hooks(o, HOOK_CREATE_RUNTIME, err) < 0 ||
	    attach_network(o, err) < 0 || sandbox_boot(o->sb, err) < 0 ||
	    sandbox_create_container(o->sb, a->id, &a->spec, true, err) < 0 ||
	    hostcg_restore_cpu_quota(&o->cg, &a->cg_limits, err) < 0 || forward_dns(o, err) < 0 ||
	    (a->spec.terminal && open_terminal(o, err) < 0))
		return -1;
	if (statedir_sock_path(sandbox_dir_fd(o->sb), OCISTATE_CONTROL, sock, err) < 0)
		return -1;
	o->listen_fd = unix_listen(sock, 8, SOCK_NONBLOCK, err);
	if (o->listen_fd < 0 ||
	    husk_loop_add(o->loop, o->listen_fd, EPOLLIN, on_accept, o, err) < 0)
		return -1;
	o->st.status = OCI_CREATED;
	if (ocistate_write(sandbox_dir(o->sb), &o->st, err) < 0)
		return -1;
	return a->pid_file ? write_pid_file(a->pid_file, getpid(), err) : 0;
}

/* "ok", or the error line, to the waiting create command. */
static void report_ready(struct owner *o, husk_err error)
{
	detach_report(o->ready_fd, error);
	o->ready_fd = -1;
}

/* Records "stopped"; the state outlives the VM unless a foreground run ends. */
static void finish_stopped(struct owner *o, int status)
{
	cleanup_error husk_err err = NULL;
	o->st.status = OCI_STOPPED;
	o->st.exit_status = status;
	if (ocistate_write(sandbox_dir(o->sb), &o->st, &err) < 0)
		log_error("%s", husk_error_msg(err));
	if (!o->args->foreground || o->args->keep) {
		sandbox_keep_files(o->sb, kept_files);
		o->kept = true;
	}
}

static void tear_down(struct owner *o)
{
	for (size_t i = 0; i < MAX_CONNS; i++)
		if (o->conns[i].fd >= 0)
			conn_close(o, &o->conns[i]);
	if (o->listen_fd >= 0) {
		husk_loop_del(o->loop, o->listen_fd);
		close(o->listen_fd);
	}
	proc_watch_free(o->watch);
	tty_front_free(o->tty);
	dns_forward_free(o->dns);
	sbmetrics_free(o->metrics);
	sandbox_destroy(o->sb);
	/* the helpers are reaped: the cgroup goes with the state, else with husk delete */
	if (!o->kept)
		hostcg_leave(&o->cg);
	husk_loop_free(o->loop);
}

/* After tear_down: a container that no longer exists anywhere gets its poststop hooks. */
static void finish_deleted(struct owner *o, bool deleted)
{
	if (deleted && o->env_created) {
		o->st.status = OCI_STOPPED;
		run_warning_hooks(o, HOOK_POSTSTOP);
	}
	ocistate_free(&o->st);
}

int owner_run(const struct owner_args *a, int ready_fd, husk_err *err)
{
	struct owner o = {
	    .args = a, .cg = a->cg, .listen_fd = -1, .ready_fd = ready_fd, .exit_status = 1};

	for (size_t i = 0; i < MAX_CONNS; i++)
		o.conns[i].fd = -1;
	signal(SIGPIPE, SIG_IGN);
	cleanup_close int sigfd = relay_signals_fd(err);
	cleanup_close int winchfd = sigfd < 0 ? -1 : tty_winch_fd(err);
	if (winchfd < 0 || !(o.loop = husk_loop_new(err)) ||
	    husk_loop_add(o.loop, sigfd, EPOLLIN, on_signal, &o, err) < 0 ||
	    husk_loop_add(o.loop, winchfd, EPOLLIN, on_winch, &o, err) < 0 ||
	    enter_own_netns(a, err) < 0 || set_up(&o, err) < 0 ||
	    (a->start && start_container(&o, err) < 0)) {
		report_ready(&o, *err);
		if (ready_fd >= 0)
			husk_error_free(err); /* reported: create prints it */
		tear_down(&o);
		finish_deleted(&o, true);
		return o.exit_status;
	}
	report_ready(&o, NULL);
	int status = serve(&o, err) == 0 ? o.exit_status : 1;
	/* Teardown is not interruptible: the signals stay blocked and are dropped. */
	husk_loop_del(o.loop, sigfd);
	husk_loop_del(o.loop, winchfd);
	finish_stopped(&o, status);
	tear_down(&o);
	finish_deleted(&o, a->foreground && !a->keep);
	return status;
}
