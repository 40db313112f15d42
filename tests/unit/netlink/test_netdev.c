/* The host's reads of a network namespace, taps and tc redirects, in a namespace of its own. */
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "netlink/addrs.h"
#include "netlink/links.h"
#include "netlink/neighs.h"
#include "netlink/routes.h"
#include "netlink/tap.h"
#include "netlink/tc.h"
#include "tests/unit/harness/test.h"

/* One namespace for all tests: ve0 (10.77.0.1/24, fd77::1/64, MTU 1400) <-> ve1. */
static struct nl_sock s = {.fd = -1};

static void veth_request(struct nl_msg *m)
{
	nl_msg_init(m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	nl_msg_put(m, sizeof(struct ifinfomsg));
	nl_msg_attr_str(m, IFLA_IFNAME, "ve0");
	nl_msg_attr_u32(m, IFLA_MTU, 1400);
	nl_msg_nest_start(m, IFLA_LINKINFO);
	nl_msg_attr_str(m, IFLA_INFO_KIND, "veth");
	nl_msg_nest_start(m, IFLA_INFO_DATA);
	nl_msg_nest_start(m, VETH_INFO_PEER);
	nl_msg_put(m, sizeof(struct ifinfomsg));
	nl_msg_attr_str(m, IFLA_IFNAME, "ve1");
	nl_msg_nest_end(m);
	nl_msg_nest_end(m);
	nl_msg_nest_end(m);
}

static int add_address(unsigned index, int family, const char *ip, int prefix, husk_err *err)
{
	struct nl_msg m;
	uint8_t a[16];
	nl_msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = nl_msg_put(&m, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_index = index;
	ifa->ifa_flags = IFA_F_NODAD;
	inet_pton(family, ip, a);
	nl_msg_attr(&m, IFA_LOCAL, a, nl_family_len((uint8_t)family));
	nl_msg_attr(&m, IFA_ADDRESS, a, nl_family_len((uint8_t)family));
	return nl_request(&s, &m, err);
}

/* 10.88.0.0/16 via 10.77.0.2 mtu 1300 */
static int add_route(unsigned index, husk_err *err)
{
	struct nl_msg m;
	struct in_addr dst, gw;
	inet_pton(AF_INET, "10.88.0.0", &dst);
	inet_pton(AF_INET, "10.77.0.2", &gw);
	nl_msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *r = nl_msg_put(&m, sizeof(*r));
	*r = (struct rtmsg){.rtm_family = AF_INET,
	                    .rtm_dst_len = 16,
	                    .rtm_table = RT_TABLE_MAIN,
	                    .rtm_protocol = RTPROT_STATIC,
	                    .rtm_scope = RT_SCOPE_UNIVERSE,
	                    .rtm_type = RTN_UNICAST};
	nl_msg_attr(&m, RTA_DST, &dst, sizeof(dst));
	nl_msg_attr(&m, RTA_GATEWAY, &gw, sizeof(gw));
	nl_msg_attr_u32(&m, RTA_OIF, index);
	nl_msg_nest_start(&m, RTA_METRICS);
	nl_msg_attr_u32(&m, RTAX_MTU, 1300);
	nl_msg_nest_end(&m);
	return nl_request(&s, &m, err);
}

static int add_neighbour(unsigned index, husk_err *err)
{
	struct nl_msg m;
	struct in_addr ip;
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x09};
	inet_pton(AF_INET, "10.77.0.9", &ip);
	nl_msg_init(&m, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL);
	struct ndmsg *nd = nl_msg_put(&m, sizeof(*nd));
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = (int)index;
	nd->ndm_state = NUD_PERMANENT;
	nl_msg_attr(&m, NDA_DST, &ip, sizeof(ip));
	nl_msg_attr(&m, NDA_LLADDR, mac, sizeof(mac));
	return nl_request(&s, &m, err);
}

static int set_up(husk_err *err)
{
	static int done;
	struct nl_msg m;
	if (done)
		return 0;
	if (unshare(CLONE_NEWNET) < 0 || nl_open(&s, err) < 0)
		return -1;
	veth_request(&m);
	if (nl_request(&s, &m, err) < 0)
		return -1;
	unsigned ve0 = if_nametoindex("ve0"), ve1 = if_nametoindex("ve1");
	if (nl_link_set_mtu_up(&s, ve0, 1400, err) < 0 ||
	    nl_link_set_mtu_up(&s, ve1, 1400, err) < 0 ||
	    add_address(ve0, AF_INET, "10.77.0.1", 24, err) < 0 ||
	    add_address(ve0, AF_INET6, "fd77::1", 64, err) < 0 || add_route(ve0, err) < 0 ||
	    add_neighbour(ve0, err) < 0)
		return -1;
	done = 1;
	return 0;
}

TEST(links_dump_names_kind_mac_and_mtu)
{
	cleanup_error husk_err err = NULL;
	static struct nl_links links;
	CHECK_INT(set_up(&err), ==, 0);
	CHECK_INT(nl_links_dump(&s, &links, &err), ==, 0);
	CHECK_INT(links.n, ==, 3);
	const struct nl_link *l = nl_links_find(&links, if_nametoindex("ve0"));
	CHECK(l != NULL);
	CHECK_STR(l->name, "ve0");
	CHECK_STR(l->kind, "veth");
	CHECK_INT(l->mtu, ==, 1400);
	CHECK_INT(l->mac_len, ==, 6);
	CHECK(l->flags & IFF_UP);
	CHECK_STR(nl_links_find(&links, if_nametoindex("lo"))->kind, "");
}

TEST(addresses_dump_both_families_with_prefix)
{
	cleanup_error husk_err err = NULL;
	static struct nl_addrs addrs;
	int v4 = 0, v6 = 0;
	CHECK_INT(set_up(&err), ==, 0);
	CHECK_INT(nl_addrs_dump(&s, &addrs, &err), ==, 0);
	for (size_t i = 0; i < addrs.n; i++) {
		const struct nl_addr *a = &addrs.v[i];
		if (a->index != if_nametoindex("ve0") || a->scope != RT_SCOPE_UNIVERSE)
			continue;
		v4 +=
		    a->family == AF_INET && a->prefix == 24 && a->addr[0] == 10 && a->addr[3] == 1;
		v6 += a->family == AF_INET6 && a->prefix == 64 && a->addr[0] == 0xfd;
	}
	CHECK_INT(v4, ==, 1);
	CHECK_INT(v6, ==, 1);
}

TEST(routes_dump_skips_the_kernels_and_keeps_gateway_and_mtu)
{
	cleanup_error husk_err err = NULL;
	static struct nl_routes routes;
	CHECK_INT(set_up(&err), ==, 0);
	CHECK_INT(nl_routes_dump(&s, &routes, &err), ==, 0);
	CHECK_INT(routes.n, ==, 1);
	const struct nl_route *r = &routes.v[0];
	CHECK_INT(r->family, ==, AF_INET);
	CHECK_INT(r->dst_len, ==, 16);
	CHECK_INT(r->dst[1], ==, 88);
	CHECK(r->has_gateway && r->gateway[3] == 2);
	CHECK_INT(r->oif, ==, if_nametoindex("ve0"));
	CHECK_INT(r->mtu, ==, 1300);
	CHECK(!r->multipath);
}

TEST(neighbours_dump_keeps_permanent_entries)
{
	cleanup_error husk_err err = NULL;
	static struct nl_neighs neighs;
	CHECK_INT(set_up(&err), ==, 0);
	CHECK_INT(nl_neighs_dump(&s, &neighs, &err), ==, 0);
	CHECK_INT(neighs.n, ==, 1);
	CHECK_INT(neighs.v[0].addr[3], ==, 9);
	CHECK_INT(neighs.v[0].mac[5], ==, 9);
}

static int count_ingress(const struct nlmsghdr *h, void *data, husk_err *err)
{
	const struct rtattr *tb[TCA_MAX + 1];
	if (h->nlmsg_type != RTM_NEWQDISC ||
	    nl_msg_attrs(h, sizeof(struct tcmsg), tb, TCA_MAX, err) < 0)
		return h->nlmsg_type == RTM_NEWQDISC ? -1 : 0;
	const char *kind = nl_attr_str(tb[TCA_KIND]);
	*(int *)data += kind && !strcmp(kind, "ingress");
	return 0;
}

static int ingress_qdiscs(husk_err *err)
{
	int n = 0;
	return nl_dump_all(&s, RTM_GETQDISC, sizeof(struct tcmsg), count_ingress, &n, err) < 0 ? -1
	                                                                                       : n;
}

TEST(tap_with_a_redirect_both_ways_and_teardown_leaves_no_qdisc)
{
	cleanup_error husk_err err = NULL;
	CHECK_INT(set_up(&err), ==, 0);
	cleanup_close int tap = tap_open("taptest", &err);
	CHECK(tap >= 0);
	unsigned t = if_nametoindex("taptest"), v = if_nametoindex("ve0");
	CHECK(t > 0);
	CHECK_INT(nl_link_set_mtu_up(&s, t, 1400, &err), ==, 0);
	CHECK_INT(nl_tc_ingress_add(&s, v, &err), ==, 0);
	CHECK_INT(nl_tc_ingress_add(&s, t, &err), ==, 0);
	CHECK_INT(nl_tc_redirect_add(&s, v, t, &err), ==, 0);
	CHECK_INT(nl_tc_redirect_add(&s, t, v, &err), ==, 0);
	CHECK_INT(ingress_qdiscs(&err), ==, 2);
	CHECK_INT(nl_tc_ingress_del(&s, v, &err), ==, 0);
	CHECK_INT(nl_tc_ingress_del(&s, t, &err), ==, 0);
	CHECK_INT(ingress_qdiscs(&err), ==, 0);
	close(move_fd(tap));
	CHECK_INT(if_nametoindex("taptest"), ==, 0);
}

TEST(redirect_to_a_missing_link_is_refused)
{
	cleanup_error husk_err err = NULL;
	CHECK_INT(set_up(&err), ==, 0);
	CHECK_INT(nl_tc_ingress_add(&s, if_nametoindex("ve1"), &err), ==, 0);
	CHECK_INT(nl_tc_redirect_add(&s, if_nametoindex("ve1"), 4242, &err), ==, -1);
	CHECK_INT(nl_tc_ingress_del(&s, if_nametoindex("ve1"), &err), ==, 0);
}
