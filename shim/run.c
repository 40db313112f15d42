/*
 * husk run: boot a VM for one container, relay its stdio and signals in the
 * foreground, exit with its status, and leave nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "husk.h"
#include "log.h"
#include "loop.h"
#include "relay.h"
#include "sandbox.h"
#include "spec.h"

/* How long stdout/stderr may keep flowing after the process exited. */
#define DRAIN_MS 5000

struct run {
	const char *id;
	struct husk_loop *loop;
	struct sandbox *sb;
	struct stdio_relay *relay;
	bool started;
	bool exited;
	bool drained;
	int exit_status;
	int signal_before_start;
	husk_err failure; /* from an asynchronous agent call */
};

static int on_signal(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct run *r = data;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		int sig = (int)si.ssi_signo;
		if (r->started && !r->exited) {
			sandbox_signal(r->sb, r->id, "", sig);
			continue;
		}
		if (!r->started) {
			r->signal_before_start = sig;
			return husk_error_set(err, EINTR,
			                      "interrupted by SIG%s before the container started",
			                      sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
		}
	}
	return 0;
}

static void record_failure(struct run *r, husk_err error, const char *what)
{
	if (r->failure)
		return;
	husk_error_set(&r->failure, 0, "%s%s%s", what, what[0] ? ": " : "", husk_error_msg(error));
}

static void on_relay_event(struct stdio_relay *relay, void *data)
{
	struct run *r = data;
	if (stdio_relay_error(relay))
		record_failure(r, stdio_relay_error(relay), "");
	else
		r->drained = true;
}

static void on_wait(ProtobufCMessage *msg, husk_err error, void *data)
{
	struct run *r = data;
	Husk__Agent__V1__WaitProcessResponse *resp = (void *)msg;
	if (!resp) {
		record_failure(r, error, "");
		return;
	}
	if (resp->exit_status < 0 || resp->exit_status > 255) {
		husk_err bad = NULL;
		husk_error_set(&bad, EPROTO, "agent reported exit status %d", resp->exit_status);
		record_failure(r, bad, "WaitProcess");
		husk_error_free(&bad);
		return;
	}
	r->exited = true;
	r->exit_status = resp->exit_status;
	log_debug("container %s exited with status %d", r->id, r->exit_status);
}

static int on_drain_timeout(struct husk_loop *loop, int fd, uint32_t events, void *data,
                            husk_err *err)
{
	struct run *r = data;
	log_warn("container %s exited but its output did not end within %d ms; dropping the rest",
	         r->id, DRAIN_MS);
	r->drained = true;
	husk_loop_del(loop, fd);
	return 0;
}

/*
 * An agent call failing is usually the echo of a helper dying: give the
 * helper's pidfd a moment to report, and prefer its message.
 */
static int explain_failure(struct run *r, husk_err *err)
{
	husk_err helper = NULL;
	for (int i = 0; i < 4; i++) {
		if (husk_loop_run_once(r->loop, 100, &helper) < 0) {
			*err = helper;
			return -1;
		}
	}
	*err = move_ptr(r->failure);
	return -1;
}

/* main() made sure fd 0 is open: a closed stdin reads as /dev/null (EOF at once). */
static int watch_process(struct run *r, husk_err *err)
{
	cleanup_close int drain_timer = -1;
	struct agent *agent = sandbox_agent(r->sb);
	Husk__Agent__V1__ProcessRequest req = HUSK__AGENT__V1__PROCESS_REQUEST__INIT;
	req.container_id = (char *)r->id;
	req.exec_id = "";

	r->relay = stdio_relay_new(r->loop, agent, r->id, "", STDIN_FILENO, STDOUT_FILENO,
	                           STDERR_FILENO, on_relay_event, r, err);
	if (!r->relay || stdio_relay_start(r->relay, err) < 0 ||
	    agent_call(agent, "WaitProcess", &req.base,
	               &husk__agent__v1__wait_process_response__descriptor, 0, on_wait, r, err) < 0)
		return -1;
	while (!(r->exited && r->drained)) {
		if (husk_loop_run_once(r->loop, -1, err) < 0)
			return -1;
		if (r->failure)
			return explain_failure(r, err);
		if (r->exited && !r->drained && drain_timer < 0) {
			struct itimerspec its = {.it_value = {DRAIN_MS / 1000, 0}};
			drain_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
			if (drain_timer < 0 || timerfd_settime(drain_timer, 0, &its, NULL) < 0 ||
			    husk_loop_add(r->loop, drain_timer, EPOLLIN, on_drain_timeout, r, err) <
			        0)
				return husk_error_set(err, errno, "drain timer");
		}
	}
	if (drain_timer >= 0)
		husk_loop_del(r->loop, drain_timer);
	return 0;
}

static int run_container(struct run *r, const struct husk_globals *g, const char *bundle,
                         const struct husk_config *cfg, husk_err *err)
{
	struct oci_spec spec = {0};
	cleanup_free char *rootfs = NULL;
	uint32_t pid;
	int ret = -1;

	if (spec_load(bundle, &spec, &rootfs, err) < 0)
		return -1;
	if (spec.terminal) {
		husk_error_set(
		    err, 0, "bundle %s: config.json: process.terminal: not supported yet", bundle);
		goto out;
	}
	r->sb = sandbox_create(r->loop, g->root, r->id, cfg, err);
	if (!r->sb || sandbox_add_rootfs(r->sb, r->id, rootfs, spec.root_readonly, err) < 0 ||
	    sandbox_boot(r->sb, err) < 0 ||
	    sandbox_create_container(r->sb, r->id, &spec, true, err) < 0 ||
	    sandbox_start_container(r->sb, r->id, &pid, err) < 0)
		goto out;
	r->started = true;
	ret = watch_process(r, err);
out:
	spec_free(&spec);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: husk run [--bundle DIR] [--config FILE] ID\n");
}

int cmd_run(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *bundle = ".", *config = NULL;
	struct husk_config cfg = {0};
	struct run r = {0};
	int c, status = 1;

	while ((c = getopt_long(argc, argv, "+b:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bundle = optarg;
			break;
		case 'c':
			config = optarg;
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
	r.id = argv[optind];
	if (container_id_check(r.id, err) < 0 || config_load(config, &cfg, err) < 0) {
		husk_error_prefix(err, "run %s", r.id);
		return 1;
	}

	signal(SIGPIPE, SIG_IGN);
	cleanup_close int sigfd = relay_signals_fd(err);
	if (sigfd < 0 || !(r.loop = husk_loop_new(err)) ||
	    husk_loop_add(r.loop, sigfd, EPOLLIN, on_signal, &r, err) < 0)
		goto out;
	if (run_container(&r, g, bundle, &cfg, err) == 0)
		status = r.exit_status;
	else if (r.signal_before_start)
		status = 128 + r.signal_before_start;
out:
	/* Teardown is not interruptible: the signals stay blocked and are dropped. */
	if (r.loop && sigfd >= 0)
		husk_loop_del(r.loop, sigfd);
	stdio_relay_free(r.relay);
	sandbox_destroy(r.sb);
	husk_error_free(&r.failure);
	husk_loop_free(r.loop);
	config_free(&cfg);
	if (*err)
		husk_error_prefix(err, "run %s", r.id);
	return status;
}
