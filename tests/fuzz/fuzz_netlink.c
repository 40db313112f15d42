/* Netlink replies as untrusted bytes: messages, family headers, attributes and nests. */
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "netlink/addrs.h"
#include "netlink/links.h"
#include "netlink/neighs.h"
#include "netlink/nlmsg.h"
#include "netlink/routes.h"

static struct nl_links links;
static struct nl_addrs addrs;
static struct nl_routes routes;
static struct nl_neighs neighs;

/* The host's dump parsers, each fed every message (they skip types not theirs). */
static void parse_dumps(const struct nlmsghdr *h)
{
	static const nl_msg_cb parsers[] = {nl_links_add, nl_addrs_add, nl_routes_add,
	                                    nl_neighs_add};
	void *outs[] = {&links, &addrs, &routes, &neighs};
	for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
		husk_err err = NULL;
		parsers[i](h, outs[i], &err);
		husk_error_free(&err);
	}
}

static int parse_one(const struct nlmsghdr *h, void *data, husk_err *err)
{
	const struct rtattr *tb[NL_ATTRS_MAX + 1], *inner[NL_ATTRS_MAX + 1];
	size_t hdrlen = h->nlmsg_type == RTM_NEWLINK   ? sizeof(struct ifinfomsg)
	                : h->nlmsg_type == RTM_NEWADDR ? sizeof(struct ifaddrmsg)
	                                               : sizeof(struct rtmsg);
	parse_dumps(h);
	if (nl_msg_attrs(h, hdrlen, tb, NL_ATTRS_MAX, err) < 0)
		return -1;
	for (size_t i = 0; i <= NL_ATTRS_MAX; i++) {
		uint32_t v;
		if (!tb[i])
			continue;
		nl_attr_str(tb[i]);
		nl_attr_u32(tb[i], &v);
		if (nl_attrs_parse(nl_attr_data(tb[i]), nl_attr_len(tb[i]), inner, NL_ATTRS_MAX,
		                   err) < 0)
			husk_error_free(err);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	husk_err err = NULL;
	links.n = addrs.n = routes.n = neighs.n = 0;
	uint32_t seq = size >= 12 ? (uint32_t)data[8] | (uint32_t)data[9] << 8 |
	                                (uint32_t)data[10] << 16 | (uint32_t)data[11] << 24
	                          : 0;
	nl_walk(data, size, seq, parse_one, NULL, &err);
	husk_error_free(&err);
	return 0;
}
