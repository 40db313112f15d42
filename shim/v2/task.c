/*
 * Tasks (containers) and their processes (init and execs) in the shim's one
 * sandbox. A process runs with a stdio relay and a pending WaitProcess; it
 * has exited once WaitProcess has answered and its output has been relayed
 * (or DRAIN_MS passed). Only then TaskExit goes out and Waits are answered,
 * so containerd sees every byte before the exit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/clock.h"
#include "proto/containerd/events.pb-c.h"
#include "proto/containerd/task.pb-c.h"
#include "lib/log.h"
#include "shim.h"

#define VM_GONE_STATUS 255

uint32_t shim_task_pid(struct shim *s)
{
	return s->sb ? (uint32_t)sandbox_vmm_pid(s->sb) : 0;
}

struct task *task_find(struct shim *s, const char *id)
{
	for (struct task *t = s->tasks; t; t = t->next)
		if (!strcmp(t->id, id))
			return t;
	return NULL;
}

struct task_proc *task_proc_find(struct shim *s, const char *id, const char *exec_id)
{
	struct task *t = task_find(s, id);
	if (!t)
		return NULL;
	if (!exec_id[0])
		return &t->init;
	for (struct task_proc *p = t->execs; p; p = p->next)
		if (!strcmp(p->exec_id, exec_id))
			return p;
	return NULL;
}

/* --- exit ------------------------------------------------------------------------------- */

static void publish_exit(struct task_proc *p)
{
	Containerd__Types__Timestamp ts = CONTAINERD__TYPES__TIMESTAMP__INIT;
	Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	ts.seconds = p->exited_at.tv_sec;
	ts.nanos = (int32_t)p->exited_at.tv_nsec;
	ev.container_id = p->task->id;
	ev.id = p->exec_id[0] ? p->exec_id : p->task->id;
	ev.pid = p->pid;
	ev.exit_status = p->exit_status;
	ev.exited_at = &ts;
	publish(p->task->shim->pub, "/tasks/exit", &ev.base);
}

void task_proc_reply_wait(struct task_proc *p, struct ttrpc_call *call)
{
	Containerd__Types__Timestamp ts = CONTAINERD__TYPES__TIMESTAMP__INIT;
	Containerd__Task__V2__WaitResponse resp = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
	ts.seconds = p->exited_at.tv_sec;
	ts.nanos = (int32_t)p->exited_at.tv_nsec;
	resp.exit_status = p->exit_status;
	resp.exited_at = &ts;
	ttrpc_reply_pb(call, &resp.base);
}

static void task_proc_finish(struct task_proc *p)
{
	clock_gettime(CLOCK_REALTIME, &p->exited_at);
	p->state = PROC_STOPPED;
	stdio_relay_free(p->relay);
	p->relay = NULL;
	task_io_free(p->io);
	p->io = NULL;
	log_debug("process %s/%s exited with status %u", p->task->id, p->exec_id, p->exit_status);
	publish_exit(p);
	for (size_t i = 0; i < p->nwaiters; i++)
		task_proc_reply_wait(p, p->waiters[i]);
	free(p->waiters);
	p->waiters = NULL;
	p->nwaiters = 0;
}

/* Records an exit; task_proc_progress finishes it at the top of the loop. */
void task_proc_exited(struct task_proc *p, uint32_t status)
{
	if (p->waited || p->state == PROC_STOPPED)
		return;
	p->waited = true;
	p->exit_status = status;
	p->drain_deadline_ms = monotonic_ms() + DRAIN_MS;
	if (!p->relay)
		p->drained = true;
}

/* -1: nothing to wait for; else ms until this process's drain deadline. */
static int task_proc_progress(struct task_proc *p)
{
	if (p->state == PROC_STOPPED || !p->waited)
		return -1;
	int64_t left = p->drain_deadline_ms - monotonic_ms();
	if (!p->drained && left > 0)
		return (int)left;
	if (!p->drained)
		log_warn("process %s/%s exited but its output did not end within %d ms",
		         p->task->id, p->exec_id, DRAIN_MS);
	task_proc_finish(p);
	return -1;
}

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

int shim_progress(struct shim *s)
{
	int timeout = -1;
	for (struct task *t = s->tasks; t; t = t->next) {
		timeout = min_timeout(timeout, task_proc_progress(&t->init));
		for (struct task_proc *p = t->execs; p; p = p->next)
			timeout = min_timeout(timeout, task_proc_progress(p));
	}
	return timeout;
}

void shim_vm_died(struct shim *s, husk_err cause)
{
	if (!s->vm_dead)
		log_error("the VM is gone: %s", husk_error_msg(cause));
	s->vm_dead = true;
	for (struct task *t = s->tasks; t; t = t->next) {
		task_proc_exited(&t->init, VM_GONE_STATUS);
		for (struct task_proc *p = t->execs; p; p = p->next)
			task_proc_exited(p, VM_GONE_STATUS);
	}
}

/* --- running ---------------------------------------------------------------------------- */

static void on_relay_done(struct stdio_relay *r, void *data)
{
	struct task_proc *p = data;
	if (stdio_relay_error(r))
		log_warn("process %s/%s stdio: %s", p->task->id, p->exec_id,
		         husk_error_msg(stdio_relay_error(r)));
	p->drained = true;
}

static void on_wait(ProtobufCMessage *msg, husk_err error, void *data)
{
	struct task_proc *p = data;
	Husk__Agent__V1__WaitProcessResponse *resp = (void *)msg;
	struct shim *s = p->task->shim;
	if (!resp) {
		if (!agent_client_alive(sandbox_agent(s->sb)))
			shim_vm_died(s, error);
		else
			log_error("wait %s/%s: %s", p->task->id, p->exec_id, husk_error_msg(error));
		task_proc_exited(p, VM_GONE_STATUS);
		return;
	}
	task_proc_exited(p, resp->exit_status >= 0 && resp->exit_status <= 255
	                        ? (uint32_t)resp->exit_status
	                        : VM_GONE_STATUS);
}

/* The guest process exists: relay its stdio and wait for it. */
int task_proc_run(struct task_proc *p, husk_err *err)
{
	struct shim *s = p->task->shim;
	struct agent_client *agent = sandbox_agent(s->sb);
	Husk__Agent__V1__ProcessRequest req = HUSK__AGENT__V1__PROCESS_REQUEST__INIT;
	p->state = PROC_RUNNING;
	p->pid = shim_task_pid(s);
	p->relay = stdio_relay_new(s->loop, agent, p->task->id, p->exec_id, task_io_in(p->io),
	                           task_io_out(p->io), task_io_err(p->io), on_relay_done, p, err);
	if (!p->relay)
		return -1;
	task_io_drop_outputs(p->io);
	if (stdio_relay_start(p->relay, err) < 0)
		return -1;
	req.container_id = p->task->id;
	req.exec_id = p->exec_id;
	return agent_client_call(agent, "WaitProcess", &req.base,
	                         &husk__agent__v1__wait_process_response__descriptor,
	                         AGENT_CALL_LONG_POLL, on_wait, p, err);
}

/* --- lifetime --------------------------------------------------------------------------- */

int stdio_paths_set(struct stdio_paths *sp, const char *in, const char *out, const char *errp,
                    bool terminal)
{
	sp->in = strdup(in);
	sp->out = strdup(out);
	sp->err = strdup(errp);
	sp->terminal = terminal;
	return sp->in && sp->out && sp->err ? 0 : -1;
}

static void task_proc_clear(struct task_proc *p)
{
	struct agent_client *agent = p->task->shim->sb ? sandbox_agent(p->task->shim->sb) : NULL;
	if (agent)
		agent_client_forget(agent, p);
	stdio_relay_free(p->relay);
	task_io_free(p->io);
	for (size_t i = 0; i < p->nwaiters; i++)
		ttrpc_reply(p->waiters[i], TTRPC_NOT_FOUND, "process deleted", NULL, 0);
	free(p->waiters);
	free(p->exec_id);
	free(p->paths.in);
	free(p->paths.out);
	free(p->paths.err);
	free(p->spec);
}

void task_proc_free(struct task_proc *p)
{
	task_proc_clear(p);
	free(p);
}

void task_free(struct task *t)
{
	while (t->execs) {
		struct task_proc *p = t->execs;
		t->execs = p->next;
		task_proc_free(p);
	}
	task_proc_clear(&t->init);
	if (t->rootfs_mounted)
		rootfs_unmount(t->rootfs);
	free(t->id);
	free(t->bundle);
	free(t->rootfs);
	free(t);
}

/* Unlinks and frees t. */
void task_remove(struct shim *s, struct task *t)
{
	for (struct task **pp = &s->tasks; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	if (s->sb)
		sandbox_release_container(s->sb, t->id);
	task_free(t);
}

void tasks_free(struct shim *s)
{
	while (s->tasks)
		task_remove(s, s->tasks);
}

/* --- OOM events ------------------------------------------------------------------------- */

/*
 * The guest answers GetOOMEvent: a hostile one at once and forever. So per
 * container one TaskOOM per OOM_EVENT_MS goes out (more in that time are
 * coalesced into it: containerd learns that the container hit its limit, not
 * how often), at most OOM_POLLS_PER_SEC answers are taken per second (then the
 * next poll waits for the second to end), and the publisher holds at most a
 * few of the guest's events (publish_guest), never in a lifecycle event's place.
 */
#define OOM_EVENT_MS      1000
#define OOM_POLLS_PER_SEC 20

static int watch_oom_now(struct shim *s, husk_err *err);

static int on_oom_timer(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct shim *s = data;
	cleanup_error husk_err call_err = NULL;
	uint64_t ticks;
	if (read(fd, &ticks, sizeof(ticks)) < 0)
		return 0;
	if (!s->sb || s->vm_dead)
		return 0;
	if (shim_watch_oom(s, &call_err) < 0)
		log_warn("OOM events: %s", husk_error_msg(call_err));
	return 0;
}

/* Polls again now, or once this second's polls are used up, when it ends. */
int shim_watch_oom(struct shim *s, husk_err *err)
{
	int64_t now = monotonic_ms();
	if (!s->oom_polls.interval_ms)
		s->oom_polls = (struct rate_limit)RATE_LIMIT_INIT(1000, OOM_POLLS_PER_SEC);
	int wait = rate_limit_wait_ms(&s->oom_polls, now);
	if (!wait) {
		rate_limit_allow(&s->oom_polls, now);
		return watch_oom_now(s, err);
	}
	if (s->oom_timer < 0) {
		s->oom_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (s->oom_timer < 0)
			return husk_error_set(err, errno, "OOM poll timer");
		if (husk_loop_add(s->loop, s->oom_timer, EPOLLIN, on_oom_timer, s, err) < 0) {
			close(s->oom_timer);
			s->oom_timer = -1;
			return -1;
		}
	}
	struct itimerspec its = {.it_value = {wait / 1000, (wait % 1000) * 1000000L}};
	log_debug("OOM events: %d answers this second, next poll in %d ms", OOM_POLLS_PER_SEC,
	          wait);
	if (timerfd_settime(s->oom_timer, 0, &its, NULL) < 0)
		return husk_error_set(err, errno, "OOM poll timer");
	return 0;
}

static void on_oom(ProtobufCMessage *msg, husk_err error, void *data)
{
	struct shim *s = data;
	Husk__Agent__V1__OOMEvent *ev = (void *)msg;
	cleanup_error husk_err err = NULL;
	if (!ev) {
		log_debug("OOM events stop: %s", husk_error_msg(error));
		return;
	}
	/* the guest names the container: only one we know becomes an event */
	struct task *t = task_find(s, ev->container_id);
	if (t) {
		if (!t->oom_events.interval_ms)
			t->oom_events = (struct rate_limit)RATE_LIMIT_INIT(OOM_EVENT_MS, 1);
		uint64_t coalesced = t->oom_events.suppressed;
		if (rate_limit_allow(&t->oom_events, monotonic_ms())) {
			Containerd__Events__TaskOOM oom = CONTAINERD__EVENTS__TASK_OOM__INIT;
			oom.container_id = t->id;
			t->oom_events.suppressed = 0;
			if (coalesced)
				log_info(
				    "container %s: OOM kill (%llu more reported in the last %d ms)",
				    t->id, (unsigned long long)coalesced, OOM_EVENT_MS);
			else
				log_info("container %s: OOM kill", t->id);
			publish_guest(s->pub, "/tasks/oom", &oom.base);
		}
	}
	if (shim_watch_oom(s, &err) < 0)
		log_warn("OOM events: %s", husk_error_msg(err));
}

static int watch_oom_now(struct shim *s, husk_err *err)
{
	Husk__Agent__V1__Empty req = HUSK__AGENT__V1__EMPTY__INIT;
	return agent_client_call(sandbox_agent(s->sb), "GetOOMEvent", &req.base,
	                         &husk__agent__v1__oomevent__descriptor, AGENT_CALL_LONG_POLL,
	                         on_oom, s, err);
}
