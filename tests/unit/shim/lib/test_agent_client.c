/*
 * The host's agent client against a hostile fake agent (the real ttrpc server
 * library over a socketpair): a call it never answers times out on the host,
 * a reply of empty repeated elements is refused within the memory budget, and
 * the guest's error text arrives escaped.
 */
#include "tests/unit/harness/test.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/loop.h"
#include "shim/lib/agent_client.h"
#include "ttrpc/ttrpc.h"
#include "proto/agent.pb-c.h"

#define WAIT_MS 5000

static struct ttrpc_call *held[4];
static int nheld;

static void never(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	if (nheld < (int)ARRAY_SIZE(held))
		held[nheld++] = call;
}

/* ListProcesses answered with a full frame of empty ProcessInfo elements */
static void amplify(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	size_t n = (TTRPC_MAX_DATA - 64) / 2;
	cleanup_free uint8_t *buf = malloc(2 * n);
	for (size_t i = 0; buf && i < n; i++) {
		buf[2 * i] = 0x0a;
		buf[2 * i + 1] = 0x00;
	}
	ttrpc_reply(call, TTRPC_OK, NULL, buf, buf ? 2 * n : 0);
}

static void hostile_text(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	ttrpc_reply(call, TTRPC_NOT_FOUND, "no such \x1b[2J\x1b]0;pwned\x07 thing\r\nFAKE LOG LINE",
	            NULL, 0);
}

static const struct ttrpc_method methods[] = {
    {AGENT_SERVICE, "StatsContainer", never},
    {AGENT_SERVICE, "ReadStdout", never},
    {AGENT_SERVICE, "ListProcesses", amplify},
    {AGENT_SERVICE, "RemoveContainer", hostile_text},
};

struct result {
	int calls;
	int code;
	char msg[256];
};

static void record(ProtobufCMessage *resp, husk_err error, void *data)
{
	struct result *r = data;
	r->calls++;
	r->code = error ? error->code : 0;
	snprintf(r->msg, sizeof(r->msg), "%s", error ? husk_error_msg(error) : "ok");
}

struct fixture {
	struct husk_loop *loop;
	struct ttrpc_server *srv;
	struct agent_client *agent;
};

static int setup(struct fixture *f)
{
	int sv[2];
	nheld = 0;
	*f = (struct fixture){0};
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	f->loop = husk_loop_new(NULL);
	f->srv =
	    f->loop ? ttrpc_server_new(f->loop, methods, ARRAY_SIZE(methods), NULL, NULL) : NULL;
	if (!f->srv || ttrpc_server_add_conn(f->srv, sv[1], NULL) < 0)
		return -1;
	f->agent = agent_client_new(f->loop, sv[0], NULL, NULL);
	return f->agent ? 0 : -1;
}

static void teardown(struct fixture *f)
{
	agent_client_free(f->agent);
	ttrpc_server_free(f->srv);
	/* a held call without a cancel callback is freed by its (no-op) reply */
	while (nheld)
		ttrpc_reply(held[--nheld], TTRPC_CANCELED, NULL, NULL, 0);
	husk_loop_free(f->loop);
}

static int run_until(struct fixture *f, const int *flag)
{
	int64_t end = monotonic_ms() + WAIT_MS;
	while (!*flag && monotonic_ms() < end)
		if (husk_loop_run_once(f->loop, 100, NULL) < 0)
			return -1;
	return *flag ? 0 : -1;
}

static int call(struct fixture *f, const char *method, const ProtobufCMessageDescriptor *desc,
                int timeout_ms, struct result *r)
{
	Husk__Agent__V1__ContainerRequest req = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	req.container_id = "c1";
	return agent_client_call(f->agent, method, &req.base, desc, timeout_ms, record, r, NULL);
}

/* `husk events` stalled forever on one unanswered StatsContainer: now it times out. */
TEST(agent_call_without_answer_times_out_on_the_host)
{
	struct fixture f;
	struct result stats = {0}, poll = {0};
	CHECK(setup(&f) == 0);
	agent_client_set_timeout(f.agent, 80);
	CHECK(call(&f, "ReadStdout", &husk__agent__v1__read_stream_response__descriptor,
	           AGENT_CALL_LONG_POLL, &poll) == 0);
	int64_t start = monotonic_ms();
	CHECK(call(&f, "StatsContainer", &husk__agent__v1__stats_container_response__descriptor, 0,
	           &stats) == 0);
	CHECK(run_until(&f, &stats.calls) == 0);
	CHECK_INT(monotonic_ms() - start, >=, 80);
	CHECK_STR(stats.msg, "StatsContainer: timed out after 80 ms");
	CHECK_INT(stats.code, ==, ETIMEDOUT);
	/* the long poll is still waiting, and the connection still serves */
	CHECK_INT(poll.calls, ==, 0);
	CHECK(agent_client_alive(f.agent));
	/* an explicit timeout wins over the default */
	struct result mine = {0};
	CHECK(call(&f, "StatsContainer", &husk__agent__v1__stats_container_response__descriptor, 30,
	           &mine) == 0);
	CHECK(run_until(&f, &mine.calls) == 0);
	CHECK_STR(mine.msg, "StatsContainer: timed out after 30 ms");
	CHECK_INT(poll.calls, ==, 0);
	teardown(&f);
}

TEST(agent_sync_call_without_answer_times_out)
{
	struct fixture f;
	cleanup_error husk_err err = NULL;
	Husk__Agent__V1__ContainerRequest req = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	CHECK(setup(&f) == 0);
	agent_client_set_timeout(f.agent, 50);
	req.container_id = "c1";
	CHECK_INT(agent_client_call_sync(f.agent, "StatsContainer", &req.base,
	                                 &husk__agent__v1__stats_container_response__descriptor, 0,
	                                 &resp, &err),
	          ==, -1);
	CHECK_STR(husk_error_msg(err), "husk.agent.v1.Agent/StatsContainer: timed out after 50 ms");
	teardown(&f);
}

TEST(agent_reply_of_empty_elements_is_refused_within_budget)
{
	struct fixture f;
	struct result r = {0};
	CHECK(setup(&f) == 0);
	CHECK(call(&f, "ListProcesses", &husk__agent__v1__list_processes_response__descriptor, 0,
	           &r) == 0);
	CHECK(run_until(&f, &r.calls) == 0);
	CHECK_STR(r.msg, "ListProcesses: reply needs more than 16777216 bytes of memory");
	CHECK_INT(r.code, ==, ENOMEM);
	teardown(&f);
}

TEST(agent_error_text_is_escaped)
{
	struct fixture f;
	struct result r = {0};
	CHECK(setup(&f) == 0);
	CHECK(call(&f, "RemoveContainer", &husk__agent__v1__empty__descriptor, 0, &r) == 0);
	CHECK(run_until(&f, &r.calls) == 0);
	CHECK_STR(r.msg, "RemoveContainer: no such \\x1b[2J\\x1b]0;pwned\\x07 thing\\x0d\\x0aFAKE "
	                 "LOG LINE");
	CHECK_INT(r.code, ==, ENOENT);
	teardown(&f);
}
