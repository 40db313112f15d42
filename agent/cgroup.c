#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "proto/agent.pb-c.h"
#include "cgstat.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "process.h"
#include "rpc.h"
#include "ttrpc/ttrpc.h"

#define CGROUP_ROOT       "/sys/fs/cgroup"
#define FREEZE_TIMEOUT_MS 5000

static const char *const controllers[] = {"+cpu", "+cpuset", "+io", "+memory", "+pids", "+hugetlb"};

static int write_value(const char *path, const char *value)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t n = strlen(value);
	if (fd < 0)
		return -1;
	return write(fd, value, n) == (ssize_t)n ? 0 : -1;
}

static int write_freeze(struct container *c, int frozen)
{
	char path[192];
	snprintf(path, sizeof(path), "%s/cgroup.freeze", c->cgroup);
	return write_value(path, frozen ? "1" : "0");
}

/* Each controller alone: one the kernel lacks does not keep the others off. */
static void enable_controllers(const char *dir)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	for (size_t i = 0; i < ARRAY_SIZE(controllers); i++)
		if (write_value(path, controllers[i]) < 0)
			log_debug("cgroup %s: %s: %s", dir, controllers[i], strerror(errno));
}

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

void cgroup_oom_wait(struct agent *ag, struct ttrpc_call *call)
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

/* Reads at most size-1 bytes of dir/file as a string ("" when unreadable). */
static void read_cgfile(const char *dir, const char *file, char *buf, size_t size)
{
	char path[192];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
}

static void oom_check(struct container *c)
{
	char buf[512];
	read_cgfile(c->cgroup, "memory.events", buf, sizeof(buf));
	uint64_t kills = cgstat_keyed(buf, "oom_kill");
	if (kills > c->oom_kills)
		oom_publish(c->ag, c->id);
	c->oom_kills = kills > c->oom_kills ? kills : c->oom_kills;
}

static int frozen_now(struct container *c)
{
	char buf[256];
	read_cgfile(c->cgroup, "cgroup.events", buf, sizeof(buf));
	return cgstat_keyed(buf, "frozen") != 0;
}

/* Answers the waiting call (if the host still waits) and drops the deadline. */
static void freeze_done(struct container *c, enum ttrpc_code code, const char *msg)
{
	struct ttrpc_call *call = call_take(&c->freezing);
	if (c->freeze_timer >= 0) {
		husk_loop_del(c->ag->loop, c->freeze_timer);
		close_fd(&c->freeze_timer);
	}
	if (call)
		ttrpc_reply(call, code, code == TTRPC_OK ? NULL : msg, NULL, 0);
}

static void freeze_check(struct container *c)
{
	if (c->freeze_timer >= 0 && frozen_now(c) == c->freeze_want)
		freeze_done(c, TTRPC_OK, NULL);
}

static int on_freeze_timeout(struct husk_loop *loop, int fd, uint32_t events, void *data,
                             husk_err *err)
{
	struct container *c = data;
	char msg[160];
	snprintf(msg, sizeof(msg), "%s %s: cgroup.events did not report frozen %d within %d ms",
	         c->freeze_want ? "pause" : "resume", c->id, c->freeze_want, FREEZE_TIMEOUT_MS);
	log_warn("%s", msg);
	if (c->freeze_want && write_freeze(c, 0) < 0)
		log_warn("container %s: thaw: %s", c->id, strerror(errno));
	freeze_done(c, TTRPC_DEADLINE_EXCEEDED, msg);
	return 0;
}

static int arm_freeze_timer(struct container *c)
{
	struct itimerspec its = {
	    .it_value = {FREEZE_TIMEOUT_MS / 1000, (FREEZE_TIMEOUT_MS % 1000) * 1000000L}};
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

int cgroup_frozen(struct container *c)
{
	char buf[8];
	if (!c->cgroup[0])
		return 0;
	read_cgfile(c->cgroup, "cgroup.freeze", buf, sizeof(buf));
	return buf[0] == '1';
}

void cgroup_freeze(struct container *c, int want, struct ttrpc_call *call)
{
	const char *what = want ? "pause" : "resume";
	if (!c->cgroup[0] || c->events_wd < 0) {
		rpc_reply_error(call, TTRPC_FAILED_PRECONDITION,
		                "%s %s: the container has no cgroup", what, c->id);
		return;
	}
	if (c->freeze_timer >= 0) {
		rpc_reply_error(call, TTRPC_FAILED_PRECONDITION,
		                "%s %s: a pause or resume is under way", what, c->id);
		return;
	}
	if (write_freeze(c, want) < 0) {
		rpc_reply_error(call, TTRPC_UNKNOWN, "%s %s: cgroup.freeze: %s", what, c->id,
		                strerror(errno));
		return;
	}
	c->freeze_want = want;
	if (frozen_now(c) == want) {
		ttrpc_reply_pb(call, NULL);
		return;
	}
	if (arm_freeze_timer(c) < 0) {
		rpc_reply_error(call, TTRPC_UNKNOWN, "%s %s: timer: %s", what, c->id,
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

static int watch_ooms(struct agent *ag, husk_err *err)
{
	ag->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ag->inotify_fd < 0)
		return husk_error_set(err, errno, "inotify");
	return husk_loop_add(ag->loop, ag->inotify_fd, EPOLLIN, on_inotify, ag, err);
}

int cgroup_init(struct agent *ag, husk_err *err)
{
	struct statfs st;
	if (mkdir(CGROUP_ROOT, 0755) < 0 && errno != EEXIST)
		return husk_error_set(err, errno, "mkdir %s", CGROUP_ROOT);
	if ((statfs(CGROUP_ROOT, &st) < 0 || st.f_type != CGROUP2_SUPER_MAGIC) &&
	    mount("cgroup2", CGROUP_ROOT, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return husk_error_set(err, errno, "mount cgroup2 on %s", CGROUP_ROOT);
	enable_controllers(CGROUP_ROOT);
	if (mkdir(CGROUP_HUSK, 0755) < 0 && errno != EEXIST)
		return husk_error_set(err, errno, "mkdir %s", CGROUP_HUSK);
	enable_controllers(CGROUP_HUSK);
	ag->cgroups = 1;
	return watch_ooms(ag, err);
}

static int write_resources(const char *dir, const struct spec_resources *r, husk_err *err)
{
	char path[192];
	for (size_t i = 0; i < r->nfiles; i++) {
		const struct spec_cgfile *f = &r->files[i];
		snprintf(path, sizeof(path), "%s/%s", dir, f->file);
		if (write_value(path, f->value) == 0)
			continue;
		if (errno == ENOENT)
			return husk_error_set(err, 0,
			                      "%s: not supported by the guest kernel (no %s)",
			                      f->field, f->file);
		return husk_error_set(err, errno, "%s: %s = %s", f->field, f->file, f->value);
	}
	return 0;
}

int cgroup_create(struct container *c, const struct spec_resources *r, husk_err *err)
{
	char path[192];
	c->cgroup[0] = '\0';
	c->oom_wd = c->events_wd = -1;
	if (!c->ag->cgroups) {
		if (r->nfiles)
			return husk_error_set(err, 0, "%s: cgroups are only managed in the guest",
			                      r->files[0].field);
		return 0;
	}
	snprintf(c->cgroup, sizeof(c->cgroup), "%s/%s", CGROUP_HUSK, c->id);
	/* left by a container of that id killed on removal before its processes were gone */
	if (mkdir(c->cgroup, 0755) < 0 &&
	    (errno != EEXIST || rmdir(c->cgroup) < 0 || mkdir(c->cgroup, 0755) < 0)) {
		int e = errno;
		c->cgroup[0] = '\0';
		return husk_error_set(err, e, "cgroup %s/%s", CGROUP_HUSK, c->id);
	}
	if (write_resources(c->cgroup, r, err) < 0) {
		cgroup_remove(c);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/memory.events", c->cgroup);
	c->oom_wd = inotify_add_watch(c->ag->inotify_fd, path, IN_MODIFY);
	if (c->oom_wd < 0)
		log_warn("container %s: no OOM events: %s: %s", c->id, path, strerror(errno));
	snprintf(path, sizeof(path), "%s/cgroup.events", c->cgroup);
	c->events_wd = inotify_add_watch(c->ag->inotify_fd, path, IN_MODIFY);
	if (c->events_wd < 0)
		log_warn("container %s: no pause: %s: %s", c->id, path, strerror(errno));
	return 0;
}

int cgroup_update(struct container *c, const struct spec_resources *r, husk_err *err)
{
	if (!c->cgroup[0])
		return husk_error_set(err, 0, "cgroups are only managed in the guest");
	return write_resources(c->cgroup, r, err);
}

void cgroup_remove(struct container *c)
{
	freeze_done(c, TTRPC_NOT_FOUND, "container removed");
	if (c->oom_wd >= 0 && c->cgroup[0])
		inotify_rm_watch(c->ag->inotify_fd, c->oom_wd);
	if (c->events_wd >= 0 && c->cgroup[0])
		inotify_rm_watch(c->ag->inotify_fd, c->events_wd);
	c->oom_wd = c->events_wd = -1;
	if (c->cgroup[0] && rmdir(c->cgroup) < 0)
		log_warn("remove cgroup %s: %s", c->cgroup, strerror(errno));
	c->cgroup[0] = '\0';
}

int cgroup_stats(struct container *c, Husk__Agent__V1__StatsContainerResponse *r, husk_err *err)
{
	char buf[4096];
	if (!c->cgroup[0])
		return husk_error_set(err, 0, "cgroups are only managed in the guest");
	read_cgfile(c->cgroup, "cpu.stat", buf, sizeof(buf));
	r->cpu_usage_usec = cgstat_keyed(buf, "usage_usec");
	r->cpu_user_usec = cgstat_keyed(buf, "user_usec");
	r->cpu_system_usec = cgstat_keyed(buf, "system_usec");
	read_cgfile(c->cgroup, "memory.current", buf, sizeof(buf));
	r->memory_current = cgstat_single(buf);
	read_cgfile(c->cgroup, "memory.max", buf, sizeof(buf));
	r->memory_max = cgstat_single(buf);
	read_cgfile(c->cgroup, "memory.events", buf, sizeof(buf));
	r->memory_oom_kill = cgstat_keyed(buf, "oom_kill");
	read_cgfile(c->cgroup, "pids.current", buf, sizeof(buf));
	r->pids_current = cgstat_single(buf);
	read_cgfile(c->cgroup, "pids.max", buf, sizeof(buf));
	r->pids_max = cgstat_single(buf);
	read_cgfile(c->cgroup, "io.stat", buf, sizeof(buf));
	r->io_rbytes = cgstat_io_sum(buf, "rbytes");
	r->io_wbytes = cgstat_io_sum(buf, "wbytes");
	return 0;
}
