/*
 * The DNS relay end to end without a VM: the agent's API (agent/rpc.c, agent/dns.c) served over
 * a socketpair, the host's end (shim/lib/dnsforward.c) calling it, in a network namespace of
 * the test's own for each end: 127.0.0.11:53 is the guest's relay in one and stands for
 * Docker's DNS server in the container's namespace on the host in the other.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/dns.h"
#include "agent/rpc.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/fs.h"
#include "shim/lib/dnsforward.h"
#include "tests/unit/harness/test.h"

#define WAIT_MS 5000

struct fixture {
	struct agent ag;
	struct rpc_scope scope;
	struct ttrpc_server *srv;
	struct agent_client *client;
	struct dns_forward *fwd;
	int server_fd; /* "Docker's DNS" */
	int client_fd; /* a resolver in the guest */
};

static int udp_bound(const char *addr)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		close_fd(&fd);
	return fd;
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) == 1;
}

/* Serves both ends until fd is readable or WAIT_MS pass. */
static bool serve_until_readable(struct fixture *f, int fd)
{
	for (int64_t end = monotonic_ms() + WAIT_MS; monotonic_ms() < end;) {
		if (readable(fd))
			return true;
		husk_loop_run_once(f->ag.loop, 10, NULL);
	}
	return false;
}

/* A network namespace of the test's own with loopback up. */
static int fresh_netns(void)
{
	return unshare(CLONE_NEWNET) == 0 && system("ip link set lo up") == 0 ? 0 : -1;
}

/*
 * The guest's end in one network namespace (the relay, a resolver), then the host's in another,
 * with Docker's DNS at the same 127.0.0.11:53: two stacks, as with a VM.
 */
static int fixture_setup(struct fixture *f)
{
	int sv[2];
	struct in_addr docker_dns;
	cleanup_error husk_err err = NULL;
	*f = (struct fixture){.server_fd = -1, .client_fd = -1};
	inet_pton(AF_INET, "127.0.0.11", &docker_dns);
	f->scope.ag = &f->ag;
	if (fresh_netns() < 0 || !(f->ag.loop = husk_loop_new(NULL)) ||
	    !(f->srv = ttrpc_server_new(f->ag.loop, rpc_methods, rpc_nmethods, &f->scope, NULL)) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (ttrpc_server_add_conn(f->srv, sv[0], NULL) < 0 ||
	    !(f->client = agent_client_new(f->ag.loop, sv[1], NULL, NULL)))
		return -1;
	f->client_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	f->fwd = dns_forward_start(f->ag.loop, f->client, docker_dns, WAIT_MS, &err);
	if (!f->fwd) {
		fprintf(stderr, "dns_forward_start: %s\n", husk_error_msg(err));
		return -1;
	}
	if (f->client_fd < 0 || fresh_netns() < 0)
		return -1;
	f->server_fd = udp_bound("127.0.0.11");
	return f->server_fd < 0 ? -1 : 0;
}

static void fixture_teardown(struct fixture *f)
{
	dns_forward_free(f->fwd);
	agent_client_free(f->client);
	ttrpc_server_free(f->srv);
	dns_relay_free(f->ag.dns);
	close_fd(&f->server_fd);
	close_fd(&f->client_fd);
	husk_loop_free(f->ag.loop);
}

static void query_relay(struct fixture *f, const void *buf, size_t len)
{
	struct sockaddr_in relay = {.sin_family = AF_INET, .sin_port = htons(53)};
	inet_pton(AF_INET, "127.0.0.11", &relay.sin_addr);
	sendto(f->client_fd, buf, len, 0, (struct sockaddr *)&relay, sizeof(relay));
}

TEST(a_query_to_the_guests_relay_is_asked_on_the_host_and_answered_as_it_was_given)
{
	struct fixture f;
	uint8_t query[40], answer[300], got[512];
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	memset(query, 0x51, sizeof(query));
	memset(answer, 0xa7, sizeof(answer));
	CHECK_INT(fixture_setup(&f), ==, 0);
	query_relay(&f, "short", 5); /* less than a header: dropped by the agent */
	query_relay(&f, query, sizeof(query));
	CHECK(serve_until_readable(&f, f.server_fd));
	ssize_t n = recvfrom(f.server_fd, got, sizeof(got), 0, (struct sockaddr *)&from, &fromlen);
	CHECK_INT(n, ==, (ssize_t)sizeof(query));
	CHECK(!memcmp(got, query, sizeof(query)));
	CHECK(!readable(f.server_fd));
	sendto(f.server_fd, answer, sizeof(answer), 0, (struct sockaddr *)&from, fromlen);
	CHECK(serve_until_readable(&f, f.client_fd));
	n = recv(f.client_fd, got, sizeof(got), 0);
	CHECK_INT(n, ==, (ssize_t)sizeof(answer));
	CHECK(!memcmp(got, answer, sizeof(answer)));
	fixture_teardown(&f);
}

TEST(many_queries_at_once_are_each_answered)
{
	struct fixture f;
	uint8_t buf[64];
	CHECK_INT(fixture_setup(&f), ==, 0);
	for (int i = 0; i < 10; i++) {
		memset(buf, i, sizeof(buf));
		query_relay(&f, buf, sizeof(buf));
	}
	for (int i = 0; i < 10; i++) {
		struct sockaddr_in from;
		socklen_t fromlen = sizeof(from);
		CHECK(serve_until_readable(&f, f.server_fd));
		ssize_t n =
		    recvfrom(f.server_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		CHECK_INT(n, ==, (ssize_t)sizeof(buf));
		sendto(f.server_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, fromlen);
	}
	for (int i = 0; i < 10; i++) {
		CHECK(serve_until_readable(&f, f.client_fd));
		CHECK_INT(recv(f.client_fd, buf, sizeof(buf), 0), ==, (ssize_t)sizeof(buf));
	}
	fixture_teardown(&f);
}

TEST(the_relay_is_for_a_loopback_nameserver_of_resolv_conf_only)
{
	struct in_addr a;
	char path[] = "/tmp/husk-test-resolv-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	const char *text = "# Docker\nsearch x\nnameserver 127.0.0.11\noptions ndots:0\n";
	CHECK_INT(write(fd, text, strlen(text)), ==, (ssize_t)strlen(text));
	close(fd);
	CHECK_INT(dns_forward_nameserver(path, &a), ==, 1);
	CHECK_STR(inet_ntoa(a), "127.0.0.11");
	FILE *w = fopen(path, "we");
	fputs("nameserver 10.0.0.2\nnameserver 127.0.0.53\n", w);
	fclose(w);
	CHECK_INT(dns_forward_nameserver(path, &a), ==, 0);
	unlink(path);
	CHECK_INT(dns_forward_nameserver(path, &a), ==, 0);
}
