#include "tests/unit/harness/test.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/events.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "proto/agent.pb-c.h"

#define SVC     "test.Events"
#define WAIT_MS 5000

/* Serves the loop until cond holds or WAIT_MS pass. */
#define RUN_UNTIL(f, cond)                                                                         \
	for (int64_t end_ = monotonic_ms() + WAIT_MS; !(cond) && monotonic_ms() < end_;)           \
	husk_loop_run_once((f)->ag.loop, 10, NULL)

/*
 * An agent with two containers whose cgroups are temporary directories of
 * plain files, and a ttrpc client calling methods that wait on their events.
 */
struct fixture {
	struct agent ag;
	struct container c[2];
	struct ttrpc_server *srv;
	struct ttrpc_conn *cli;
};

/* One answered call: its status and, for an OOM event, the container. */
struct reply {
	int done;
	enum ttrpc_code code;
	char msg[256];
	char id[SPEC_MAX_ID + 1];
};

static void oom(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	struct fixture *f = data;
	events_oom_wait(&f->ag, call);
}

static void pause_c0(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	struct fixture *f = data;
	events_freeze(&f->c[0], 1, call);
}

static void resume_c0(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	struct fixture *f = data;
	events_freeze(&f->c[0], 0, call);
}

static const struct ttrpc_method methods[] = {
    {SVC, "Oom", oom},
    {SVC, "Pause", pause_c0},
    {SVC, "Resume", resume_c0},
};

static int put(const struct container *c, const char *file, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", c->cgroup, file);
	cleanup_fclose FILE *f = fopen(path, "we");
	return f && fputs(text, f) >= 0 ? 0 : -1;
}

static const char *get(const struct container *c, const char *file)
{
	static char buf[64];
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", c->cgroup, file);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* The files events.c reads or writes, as a fresh cgroup has them (cgroup.freeze empty: see put). */
static int container_setup(struct fixture *f, struct container *c, const char *id)
{
	*c = (struct container){.oom_wd = -1, .events_wd = -1, .freeze_timer = -1, .ag = &f->ag};
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->cgroup, sizeof(c->cgroup), "/tmp/husk-test-events-XXXXXX");
	if (!mkdtemp(c->cgroup) || put(c, "memory.events", "oom_kill 0\n") < 0 ||
	    put(c, "cgroup.events", "populated 1\nfrozen 0\n") < 0 ||
	    put(c, "cgroup.freeze", "") < 0)
		return -1;
	c->next = f->ag.containers;
	f->ag.containers = c;
	events_watch(c);
	return c->oom_wd >= 0 && c->events_wd >= 0 ? 0 : -1;
}

static int fixture_setup(struct fixture *f)
{
	int sv[2];
	*f = (struct fixture){.ag = {.inotify_fd = -1, .freeze_timeout_ms = WAIT_MS}};
	if (!(f->ag.loop = husk_loop_new(NULL)) || events_init(&f->ag, NULL) < 0 ||
	    container_setup(f, &f->c[0], "c1") < 0 || container_setup(f, &f->c[1], "c2") < 0)
		return -1;
	f->srv = ttrpc_server_new(f->ag.loop, methods, ARRAY_SIZE(methods), f, NULL);
	if (!f->srv || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (ttrpc_server_add_conn(f->srv, sv[0], NULL) < 0) {
		close(sv[1]);
		return -1;
	}
	f->cli = ttrpc_client_new(f->ag.loop, sv[1], NULL);
	return f->cli ? 0 : -1;
}

static void fixture_teardown(struct fixture *f)
{
	char cmd[96];
	ttrpc_client_free(f->cli);
	ttrpc_server_free(f->srv);
	for (size_t i = 0; i < ARRAY_SIZE(f->c); i++) {
		if (!f->c[i].ag)
			continue;
		events_unwatch(&f->c[i]);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->c[i].cgroup);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", f->c[i].cgroup);
	}
	events_close(&f->ag);
	husk_loop_free(f->ag.loop);
}

static void on_reply(enum ttrpc_code code, const char *message, const uint8_t *payload, size_t len,
                     void *data)
{
	struct reply *r = data;
	Husk__Agent__V1__OOMEvent *ev =
	    code == TTRPC_OK ? husk__agent__v1__oomevent__unpack(NULL, len, payload) : NULL;
	r->done = 1;
	r->code = code;
	snprintf(r->msg, sizeof(r->msg), "%s", message ? message : "");
	snprintf(r->id, sizeof(r->id), "%s", ev && ev->container_id ? ev->container_id : "");
	if (ev)
		husk__agent__v1__oomevent__free_unpacked(ev, NULL);
}

static int call(struct fixture *f, const char *method, struct reply *r)
{
	*r = (struct reply){0};
	return ttrpc_client_call(f->cli, SVC, method, NULL, 0, 0, on_reply, r, NULL);
}

/* Reports n OOM kills of c in all, one at a time, as the kernel would. */
static int oom_kill(struct fixture *f, struct container *c, uint64_t n)
{
	char text[64];
	snprintf(text, sizeof(text), "oom 1\noom_kill %llu\n", (unsigned long long)n);
	if (put(c, "memory.events", text) < 0)
		return -1;
	RUN_UNTIL(f, c->oom_kills == n);
	return c->oom_kills == n ? 0 : -1;
}

/* Calls GetOOMEvent, which answers at once with an OOM kill of id, leaving left queued. */
static int take_oom(struct fixture *f, const char *id, size_t left)
{
	struct reply r;
	if (call(f, "Oom", &r) < 0)
		return -1;
	RUN_UNTIL(f, r.done);
	return r.code == TTRPC_OK && strcmp(r.id, id) == 0 && f->ag.oom_count == left ? 0 : -1;
}

TEST(an_oom_kill_answers_a_waiting_call)
{
	struct fixture f;
	struct reply r;
	CHECK(fixture_setup(&f) == 0);
	CHECK(call(&f, "Oom", &r) == 0);
	RUN_UNTIL(&f, f.ag.oom_waiters[0]);
	CHECK(f.ag.oom_waiters[0] && !r.done);
	CHECK(oom_kill(&f, &f.c[1], 1) == 0);
	RUN_UNTIL(&f, r.done);
	CHECK_INT(r.code, ==, TTRPC_OK);
	CHECK_STR(r.id, "c2");
	CHECK_INT(f.ag.oom_count, ==, 0);
	fixture_teardown(&f);
}

TEST(an_oom_kill_nobody_waits_for_is_queued)
{
	struct fixture f;
	CHECK(fixture_setup(&f) == 0);
	CHECK(oom_kill(&f, &f.c[0], 1) == 0);
	CHECK_INT(f.ag.oom_count, ==, 1);
	/* memory.events changing without a new kill reports nothing */
	CHECK(put(&f.c[0], "memory.events", "oom 2\noom_kill 1\n") == 0);
	for (int i = 0; i < 5; i++)
		husk_loop_run_once(f.ag.loop, 10, NULL);
	CHECK_INT(f.ag.oom_count, ==, 1);
	CHECK(take_oom(&f, "c1", 0) == 0);
	fixture_teardown(&f);
}

TEST(a_full_oom_queue_drops_the_oldest)
{
	struct fixture f;
	CHECK(fixture_setup(&f) == 0);
	CHECK(oom_kill(&f, &f.c[1], 1) == 0);
	for (uint64_t n = 1; n <= AGENT_OOM_QUEUE; n++)
		CHECK(oom_kill(&f, &f.c[0], n) == 0);
	CHECK_INT(f.ag.oom_count, ==, AGENT_OOM_QUEUE);
	CHECK(take_oom(&f, "c1", AGENT_OOM_QUEUE - 1) == 0);
	fixture_teardown(&f);
}

TEST(waiting_oom_calls_are_bounded)
{
	struct fixture f;
	struct reply r[AGENT_OOM_WAITERS + 1];
	CHECK(fixture_setup(&f) == 0);
	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		CHECK(call(&f, "Oom", &r[i]) == 0);
	RUN_UNTIL(&f, r[AGENT_OOM_WAITERS].done);
	CHECK_INT(r[AGENT_OOM_WAITERS].code, ==, TTRPC_RESOURCE_EXHAUSTED);
	CHECK_STR(r[AGENT_OOM_WAITERS].msg, "GetOOMEvent: too many waiting calls");
	for (size_t i = 0; i < AGENT_OOM_WAITERS; i++)
		CHECK(f.ag.oom_waiters[i] && !r[i].done);
	/* the oldest waiter takes the next kill */
	CHECK(oom_kill(&f, &f.c[0], 1) == 0);
	RUN_UNTIL(&f, r[0].done);
	CHECK_STR(r[0].id, "c1");
	CHECK(!r[1].done);
	fixture_teardown(&f);
}

TEST(pause_is_answered_once_cgroup_events_reports_frozen)
{
	struct fixture f;
	struct reply r;
	CHECK(fixture_setup(&f) == 0);
	CHECK(call(&f, "Pause", &r) == 0);
	RUN_UNTIL(&f, f.c[0].freezing);
	CHECK_STR(get(&f.c[0], "cgroup.freeze"), "1");
	CHECK(!r.done && f.c[0].freeze_timer >= 0);
	CHECK(put(&f.c[0], "cgroup.events", "populated 1\nfrozen 1\n") == 0);
	RUN_UNTIL(&f, r.done);
	CHECK_INT(r.code, ==, TTRPC_OK);
	CHECK_INT(f.c[0].freeze_timer, ==, -1);
	/* already in the state asked for: answered at once */
	CHECK(call(&f, "Pause", &r) == 0);
	RUN_UNTIL(&f, r.done);
	CHECK_INT(r.code, ==, TTRPC_OK);
	fixture_teardown(&f);
}

TEST(a_pause_cgroup_events_does_not_confirm_times_out_and_thaws)
{
	struct fixture f;
	struct reply r;
	CHECK(fixture_setup(&f) == 0);
	f.ag.freeze_timeout_ms = 50;
	CHECK(call(&f, "Pause", &r) == 0);
	RUN_UNTIL(&f, r.done);
	CHECK_INT(r.code, ==, TTRPC_DEADLINE_EXCEEDED);
	CHECK_STR(r.msg, "pause c1: cgroup.events did not report frozen 1 within 50 ms");
	CHECK_STR(get(&f.c[0], "cgroup.freeze"), "0");
	CHECK_INT(f.c[0].freeze_timer, ==, -1);
	fixture_teardown(&f);
}

TEST(a_freeze_under_way_refuses_another_and_removal_answers_it)
{
	struct fixture f;
	struct reply paused, resumed;
	CHECK(fixture_setup(&f) == 0);
	CHECK(call(&f, "Pause", &paused) == 0);
	RUN_UNTIL(&f, f.c[0].freezing);
	CHECK(call(&f, "Resume", &resumed) == 0);
	RUN_UNTIL(&f, resumed.done);
	CHECK_INT(resumed.code, ==, TTRPC_FAILED_PRECONDITION);
	CHECK_STR(resumed.msg, "resume c1: a pause or resume is under way");
	events_unwatch(&f.c[0]);
	RUN_UNTIL(&f, paused.done);
	CHECK_INT(paused.code, ==, TTRPC_NOT_FOUND);
	CHECK_STR(paused.msg, "container removed");
	/* unwatched: no cgroup events to wait on */
	CHECK(call(&f, "Resume", &resumed) == 0);
	RUN_UNTIL(&f, resumed.done);
	CHECK_INT(resumed.code, ==, TTRPC_FAILED_PRECONDITION);
	CHECK_STR(resumed.msg, "resume c1: the container has no cgroup");
	fixture_teardown(&f);
}
