/*
 * The stdio relay against a fake agent served by the real ttrpc library over
 * a socketpair (the real agent needs a VM; tests/integration/run.bats covers it).
 */
#include "tests/unit/harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/lib/agent_client.h"
#include "proto/agent.pb-c.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/loop.h"
#include "shim/lib/relay.h"
#include "ttrpc/ttrpc.h"

#define CHUNKS 8

static struct fake {
	int stdout_sent;  /* chunks of STDIO_CHUNK bytes replied so far */
	size_t consumed;  /* bytes the host-side reader took from the stdout pipe */
	size_t pipe_size; /* capacity of the stdout pipe */
	int overrun;      /* a ReadStdout came before the previous chunk could have drained */
	int stderr_done;
	char stdin_got[64];
	size_t stdin_len;
	int stdin_closed;
	int bad_exec_id;
} fake;

static void reply_stream(struct ttrpc_call *call, const void *data, size_t len, int eof)
{
	Husk__Agent__V1__ReadStreamResponse resp = HUSK__AGENT__V1__READ_STREAM_RESPONSE__INIT;
	resp.data.data = (uint8_t *)data;
	resp.data.len = len;
	resp.eof = eof;
	ttrpc_reply_pb(call, &resp.base);
}

static void check_ids(const uint8_t *payload, size_t len)
{
	Husk__Agent__V1__ReadStreamRequest *req =
	    husk__agent__v1__read_stream_request__unpack(NULL, len, payload);
	if (!req || strcmp(req->container_id, "c1") || strcmp(req->exec_id, ""))
		fake.bad_exec_id = 1;
	husk__agent__v1__read_stream_request__free_unpacked(req, NULL);
}

static void read_stdout(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	static char chunk[STDIO_CHUNK];
	check_ids(payload, len);
	/* The relay asks again only after writing the previous chunk in full. */
	size_t written = (size_t)fake.stdout_sent * STDIO_CHUNK;
	if (fake.consumed + fake.pipe_size < written)
		fake.overrun = 1;
	if (fake.stdout_sent == CHUNKS) {
		reply_stream(call, NULL, 0, 1);
		return;
	}
	memset(chunk, 'a' + fake.stdout_sent, sizeof(chunk));
	fake.stdout_sent++;
	reply_stream(call, chunk, sizeof(chunk), 0);
}

static void read_stderr(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	check_ids(payload, len);
	if (fake.stderr_done++)
		reply_stream(call, NULL, 0, 1);
	else
		reply_stream(call, "err\n", 4, 0);
}

static void write_stdin(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	Husk__Agent__V1__WriteStdinRequest *req =
	    husk__agent__v1__write_stdin_request__unpack(NULL, len, payload);
	Husk__Agent__V1__WriteStdinResponse resp = HUSK__AGENT__V1__WRITE_STDIN_RESPONSE__INIT;
	/* Take one byte at a time so the relay has to resend the rest. */
	if (req && req->data.len && fake.stdin_len < sizeof(fake.stdin_got)) {
		fake.stdin_got[fake.stdin_len++] = (char)req->data.data[0];
		resp.written = 1;
	}
	husk__agent__v1__write_stdin_request__free_unpacked(req, NULL);
	ttrpc_reply_pb(call, &resp.base);
}

static void close_stdin(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	fake.stdin_closed++;
	ttrpc_reply_pb(call, NULL);
}

static const struct ttrpc_method methods[] = {
    {AGENT_SERVICE, "ReadStdout", read_stdout},
    {AGENT_SERVICE, "ReadStderr", read_stderr},
    {AGENT_SERVICE, "WriteStdin", write_stdin},
    {AGENT_SERVICE, "CloseStdin", close_stdin},
};

static int drain_stdout(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n > 0)
		fake.consumed += (size_t)n;
	else
		husk_loop_del(loop, fd);
	return 0;
}

static void relay_event(struct stdio_relay *r, void *data)
{
	*(int *)data = 1;
}

TEST(relay_moves_stdio_with_flow_control)
{
	cleanup_error husk_err err = NULL;
	int sv[2], in[2], out[2], errp[2], done = 0;
	memset(&fake, 0, sizeof(fake));

	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	CHECK_INT(pipe2(in, O_CLOEXEC), ==, 0);
	CHECK_INT(pipe2(out, O_CLOEXEC), ==, 0);
	CHECK_INT(pipe2(errp, O_CLOEXEC), ==, 0);
	fake.pipe_size = (size_t)fcntl(out[1], F_SETPIPE_SZ, 4096);
	CHECK_INT(fake.pipe_size, >=, 4096);
	CHECK_INT(fcntl(out[0], F_SETFL, O_NONBLOCK), ==, 0);
	CHECK_INT(write(in[1], "hi\n", 3), ==, 3);
	close(in[1]);

	struct husk_loop *loop = husk_loop_new(&err);
	CHECK(loop);
	struct ttrpc_server *srv = ttrpc_server_new(loop, methods, ARRAY_SIZE(methods), NULL, &err);
	CHECK(srv);
	CHECK_INT(ttrpc_server_add_conn(srv, sv[1], &err), ==, 0);
	struct agent_client *agent = agent_client_new(loop, sv[0], NULL, &err);
	CHECK(agent);
	struct stdio_relay *r = stdio_relay_new(loop, agent, "c1", "", in[0], out[1], errp[1],
	                                        relay_event, &done, &err);
	CHECK(r);
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	CHECK_INT(husk_loop_add(loop, out[0], EPOLLIN, drain_stdout, NULL, &err), ==, 0);
	CHECK_INT(stdio_relay_start(r, &err), ==, 0);

	for (int i = 0; i < 10000 && !(done && fake.stdin_closed); i++)
		CHECK_INT(husk_loop_run_once(loop, 1000, &err), ==, 0);
	CHECK(done);
	CHECK(!stdio_relay_error(r));
	CHECK(stdio_relay_done(r));
	char tail[64];
	CHECK_INT(read(errp[0], tail, sizeof(tail)), ==, 4);
	CHECK(!memcmp(tail, "err\n", 4));
	CHECK_INT(fake.consumed, ==, (size_t)CHUNKS * STDIO_CHUNK);
	CHECK(!fake.overrun);
	CHECK(!fake.bad_exec_id);
	CHECK_INT(fake.stdin_len, ==, 3);
	CHECK(!memcmp(fake.stdin_got, "hi\n", 3));
	CHECK_INT(fake.stdin_closed, ==, 1);

	stdio_relay_free(r);
	agent_client_free(agent);
	ttrpc_server_free(srv);
	husk_loop_free(loop);
	close(out[0]);
	close(errp[0]);
}

TEST(relay_reports_a_dead_agent)
{
	cleanup_error husk_err err = NULL;
	int sv[2], out[2], done = 0;

	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	CHECK_INT(pipe2(out, O_CLOEXEC), ==, 0);
	struct husk_loop *loop = husk_loop_new(&err);
	CHECK(loop);
	struct agent_client *agent = agent_client_new(loop, sv[0], NULL, &err);
	CHECK(agent);
	struct stdio_relay *r =
	    stdio_relay_new(loop, agent, "c1", "", -1, out[1], out[1], relay_event, &done, &err);
	CHECK(r);
	CHECK_INT(stdio_relay_start(r, &err), ==, 0);
	close(sv[1]);
	for (int i = 0; i < 100 && !done; i++)
		CHECK_INT(husk_loop_run_once(loop, 1000, &err), ==, 0);
	CHECK(done);
	CHECK(stdio_relay_error(r));
	CHECK(strstr(husk_error_msg(stdio_relay_error(r)), "ReadStd"));
	stdio_relay_free(r);
	agent_client_free(agent);
	husk_loop_free(loop);
	close(out[0]);
	close(out[1]);
}
