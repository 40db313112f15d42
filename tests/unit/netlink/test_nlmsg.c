#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>

#include "lib/error.h"
#include "netlink/nlmsg.h"
#include "tests/unit/harness/test.h"

/* Every test runs in a network namespace of its own: only its loopback is there. */
static int own_netns(void)
{
	static int done;
	if (!done && unshare(CLONE_NEWNET) == 0)
		done = 1;
	return done ? 0 : -1;
}

struct names {
	char list[8][IFNAMSIZ];
	int n;
};

static int note_link(const struct nlmsghdr *h, void *data, husk_err *err)
{
	struct names *names = data;
	const struct rtattr *tb[IFLA_MAX + 1];
	if (h->nlmsg_type != RTM_NEWLINK ||
	    nl_msg_attrs(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, err) < 0)
		return -1;
	const char *name = nl_attr_str(tb[IFLA_IFNAME]);
	if (name && names->n < 8)
		snprintf(names->list[names->n++], IFNAMSIZ, "%s", name);
	return 0;
}

TEST(dump_lists_the_namespaces_links)
{
	cleanup_error husk_err err = NULL;
	struct nl_sock s;
	struct nl_msg m;
	struct names names = {0};
	CHECK_INT(own_netns(), ==, 0);
	CHECK_INT(nl_open(&s, &err), ==, 0);
	nl_msg_init(&m, RTM_GETLINK, 0);
	CHECK(nl_msg_put(&m, sizeof(struct ifinfomsg)) != NULL);
	CHECK_INT(nl_dump(&s, &m, note_link, &names, &err), ==, 0);
	CHECK_INT(names.n, ==, 1);
	CHECK_STR(names.list[0], "lo");
	nl_close(&s);
}

static void address_request(struct nl_msg *m, unsigned index, const char *ip, int prefix)
{
	nl_msg_init(m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = nl_msg_put(m, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_index = index;
	struct in_addr a;
	inet_pton(AF_INET, ip, &a);
	nl_msg_attr(m, IFA_LOCAL, &a, sizeof(a));
	nl_msg_attr(m, IFA_ADDRESS, &a, sizeof(a));
}

TEST(request_is_acknowledged_and_a_refusal_names_the_cause)
{
	cleanup_error husk_err err = NULL;
	struct nl_sock s;
	struct nl_msg m;
	CHECK_INT(own_netns(), ==, 0);
	CHECK_INT(nl_open(&s, &err), ==, 0);
	address_request(&m, if_nametoindex("lo"), "10.200.0.1", 24);
	CHECK_INT(nl_request(&s, &m, &err), ==, 0);
	address_request(&m, if_nametoindex("lo"), "10.200.0.1", 24);
	CHECK_INT(nl_request(&s, &m, &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "netlink: File exists");
	address_request(&m, 4242, "10.200.0.2", 24);
	CHECK_INT(nl_request(&s, &m, &err), ==, -1);
	CHECK_INT(err->code, ==, ENODEV);
	nl_close(&s);
}

TEST(full_message_fails_instead_of_overflowing)
{
	cleanup_error husk_err err = NULL;
	struct nl_sock s = {.fd = -1};
	struct nl_msg m;
	char big[1024] = {0};
	nl_msg_init(&m, RTM_NEWLINK, 0);
	for (int i = 0; i < 8; i++)
		nl_msg_attr(&m, IFLA_IFALIAS, big, sizeof(big));
	CHECK(m.overflow);
	CHECK(m.hdr.nlmsg_len <= sizeof(m.buf));
	CHECK_INT(nl_request(&s, &m, &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "netlink: request") != NULL);
}

TEST(nested_attribute_covers_its_children)
{
	struct nl_msg m;
	const struct rtattr *tb[IFLA_MAX + 1], *inner[IFLA_INFO_MAX + 1];
	cleanup_error husk_err err = NULL;
	nl_msg_init(&m, RTM_NEWLINK, 0);
	nl_msg_put(&m, sizeof(struct ifinfomsg));
	nl_msg_nest_start(&m, IFLA_LINKINFO);
	nl_msg_attr_str(&m, IFLA_INFO_KIND, "veth");
	nl_msg_nest_end(&m);
	CHECK(!m.overflow);
	CHECK_INT(nl_msg_attrs(&m.hdr, sizeof(struct ifinfomsg), tb, IFLA_MAX, &err), ==, 0);
	CHECK(tb[IFLA_LINKINFO] != NULL);
	CHECK_INT(nl_attrs_parse(nl_attr_data(tb[IFLA_LINKINFO]), nl_attr_len(tb[IFLA_LINKINFO]),
	                         inner, IFLA_INFO_MAX, &err),
	          ==, 0);
	CHECK_STR(nl_attr_str(inner[IFLA_INFO_KIND]), "veth");
}

static int count(const struct nlmsghdr *h, void *data, husk_err *err)
{
	(*(int *)data)++;
	return 0;
}

TEST(walk_refuses_lengths_past_the_datagram)
{
	cleanup_error husk_err err = NULL;
	uint8_t buf[64] = {0};
	struct nlmsghdr *h = (void *)buf;
	int n = 0;
	h->nlmsg_len = 65;
	h->nlmsg_type = RTM_NEWLINK;
	CHECK_INT(nl_walk(buf, sizeof(buf), 0, count, &n, &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "message length 65 of 64") != NULL);
	h->nlmsg_len = 8;
	CHECK_INT(nl_walk(buf, sizeof(buf), 0, count, &n, &err), ==, -1);
	h->nlmsg_len = NLMSG_HDRLEN;
	h->nlmsg_seq = 7;
	CHECK_INT(nl_walk(buf, sizeof(buf), 8, count, &n, &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "reply to 7, not 8") != NULL);
	CHECK_INT(n, ==, 0);
}

TEST(attributes_past_their_message_are_refused)
{
	cleanup_error husk_err err = NULL;
	const struct rtattr *tb[IFLA_MAX + 1];
	uint8_t buf[16] = {0};
	struct rtattr *a = (void *)buf;
	a->rta_len = 17;
	a->rta_type = IFLA_IFNAME;
	CHECK_INT(nl_attrs_parse(buf, sizeof(buf), tb, IFLA_MAX, &err), ==, -1);
	a->rta_len = 2;
	CHECK_INT(nl_attrs_parse(buf, sizeof(buf), tb, IFLA_MAX, &err), ==, -1);
	a->rta_len = 6;
	memcpy(buf + 4, "lo", 2); /* no NUL: not a string */
	CHECK_INT(nl_attrs_parse(buf, 8, tb, IFLA_MAX, &err), ==, 0);
	CHECK(tb[IFLA_IFNAME] != NULL);
	CHECK(nl_attr_str(tb[IFLA_IFNAME]) == NULL);
}
