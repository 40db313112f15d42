/* A pod's network namespace attached and detached, in a namespace of the test's own. */
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "shim/lib/podnet.h"
#include "tests/unit/harness/test.h"

#define SELF "/proc/self/ns/net"

/* ve0 (10.77.0.1/24, fd77::1/64, MTU 1400, a route to 10.88/16) <-> ve1 (no address) */
static int set_up(void)
{
	static int done;
	if (done)
		return 0;
	if (unshare(CLONE_NEWNET) < 0 ||
	    system("ip link add ve0 mtu 1400 type veth peer name ve1 mtu 1400 && "
	           "ip link set ve0 up && ip link set ve1 up && ip link set lo up && "
	           "ip addr add 10.77.0.1/24 dev ve0 && ip addr add fd77::1/64 dev ve0 nodad && "
	           "ip route add 10.88.0.0/16 via 10.77.0.2 mtu 1300 && "
	           "ip neigh add 10.77.0.9 lladdr 02:00:00:00:00:09 dev ve0 nud permanent") != 0)
		return -1;
	done = 1;
	return 0;
}

/* Lines of `cmd` output, 0 for none. */
static int lines(const char *cmd)
{
	char line[512];
	int n = 0;
	FILE *f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f))
		n++;
	if (f)
		pclose(f);
	return n;
}

TEST(attach_plugs_a_tap_and_tells_the_guest_addresses_routes_and_neighbours)
{
	cleanup_error husk_err err = NULL;
	struct qemu_nic nics[PODNET_IFACES_MAX];
	CHECK_INT(set_up(), ==, 0);
	struct podnet *pn = podnet_attach(SELF, &err);
	CHECK(pn != NULL);
	CHECK_INT(podnet_nics(pn, nics), ==, 1);
	CHECK(nics[0].tap_fd >= 0);
	const Husk__Agent__V1__SetupNetworkRequest *req = podnet_request(pn);
	CHECK_INT(req->n_interfaces, ==, 1);
	const Husk__Agent__V1__Interface *f = req->interfaces[0];
	CHECK_STR(f->name, "ve0");
	CHECK_INT(f->mtu, ==, 1400);
	CHECK_INT(f->mac.len, ==, 6);
	CHECK(!memcmp(f->mac.data, nics[0].mac, 6));
	CHECK_INT(f->n_addresses, ==, 2); /* not fe80:: */
	CHECK_INT(req->n_routes, ==, 1);
	CHECK_STR(req->routes[0]->device, "ve0");
	CHECK_INT(req->routes[0]->mtu, ==, 1300);
	CHECK_INT(req->routes[0]->gateway.len, ==, 4);
	CHECK_INT(req->n_neighbors, ==, 1);
	char tap[32];
	snprintf(tap, sizeof(tap), "tap%uh", if_nametoindex("ve0"));
	CHECK(if_nametoindex(tap) > 0);
	CHECK_INT(lines("tc qdisc show | grep ingress"), ==, 2);
	CHECK_INT(
	    lines("tc filter show dev ve0 ingress | grep 'mirred (Egress Redirect to device tap'"),
	    ==, 1);
	podnet_detach(pn);
	CHECK_INT(if_nametoindex(tap), ==, 0);
	CHECK_INT(lines("tc qdisc show | grep ingress"), ==, 0);
}

TEST(an_unsupported_kind_is_one_error_and_leaves_nothing)
{
	cleanup_error husk_err err = NULL;
	CHECK_INT(set_up(), ==, 0);
	CHECK_INT(system("ip link add du0 type bridge && ip addr add 10.66.0.1/24 dev du0"), ==, 0);
	CHECK(podnet_attach(SELF, &err) == NULL);
	CHECK_STR(husk_error_msg(err),
	          "network namespace " SELF
	          ": interface du0: kind \"bridge\" not supported (veth, macvlan)");
	CHECK_INT(lines("tc qdisc show | grep ingress"), ==, 0);
	CHECK_INT(lines("ip -o link show type tun"), ==, 0);
	CHECK_INT(system("ip link del du0"), ==, 0);
}

TEST(a_macvlan_is_attached_too)
{
	cleanup_error husk_err err = NULL;
	struct qemu_nic nics[PODNET_IFACES_MAX];
	CHECK_INT(set_up(), ==, 0);
	CHECK_INT(
	    system("ip link add mv0 link ve1 type macvlan mode bridge && ip link set mv0 up && "
	           "ip addr add 10.44.0.1/24 dev mv0"),
	    ==, 0);
	struct podnet *pn = podnet_attach(SELF, &err);
	CHECK(pn != NULL);
	CHECK_INT(podnet_nics(pn, nics), ==, 2);
	CHECK_INT(lines("tc qdisc show | grep ingress"), ==, 4);
	podnet_detach(pn);
	CHECK_INT(lines("tc qdisc show | grep ingress"), ==, 0);
	CHECK_INT(system("ip link del mv0"), ==, 0);
}

TEST(a_path_that_is_no_network_namespace_is_refused)
{
	cleanup_error husk_err err = NULL;
	CHECK(podnet_attach("/proc/self/ns/uts", &err) == NULL);
	CHECK_STR(husk_error_msg(err),
	          "network namespace /proc/self/ns/uts: not a network namespace");
	CHECK(podnet_attach("/nonexistent", &err) == NULL);
	CHECK_STR(husk_error_msg(err),
	          "network namespace /nonexistent: open: No such file or directory");
}

/* as docker run --network host gives it: the caller's own namespace under a path of its own */
TEST(the_callers_own_network_namespace_is_refused)
{
	cleanup_error husk_err err = NULL;
	char path[64], cmd[200], want[200];
	CHECK_INT(set_up(), ==, 0);
	snprintf(path, sizeof(path), "/tmp/husk-podnet-own.%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "touch %s && mount --bind /proc/self/ns/net %s", path, path);
	CHECK_INT(system(cmd), ==, 0);
	int r = podnet_refuse_own(path, &err);
	snprintf(want, sizeof(want),
	         "network namespace %s: the runtime's own (the host's network): a VM cannot "
	         "share it",
	         path);
	snprintf(cmd, sizeof(cmd), "umount %s && rm %s", path, path);
	CHECK_INT(system(cmd), ==, 0);
	CHECK_INT(r, ==, -1);
	CHECK_STR(husk_error_msg(err), want);
	CHECK_INT(podnet_refuse_own("/proc/self/ns/uts", &err), ==, 0);
}

TEST(tc_redirect_is_available)
{
	cleanup_error husk_err err = NULL;
	CHECK_INT(podnet_probe_tc(&err), ==, 0);
}
