#include "events.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cgroup.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "process.h"

static void reply_oom(struct ttrpc_call *call, const char *id)
{
	Husk__Agent__V1__OOMEvent ev = HUSK__AGENT__V1__OOMEVENT__INIT;
	ev.container_id = (char *)id;
	ttrpc_reply_pb(call, &ev.base);
}

/* To the first waiting GetOOMEvent, else into the queue (the oldest is dropped when full). */
static void oom_publish(struct agent *ag, const char *id)
{
	log_info("container %s: OOM kill", id);
	for (size_t i = 0; i < AGENT_OOM_WAITERS; i++) {
		struct ttrpc_call *call = call_take(&ag->oom_waiters[i]);
		if (call) {
			reply_oom(call, id);
			return;
		}
	}
	if (ag->oom_count == AGENT_OOM_QUEUE) {
		ag->oom_first = (ag->oom_first + 1) % AGENT_OOM_QUEUE;
		ag->oom_count--;
	}
	size_t slot = (ag->oom_first + ag->oom_count++) % AGENT_OOM_QUEUE;
	snprintf(ag->oom_queue[slot], sizeof(ag->oom_queue[slot]), "%s", id);
}

void events_oom_wait(struct agent *ag, struct ttrpc_call *call)
{
	if (ag->oom_count) {
		reply_oom(call, ag->oom_queue[ag->oom_first]);
		ag->oom_first = (ag->oom_first + 1) % AGENT_OOM_QUEUE;
		ag->oom_count--;
		return;
	}
	for (size_t i = 0; i < AGENT_OOM_WAITERS; i++)
		if (!ag->oom_waiters[i]) {
			call_hold(&ag->oom_waiters[i], call);
			return;
		}
	ttrpc_reply(call, TTRPC_RESOURCE_EXHAUSTED, "GetOOMEvent: too many waiting calls", NULL, 0);
}

static void oom_check(struct container *c)
{
	uint64_t kills = cgroup_oom_kills(c->cgroup);
	if (kills > c->oom_kills) {
		oom_publish(c->ag, c->id);
		c->oom_kills = kills;
	}
}

/* Drops the deadline and hands back the waiting call (NULL if the host hung up). */
static struct ttrpc_call *freeze_finish(struct container *c)
{
	if (c->freeze_timer >= 0) {
		husk_loop_del(c->ag->loop, c->freeze_timer);
		close_fd(&c->freeze_timer);
	}
	return call_take(&c->freezing);
}

static void freeze_check(struct container *c)
{
	struct ttrpc_call *call;
	if (c->freeze_timer >= 0 && cgroup_frozen(c->cgroup) == c->freeze_want &&
	    (call = freeze_finish(c)))
		ttrpc_reply_pb(call, NULL);
}

static int on_freeze_timeout(struct husk_loop *loop, int fd, uint32_t events, void *data,
                             husk_err *err)
{
	struct container *c = data;
	char msg[SPEC_MAX_ID + 128];
	snprintf(msg, sizeof(msg), "%s %s: cgroup.events did not report frozen %d within %d ms",
	         c->freeze_want ? "pause" : "resume", c->id, c->freeze_want,
	         c->ag->freeze_timeout_ms);
	log_warn("%s", msg);
	if (c->freeze_want && cgroup_set_freeze(c->cgroup, 0) < 0)
		log_warn("container %s: thaw: %s", c->id, strerror(errno));
	struct ttrpc_call *call = freeze_finish(c);
	if (call)
		ttrpc_reply_error(call, TTRPC_DEADLINE_EXCEEDED, "%s", msg);
	return 0;
}

static int arm_freeze_timer(struct container *c)
{
	int ms = c->ag->freeze_timeout_ms;
	struct itimerspec its = {.it_value = {ms / 1000, (ms % 1000) * 1000000L}};
	cleanup_error husk_err err = NULL;
	c->freeze_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (c->freeze_timer < 0)
		return -1;
	if (timerfd_settime(c->freeze_timer, 0, &its, NULL) < 0 ||
	    husk_loop_add(c->ag->loop, c->freeze_timer, EPOLLIN, on_freeze_timeout, c, &err) < 0) {
		close_fd(&c->freeze_timer);
		return -1;
	}
	return 0;
}

void events_freeze(struct container *c, int want, struct ttrpc_call *call)
{
	const char *what = want ? "pause" : "resume";
	if (!c->cgroup[0] || c->events_wd < 0) {
		ttrpc_reply_error(call, TTRPC_FAILED_PRECONDITION,
		                  "%s %s: the container has no cgroup", what, c->id);
		return;
	}
	if (c->freeze_timer >= 0) {
		ttrpc_reply_error(call, TTRPC_FAILED_PRECONDITION,
		                  "%s %s: a pause or resume is under way", what, c->id);
		return;
	}
	if (cgroup_set_freeze(c->cgroup, want) < 0) {
		ttrpc_reply_error(call, TTRPC_UNKNOWN, "%s %s: cgroup.freeze: %s", what, c->id,
		                  strerror(errno));
		return;
	}
	c->freeze_want = want;
	if (cgroup_frozen(c->cgroup) == want) {
		ttrpc_reply_pb(call, NULL);
		return;
	}
	if (arm_freeze_timer(c) < 0) {
		ttrpc_reply_error(call, TTRPC_UNKNOWN, "%s %s: timer: %s", what, c->id,
		                  strerror(errno));
		return;
	}
	call_hold(&c->freezing, call);
	/* the state may have changed between the first check and the watch being armed */
	freeze_check(c);
}

static int on_inotify(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct agent *ag = data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(fd, buf, sizeof(buf));
	for (ssize_t off = 0; n > 0 && off + (ssize_t)sizeof(struct inotify_event) <= n;) {
		const struct inotify_event *ev = (const void *)(buf + off);
		for (struct container *c = ag->containers; c; c = c->next)
			if (c->oom_wd == ev->wd)
				oom_check(c);
			else if (c->events_wd == ev->wd)
				freeze_check(c);
		off += (ssize_t)sizeof(*ev) + ev->len;
	}
	return 0;
}

int events_init(struct agent *ag, husk_err *err)
{
	ag->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ag->inotify_fd < 0)
		return husk_error_set(err, errno, "inotify");
	return husk_loop_add(ag->loop, ag->inotify_fd, EPOLLIN, on_inotify, ag, err);
}

void events_close(struct agent *ag)
{
	close_fd(&ag->inotify_fd);
}

static int watch_file(struct container *c, const char *file, const char *lost)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", c->cgroup, file);
	int wd = inotify_add_watch(c->ag->inotify_fd, path, IN_MODIFY);
	if (wd < 0)
		log_warn("container %s: no %s: %s: %s", c->id, lost, path, strerror(errno));
	return wd;
}

void events_watch(struct container *c)
{
	c->oom_wd = watch_file(c, "memory.events", "OOM events");
	c->events_wd = watch_file(c, "cgroup.events", "pause");
}

void events_unwatch(struct container *c)
{
	struct ttrpc_call *call = freeze_finish(c);
	if (call)
		ttrpc_reply(call, TTRPC_NOT_FOUND, "container removed", NULL, 0);
	if (c->oom_wd >= 0)
		inotify_rm_watch(c->ag->inotify_fd, c->oom_wd);
	if (c->events_wd >= 0)
		inotify_rm_watch(c->ag->inotify_fd, c->events_wd);
	c->oom_wd = c->events_wd = -1;
}
