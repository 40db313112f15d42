#include "procwatch.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "relay.h"

struct proc_watch {
	struct husk_loop *loop;
	struct agent_client *agent;
	const char *container_id, *exec_id;
	struct stdio_relay *relay;
	int drain_timer;
	bool exited, drained;
	int status;
	husk_err failure;
};

static void record_failure(struct proc_watch *w, husk_err error, const char *what)
{
	if (!w->failure)
		husk_error_set(&w->failure, error ? error->code : 0, "%s%s%s", what,
		               what[0] ? ": " : "", husk_error_msg(error));
}

static void on_relay_event(struct stdio_relay *relay, void *data)
{
	struct proc_watch *w = data;
	if (stdio_relay_error(relay))
		record_failure(w, stdio_relay_error(relay), "");
	else
		w->drained = true;
}

static int on_drain_timeout(struct husk_loop *loop, int fd, uint32_t events, void *data,
                            husk_err *err)
{
	struct proc_watch *w = data;
	log_warn("%s%s%s exited but its output did not end within %d ms; dropping the rest",
	         w->container_id, w->exec_id[0] ? " exec " : "", w->exec_id, PROC_WATCH_DRAIN_MS);
	w->drained = true;
	husk_loop_del(loop, fd);
	return 0;
}

static void arm_drain_timer(struct proc_watch *w)
{
	struct itimerspec its = {.it_value = {PROC_WATCH_DRAIN_MS / 1000, 0}};
	husk_err error = NULL;
	w->drain_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (w->drain_timer < 0 || timerfd_settime(w->drain_timer, 0, &its, NULL) < 0 ||
	    husk_loop_add(w->loop, w->drain_timer, EPOLLIN, on_drain_timeout, w, &error) < 0) {
		if (!error)
			husk_error_set(&error, errno, "timerfd");
		record_failure(w, error, "drain timer");
		husk_error_free(&error);
	}
}

static void on_wait(ProtobufCMessage *msg, husk_err error, void *data)
{
	struct proc_watch *w = data;
	Husk__Agent__V1__WaitProcessResponse *resp = (void *)msg;
	if (!resp) {
		record_failure(w, error, "");
		return;
	}
	if (resp->exit_status < 0 || resp->exit_status > 255) {
		husk_err bad = NULL;
		husk_error_set(&bad, EPROTO, "agent reported exit status %d", resp->exit_status);
		record_failure(w, bad, "WaitProcess");
		husk_error_free(&bad);
		return;
	}
	w->exited = true;
	w->status = resp->exit_status;
	log_debug("%s%s%s exited with status %d", w->container_id, w->exec_id[0] ? " exec " : "",
	          w->exec_id, w->status);
	if (!w->drained)
		arm_drain_timer(w);
}

struct proc_watch *proc_watch_start(struct husk_loop *loop, struct agent_client *a,
                                    const char *container_id, const char *exec_id, int in_fd,
                                    int out_fd, int err_fd, husk_err *err)
{
	Husk__Agent__V1__ProcessRequest req = HUSK__AGENT__V1__PROCESS_REQUEST__INIT;
	struct proc_watch *w = calloc(1, sizeof(*w));
	if (!w) {
		husk_error_set(err, ENOMEM, "process watch");
		return NULL;
	}
	*w = (struct proc_watch){.loop = loop,
	                         .agent = a,
	                         .container_id = container_id,
	                         .exec_id = exec_id,
	                         .drain_timer = -1};
	req.container_id = (char *)container_id;
	req.exec_id = (char *)exec_id;
	w->relay = stdio_relay_new(loop, a, container_id, exec_id, in_fd, out_fd, err_fd,
	                           on_relay_event, w, err);
	if (!w->relay || stdio_relay_start(w->relay, err) < 0 ||
	    agent_client_call(a, "WaitProcess", &req.base,
	                      &husk__agent__v1__wait_process_response__descriptor,
	                      AGENT_CALL_LONG_POLL, on_wait, w, err) < 0) {
		proc_watch_free(w);
		return NULL;
	}
	return w;
}

int proc_watch_check(struct proc_watch *w, husk_err *err)
{
	if (w->failure) {
		*err = w->failure;
		w->failure = NULL;
		return -1;
	}
	return w->exited && w->drained;
}

bool proc_watch_exited(const struct proc_watch *w)
{
	return w->exited;
}

int proc_watch_status(const struct proc_watch *w)
{
	return w->status;
}

void proc_watch_free(struct proc_watch *w)
{
	if (!w)
		return;
	agent_client_forget(w->agent, w);
	if (w->drain_timer >= 0) {
		husk_loop_del(w->loop, w->drain_timer);
		close(w->drain_timer);
	}
	stdio_relay_free(w->relay);
	husk_error_free(&w->failure);
	free(w);
}
