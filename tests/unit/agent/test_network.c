/*
 * SetupNetwork applied in a network namespace of the test's own, a veth end standing for the
 * guest's NIC, and read back by dumps; refusals through request_decode.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/agent.pb-c.h"
#include "agent/network.h"
#include "agent/request.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "netlink/link_config.h"
#include "netlink/nlmsg.h"
#include "tests/unit/harness/test.h"

static int own_netns(void)
{
	static int done;
	if (!done && unshare(CLONE_NEWNET) == 0)
		done = 1;
	return done ? 0 : -1;
}

/* A veth pair name/peer, name carrying mac, both up (so the link has a carrier). */
static int add_veth(const char *name, const char *peer, const uint8_t mac[6])
{
	cleanup_error husk_err err = NULL;
	struct nl_sock s;
	struct nl_msg m;
	if (nl_open(&s, &err) < 0)
		return -1;
	nl_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = nl_msg_put(&m, sizeof(*ifi));
	ifi->ifi_flags = ifi->ifi_change = IFF_UP;
	nl_msg_attr_str(&m, IFLA_IFNAME, name);
	nl_msg_attr(&m, IFLA_ADDRESS, mac, 6);
	nl_msg_nest_start(&m, IFLA_LINKINFO);
	nl_msg_attr_str(&m, IFLA_INFO_KIND, "veth");
	nl_msg_nest_start(&m, IFLA_INFO_DATA);
	nl_msg_nest_start(&m, VETH_INFO_PEER);
	nl_msg_put(&m, sizeof(*ifi));
	nl_msg_attr_str(&m, IFLA_IFNAME, peer);
	nl_msg_nest_end(&m);
	nl_msg_nest_end(&m);
	nl_msg_nest_end(&m);
	/* the peer comes up once it has one: not in the message that creates the pair */
	struct nl_link_change up = {.name = peer, .flags = IFF_UP, .change = IFF_UP};
	int r = nl_request(&s, &m, &err) < 0 || nl_link_change(&s, &up, &err) < 0 ? -1 : 0;
	nl_close(&s);
	return r;
}

static ProtobufCBinaryData bin(const void *p, size_t len)
{
	return (ProtobufCBinaryData){.len = len, .data = (uint8_t *)p};
}

static ProtobufCBinaryData ip(int family, const char *text, uint8_t buf[16])
{
	inet_pton(family, text, buf);
	return bin(buf, family == AF_INET ? 4 : 16);
}

static const uint8_t nic_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t gw_mac[6] = {0x02, 0, 0, 0, 0, 0x09};

/* eth0 (by nic_mac), MTU 1400, 10.1.0.2/24 and fd00::2/64, routes and two neighbours. */
struct net_fixture {
	uint8_t a4[16], a6[16], gw4[16], gw6[16], dst4[16], dst6[16], net4[16];
	Husk__Agent__V1__IpAddress addr[2], *addrs[2];
	Husk__Agent__V1__Interface ifc, *ifcs[1];
	Husk__Agent__V1__Route route[4], *routes[4];
	Husk__Agent__V1__Neighbor neigh[2], *neighs[2];
	Husk__Agent__V1__SetupNetworkRequest req;
};

static void route(Husk__Agent__V1__Route *r, int family, ProtobufCBinaryData dst, unsigned prefix,
                  ProtobufCBinaryData gw)
{
	husk__agent__v1__route__init(r);
	r->family = (uint32_t)family;
	r->destination = dst;
	r->destination_prefix = prefix;
	r->gateway = gw;
	r->device = "eth0";
}

static void fixture_init(struct net_fixture *f)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < 2; i++) {
		husk__agent__v1__ip_address__init(&f->addr[i]);
		f->addrs[i] = &f->addr[i];
	}
	f->addr[0].address = ip(AF_INET, "10.1.0.2", f->a4);
	f->addr[0].prefix_length = 24;
	f->addr[1].address = ip(AF_INET6, "fd00::2", f->a6);
	f->addr[1].prefix_length = 64;
	husk__agent__v1__interface__init(&f->ifc);
	f->ifc.name = "eth0";
	f->ifc.mac = bin(nic_mac, 6);
	f->ifc.mtu = 1400;
	f->ifc.n_addresses = 2;
	f->ifc.addresses = f->addrs;
	f->ifcs[0] = &f->ifc;
	/* the kernel's own prefix route, as a host copies it: replaced by an equal one */
	route(&f->route[0], AF_INET, ip(AF_INET, "10.1.0.0", f->net4), 24, bin(NULL, 0));
	f->route[0].scope = RT_SCOPE_LINK;
	f->route[0].source = bin(f->a4, 4);
	route(&f->route[1], AF_INET, bin(NULL, 0), 0, ip(AF_INET, "10.1.0.1", f->gw4));
	f->route[1].source = bin(f->a4, 4);
	route(&f->route[2], AF_INET, ip(AF_INET, "10.2.0.0", f->dst4), 16, bin(f->gw4, 4));
	f->route[2].mtu = 1300;
	route(&f->route[3], AF_INET6, ip(AF_INET6, "fd01::", f->dst6), 64,
	      ip(AF_INET6, "fd00::1", f->gw6));
	for (int i = 0; i < 4; i++)
		f->routes[i] = &f->route[i];
	for (int i = 0; i < 2; i++) {
		husk__agent__v1__neighbor__init(&f->neigh[i]);
		f->neigh[i].mac = bin(gw_mac, 6);
		f->neigh[i].device = "eth0";
		f->neighs[i] = &f->neigh[i];
	}
	f->neigh[0].address = bin(f->gw4, 4);
	f->neigh[1].address = bin(f->gw6, 16);
	husk__agent__v1__setup_network_request__init(&f->req);
	f->req.n_interfaces = 1;
	f->req.interfaces = f->ifcs;
	f->req.n_routes = 4;
	f->req.routes = f->routes;
	f->req.n_neighbors = 2;
	f->req.neighbors = f->neighs;
}

/* What the dumps found of the fixture's settings. */
struct seen {
	int index;
	unsigned flags, mtu;
	int addr4, addr6_ready;
	int default_route, mtu_route, route6;
	int neigh4, neigh6;
};

static int same(const struct rtattr *a, const void *want, size_t len)
{
	return a && nl_attr_len(a) == len && memcmp(nl_attr_data(a), want, len) == 0;
}

static int see_link(const struct nlmsghdr *h, void *data, husk_err *err)
{
	struct seen *s = data;
	const struct rtattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	if (nl_msg_attrs(h, sizeof(*ifi), tb, IFLA_MAX, err) < 0)
		return -1;
	const char *name = nl_attr_str(tb[IFLA_IFNAME]);
	if (name && strcmp(name, "eth0") == 0 && same(tb[IFLA_ADDRESS], nic_mac, 6)) {
		s->index = ifi->ifi_index;
		s->flags = ifi->ifi_flags;
		uint32_t mtu = 0;
		nl_attr_u32(tb[IFLA_MTU], &mtu);
		s->mtu = mtu;
	}
	return 0;
}

static int see_addr(const struct nlmsghdr *h, void *data, husk_err *err)
{
	struct seen *s = data;
	const struct rtattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	uint8_t want[16];
	uint32_t flags = ifa->ifa_flags;
	if (nl_msg_attrs(h, sizeof(*ifa), tb, IFA_MAX, err) < 0)
		return -1;
	nl_attr_u32(tb[IFA_FLAGS], &flags);
	if ((int)ifa->ifa_index != s->index)
		return 0;
	if (ifa->ifa_prefixlen == 24 && same(tb[IFA_LOCAL], ip(AF_INET, "10.1.0.2", want).data, 4))
		s->addr4 = 1;
	if (ifa->ifa_prefixlen == 64 &&
	    same(tb[IFA_ADDRESS], ip(AF_INET6, "fd00::2", want).data, 16))
		s->addr6_ready = !(flags & IFA_F_TENTATIVE);
	return 0;
}

static int route_mtu(const struct rtattr *metrics)
{
	const struct rtattr *tb[RTAX_MAX + 1];
	husk_err err = NULL;
	uint32_t mtu = 0;
	if (!metrics ||
	    nl_attrs_parse(nl_attr_data(metrics), nl_attr_len(metrics), tb, RTAX_MAX, &err) < 0) {
		husk_error_free(&err);
		return 0;
	}
	nl_attr_u32(tb[RTAX_MTU], &mtu);
	return (int)mtu;
}

static int see_route(const struct nlmsghdr *h, void *data, husk_err *err)
{
	struct seen *s = data;
	const struct rtattr *tb[RTA_MAX + 1];
	const struct rtmsg *rt = NLMSG_DATA(h);
	uint8_t gw4[16], gw6[16], src[16];
	uint32_t oif = 0;
	if (nl_msg_attrs(h, sizeof(*rt), tb, RTA_MAX, err) < 0)
		return -1;
	nl_attr_u32(tb[RTA_OIF], &oif);
	if ((int)oif != s->index || rt->rtm_table != RT_TABLE_MAIN)
		return 0;
	ip(AF_INET, "10.1.0.1", gw4);
	ip(AF_INET6, "fd00::1", gw6);
	ip(AF_INET, "10.1.0.2", src);
	if (rt->rtm_family == AF_INET && rt->rtm_dst_len == 0 && same(tb[RTA_GATEWAY], gw4, 4) &&
	    same(tb[RTA_PREFSRC], src, 4))
		s->default_route = 1;
	if (rt->rtm_family == AF_INET && rt->rtm_dst_len == 16 && same(tb[RTA_GATEWAY], gw4, 4))
		s->mtu_route = route_mtu(tb[RTA_METRICS]);
	if (rt->rtm_family == AF_INET6 && rt->rtm_dst_len == 64 && same(tb[RTA_GATEWAY], gw6, 16))
		s->route6 = 1;
	return 0;
}

static int see_neigh(const struct nlmsghdr *h, void *data, husk_err *err)
{
	struct seen *s = data;
	const struct rtattr *tb[NDA_MAX + 1];
	const struct ndmsg *nd = NLMSG_DATA(h);
	if (nl_msg_attrs(h, sizeof(*nd), tb, NDA_MAX, err) < 0)
		return -1;
	if (nd->ndm_ifindex != s->index || nd->ndm_state != NUD_PERMANENT ||
	    !same(tb[NDA_LLADDR], gw_mac, 6))
		return 0;
	if (nd->ndm_family == AF_INET)
		s->neigh4 = 1;
	if (nd->ndm_family == AF_INET6)
		s->neigh6 = 1;
	return 0;
}

static int dump(struct nl_sock *s, uint16_t type, size_t hdrlen, nl_msg_cb cb, struct seen *seen)
{
	cleanup_error husk_err err = NULL;
	struct nl_msg m;
	nl_msg_init(&m, type, 0);
	nl_msg_put(&m, hdrlen);
	return nl_dump(s, &m, cb, seen, &err);
}

static int read_back(struct seen *seen)
{
	struct nl_sock s;
	cleanup_error husk_err err = NULL;
	memset(seen, 0, sizeof(*seen));
	if (nl_open(&s, &err) < 0)
		return -1;
	int r = dump(&s, RTM_GETLINK, sizeof(struct ifinfomsg), see_link, seen) < 0 ||
	                dump(&s, RTM_GETADDR, sizeof(struct ifaddrmsg), see_addr, seen) < 0 ||
	                dump(&s, RTM_GETROUTE, sizeof(struct rtmsg), see_route, seen) < 0 ||
	                dump(&s, RTM_GETNEIGH, sizeof(struct ndmsg), see_neigh, seen) < 0
	            ? -1
	            : 0;
	nl_close(&s);
	return r;
}

TEST(interface_found_by_mac_gets_name_mtu_addresses_routes_and_neighbors)
{
	cleanup_error husk_err err = NULL;
	struct net_fixture f;
	struct seen seen;
	CHECK_INT(own_netns(), ==, 0);
	CHECK_INT(add_veth("veth-nic", "veth-peer", nic_mac), ==, 0);
	fixture_init(&f);
	CHECK_INT(network_setup(&f.req, 1000, &err), ==, 0);
	CHECK_INT(read_back(&seen), ==, 0);
	CHECK(seen.index > 0);
	CHECK(seen.flags & IFF_UP);
	CHECK_INT(seen.mtu, ==, 1400);
	CHECK(seen.addr4);
	CHECK(seen.addr6_ready);
	CHECK(seen.default_route);
	CHECK_INT(seen.mtu_route, ==, 1300);
	CHECK(seen.route6);
	CHECK(seen.neigh4);
	CHECK(seen.neigh6);
	CHECK_INT(if_nametoindex("veth-nic"), ==, 0);
	CHECK(if_nametoindex("lo") > 0);
	/* every step creates or replaces: the same request again changes nothing */
	CHECK_INT(network_setup(&f.req, 1000, &err), ==, 0);
	CHECK_INT(read_back(&seen), ==, 0);
	CHECK_INT(seen.mtu, ==, 1400);
	CHECK_INT(seen.mtu_route, ==, 1300);
}

TEST(absent_mac_fails_naming_the_interface_after_the_bound)
{
	cleanup_error husk_err err = NULL;
	static const uint8_t absent[6] = {0x02, 0, 0, 0, 0, 0x77};
	struct net_fixture f;
	CHECK_INT(own_netns(), ==, 0);
	fixture_init(&f);
	f.ifc.name = "eth9";
	f.ifc.mac = bin(absent, 6);
	f.req.n_routes = f.req.n_neighbors = 0;
	int64_t start = monotonic_ms();
	CHECK_INT(network_setup(&f.req, 200, &err), ==, -1);
	CHECK(monotonic_ms() - start >= 200);
	CHECK_STR(husk_error_msg(err), "interface eth9 (02:00:00:00:00:77): no link with that MAC: "
	                               "Connection timed out");
}

TEST(nic_appearing_late_is_waited_for)
{
	cleanup_error husk_err err = NULL;
	static const uint8_t late[6] = {0x02, 0, 0, 0, 0, 0x42};
	struct net_fixture f;
	int status;
	CHECK_INT(own_netns(), ==, 0);
	fixture_init(&f);
	f.ifc.name = "eth1";
	f.ifc.mac = bin(late, 6);
	f.ifc.n_addresses = 0;
	f.req.n_routes = f.req.n_neighbors = 0;
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		usleep(200 * 1000);
		_exit(add_veth("veth-late", "veth-late-peer", late) == 0 ? 0 : 1);
	}
	int r = network_setup(&f.req, 5000, &err);
	CHECK_INT(waitpid(pid, &status, 0), ==, pid);
	CHECK_INT(status, ==, 0);
	CHECK_INT(r, ==, 0);
	CHECK(if_nametoindex("eth1") > 0);
}

/* request_decode's verdict on f's request: its error message, or "" when it passes. */
static void decode_verdict(struct net_fixture *f, char *out, size_t size)
{
	cleanup_error husk_err err = NULL;
	size_t len = husk__agent__v1__setup_network_request__get_packed_size(&f->req);
	cleanup_free uint8_t *buf = malloc(len ? len : 1);
	husk__agent__v1__setup_network_request__pack(&f->req, buf);
	ProtobufCMessage *m = request_decode("SetupNetwork", buf, len, &err);
	snprintf(out, size, "%s", m ? "" : husk_error_msg(err));
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

TEST(bad_requests_are_refused_naming_the_field)
{
	static const uint8_t multicast[6] = {0x01, 0, 0x5e, 0, 0, 1};
	Husk__Agent__V1__Interface second, *two[2];
	struct net_fixture f;
	char verdict[256];
	fixture_init(&f);
	decode_verdict(&f, verdict, sizeof(verdict));
	CHECK_STR(verdict, "");

	second = f.ifc;
	second.name = "eth1";
	second.mac = bin(gw_mac, 6);
	second.mtu = 70000;
	two[0] = &f.ifc;
	two[1] = &second;
	f.req.interfaces = two;
	f.req.n_interfaces = 2;
	decode_verdict(&f, verdict, sizeof(verdict));
	CHECK_STR(verdict, "SetupNetwork: interfaces[1].mtu: 70000 out of range");
	second.mtu = 1500;
	second.name = "eth0";
	decode_verdict(&f, verdict, sizeof(verdict));
	CHECK_STR(verdict, "SetupNetwork: interfaces[1].name: eth0 given twice");
	second.name = "a/b";
	decode_verdict(&f, verdict, sizeof(verdict));
	CHECK_STR(verdict, "SetupNetwork: interfaces[1].name: invalid \"a/b\"");
	second.name = "eth1";
	second.mac = bin(multicast, 6);
	decode_verdict(&f, verdict, sizeof(verdict));
	CHECK_STR(verdict, "SetupNetwork: interfaces[1].mac: not a unicast address");
	f.req.n_interfaces = 1;

	f.addr[0].prefix_length = 33;
	decode_verdict(&f, verdict, sizeof(verdict));
	CHECK_STR(verdict,
	          "SetupNetwork: interfaces[0].addresses[0].prefix_length: 33 out of range");
	f.addr[0].prefix_length = 24;

	f.route[2].device = "eth7";
	decode_verdict(&f, verdict, sizeof(verdict));
	CHECK_STR(verdict,
	          "SetupNetwork: routes[2].device: \"eth7\" is no interface of the request");
	f.route[2].device = "eth0";
	f.route[3].family = AF_INET;
	decode_verdict(&f, verdict, sizeof(verdict));
	CHECK_STR(verdict, "SetupNetwork: routes[3].destination: 16 bytes, the family's are 4");
	f.route[3].family = AF_INET6;
	f.route[1].scope = 7;
	decode_verdict(&f, verdict, sizeof(verdict));
	CHECK_STR(verdict, "SetupNetwork: routes[1].scope: 7 is no RT_SCOPE_*");
	f.route[1].scope = 0;

	f.neigh[1].address = bin(f.a4, 3);
	decode_verdict(&f, verdict, sizeof(verdict));
	CHECK_STR(verdict, "SetupNetwork: neighbors[1].address: 3 bytes, not 4 or 16");
}
