#include "tests/unit/harness/test.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/containers.h"
#include "agent/request.h"
#include "agent/rpc.h"
#include "lib/cleanup.h"
#include "proto/agent.pb-c.h"

#define WAIT_MS 5000

/*
 * An agent with a container c1 in its table and the debug console's container
 * "guest", and one client on each port's server: the agent API's and the
 * debug console's.
 */
struct fixture {
	struct agent ag;
	struct rpc_scope scope, debug_scope;
	struct ttrpc_server *srv, *debug_srv;
	struct ttrpc_conn *cli, *debug_cli;
};

static struct ttrpc_conn *connect_to(struct fixture *f, struct ttrpc_server *srv)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return NULL;
	if (ttrpc_server_add_conn(srv, sv[0], NULL) < 0) {
		close(sv[1]);
		return NULL;
	}
	return ttrpc_client_new(f->ag.loop, sv[1], NULL);
}

static int fixture_setup(struct fixture *f)
{
	struct spec_resources none = {0};
	*f = (struct fixture){.ag = {.inotify_fd = -1}};
	f->scope = (struct rpc_scope){.ag = &f->ag};
	f->debug_scope = (struct rpc_scope){.ag = &f->ag, .debug = 1};
	if (!(f->ag.loop = husk_loop_new(NULL)) || !containers_add(&f->ag, "c1", &none, NULL) ||
	    containers_add_debug(&f->ag, "guest", NULL) < 0)
		return -1;
	f->srv = ttrpc_server_new(f->ag.loop, rpc_methods, rpc_nmethods, &f->scope, NULL);
	f->debug_srv = ttrpc_server_new(f->ag.loop, rpc_debug_methods, rpc_debug_nmethods,
	                                &f->debug_scope, NULL);
	if (!f->srv || !f->debug_srv)
		return -1;
	f->cli = connect_to(f, f->srv);
	f->debug_cli = connect_to(f, f->debug_srv);
	return f->cli && f->debug_cli ? 0 : -1;
}

static void fixture_teardown(struct fixture *f)
{
	ttrpc_client_free(f->cli);
	ttrpc_client_free(f->debug_cli);
	containers_free_all(&f->ag);
	ttrpc_server_free(f->srv);
	ttrpc_server_free(f->debug_srv);
	husk_loop_free(f->ag.loop);
}

/* WaitProcess of (cid, eid) through cli: 0, or -1 with *err. */
static int wait_process(struct ttrpc_conn *cli, const char *cid, const char *eid, husk_err *err)
{
	Husk__Agent__V1__ProcessRequest req = HUSK__AGENT__V1__PROCESS_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	int r = ttrpc_client_call_pb_sync(cli, AGENT_SERVICE, "WaitProcess", &req.base,
	                                  &husk__agent__v1__wait_process_response__descriptor,
	                                  WAIT_MS, &resp, err);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

TEST(the_agent_port_does_not_reach_the_debug_console)
{
	struct fixture f;
	cleanup_error husk_err err = NULL;
	CHECK(fixture_setup(&f) == 0);
	CHECK_INT(wait_process(f.cli, "guest", "e1", &err), ==, -1);
	CHECK_STR(husk_error_msg(err),
	          "husk.agent.v1.Agent/WaitProcess: wait guest: container not found");
	fixture_teardown(&f);
}

TEST(the_debug_console_port_reaches_neither_containers_nor_the_agent_itself)
{
	struct fixture f;
	cleanup_error husk_err err = NULL;
	CHECK(fixture_setup(&f) == 0);
	CHECK_INT(wait_process(f.debug_cli, "c1", "", &err), ==, -1);
	CHECK_STR(husk_error_msg(err),
	          "husk.agent.v1.Agent/WaitProcess: wait c1: container not found");
	/* the debug console's init is the agent */
	CHECK_INT(wait_process(f.debug_cli, "guest", "", &err), ==, -1);
	CHECK_STR(husk_error_msg(err),
	          "husk.agent.v1.Agent/WaitProcess: wait guest: exec  not found");
	/* only the console's methods: no lifecycle, no sandbox teardown */
	CHECK_INT(ttrpc_client_call_pb_sync(f.debug_cli, AGENT_SERVICE, "DestroySandbox", NULL,
	                                    &husk__agent__v1__empty__descriptor, WAIT_MS, NULL,
	                                    &err),
	          ==, -1);
	CHECK_INT(err->code, ==, ENOSYS);
	fixture_teardown(&f);
}
