/*
 * The shim's events to containerd (shim/v2/publish.c) against a fake
 * containerd Events service (the real ttrpc server library on a Unix socket):
 * a guest flooding OOM events cannot push TaskExit out of the queue.
 */
#include "tests/unit/harness/test.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/loop.h"
#include "shim/lib/ratelimit.h"
#include "shim/v2/shim.h"
#include "ttrpc/ttrpc.h"
#include "proto/containerd/events.pb-c.h"

#define EVENTS_SERVICE "containerd.services.events.ttrpc.v1.Events"

static struct {
	int oom, exit, other;
	struct ttrpc_server *srv;
} got;

static void forward(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	Containerd__Events__ForwardRequest *req =
	    containerd__events__forward_request__unpack(NULL, len, p);
	const char *topic = req && req->envelope ? req->envelope->topic : "";
	if (!strcmp(topic, "/tasks/oom"))
		got.oom++;
	else if (!strcmp(topic, "/tasks/exit"))
		got.exit++;
	else
		got.other++;
	containerd__events__forward_request__free_unpacked(req, NULL);
	ttrpc_reply(call, TTRPC_OK, NULL, NULL, 0);
}

static int on_accept(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c >= 0)
		ttrpc_server_add_conn(got.srv, c, NULL);
	return 0;
}

TEST(publish_oom_flood_never_drops_task_exit)
{
	char dir[] = "/tmp/test_publish.XXXXXX", path[128], addr[160];
	cleanup_error husk_err err = NULL;
	static const struct ttrpc_method methods[] = {{EVENTS_SERVICE, "Forward", forward}};
	memset(&got, 0, sizeof(got));
	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ttrpc.sock", dir);
	snprintf(addr, sizeof(addr), "unix://%s", path);
	struct husk_loop *loop = husk_loop_new(&err);
	CHECK(loop);
	/* containerd is slow: it accepts only once everything is queued */
	int lfd = unix_listen(path, 8, SOCK_NONBLOCK, &err);
	CHECK(lfd >= 0);
	struct publisher *p = publisher_new(loop, addr, "k8s.io", &err);
	CHECK(p);

	Containerd__Events__TaskOOM oom = CONTAINERD__EVENTS__TASK_OOM__INIT;
	oom.container_id = "c1";
	for (int i = 0; i < 5000; i++)
		publish_guest(p, "/tasks/oom", &oom.base);
	Containerd__Events__TaskExit ex = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	ex.container_id = "c1";
	ex.id = "c1";
	ex.exit_status = 137;
	publish(p, "/tasks/exit", &ex.base);

	got.srv = ttrpc_server_new(loop, methods, ARRAY_SIZE(methods), NULL, &err);
	CHECK(got.srv);
	CHECK_INT(husk_loop_add(loop, lfd, EPOLLIN, on_accept, NULL, &err), ==, 0);
	int64_t end = monotonic_ms() + 10000;
	while (!got.exit && monotonic_ms() < end)
		CHECK_INT(husk_loop_run_once(loop, 100, &err), ==, 0);
	CHECK_INT(got.exit, ==, 1);
	/* at most the guest's share of the queue (64), the one in flight besides */
	CHECK_INT(got.oom, <=, 65);
	CHECK_INT(got.oom, >=, 1);

	publisher_free(p);
	ttrpc_server_free(got.srv);
	husk_loop_del(loop, lfd);
	close(lfd);
	husk_loop_free(loop);
	unlink(path);
	CHECK_INT(rmdir(dir), ==, 0);
}

TEST(rate_limit_allows_a_burst_per_window)
{
	struct rate_limit rl = RATE_LIMIT_INIT(1000, 2);
	CHECK(rate_limit_allow(&rl, 5000));
	CHECK(rate_limit_allow(&rl, 5001));
	CHECK(!rate_limit_allow(&rl, 5002));
	CHECK(!rate_limit_allow(&rl, 5999));
	CHECK_INT(rl.suppressed, ==, 2);
	CHECK_INT(rate_limit_wait_ms(&rl, 5500), ==, 500);
	CHECK_INT(rate_limit_wait_ms(&rl, 6000), ==, 0);
	CHECK(rate_limit_allow(&rl, 6000));
}
