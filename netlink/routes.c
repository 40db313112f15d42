#include "routes.h"

#include <errno.h>
#include <string.h>

#include "addrs.h"

/* An address attribute of the route's family into out; absent is fine, another length is not. */
static int copy_addr(const struct rtattr *a, size_t len, uint8_t *out, bool *has, husk_err *err)
{
	if (!a)
		return 0;
	if (nl_attr_len(a) != len)
		return husk_error_set(err, 0, "netlink: route: %zu-byte address", nl_attr_len(a));
	memcpy(out, nl_attr_data(a), len);
	if (has)
		*has = true;
	return 0;
}

static int note_mtu(const struct rtattr *metrics, struct nl_route *r, husk_err *err)
{
	const struct rtattr *tb[RTAX_MAX + 1];
	if (!metrics)
		return 0;
	if (nl_attrs_parse(nl_attr_data(metrics), nl_attr_len(metrics), tb, RTAX_MAX, err) < 0)
		return -1;
	if (tb[RTAX_MTU])
		nl_attr_u32(tb[RTAX_MTU], &r->mtu);
	return 0;
}

static bool guest_needs(const struct rtmsg *rtm, const struct rtattr *table)
{
	uint32_t t = rtm->rtm_table;
	if (table)
		nl_attr_u32(table, &t);
	return t == RT_TABLE_MAIN && rtm->rtm_type == RTN_UNICAST &&
	       rtm->rtm_protocol != RTPROT_KERNEL && nl_family_len(rtm->rtm_family);
}

int nl_routes_add(const struct nlmsghdr *h, void *routes, husk_err *err)
{
	struct nl_routes *out = routes;
	const struct rtattr *tb[RTA_MAX + 1];
	if (h->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (nl_msg_attrs(h, sizeof(struct rtmsg), tb, RTA_MAX, err) < 0)
		return -1;
	const struct rtmsg *rtm = NLMSG_DATA(h);
	size_t len = nl_family_len(rtm->rtm_family);
	if (!guest_needs(rtm, tb[RTA_TABLE]))
		return 0;
	if (rtm->rtm_dst_len > len * 8)
		return husk_error_set(err, 0, "netlink: route: prefix /%u", rtm->rtm_dst_len);
	if (out->n == NL_ROUTES_MAX)
		return husk_error_set(err, E2BIG, "more than %d routes", NL_ROUTES_MAX);
	struct nl_route *r = &out->v[out->n];
	*r = (struct nl_route){.family = rtm->rtm_family,
	                       .dst_len = rtm->rtm_dst_len,
	                       .scope = rtm->rtm_scope,
	                       .multipath = tb[RTA_MULTIPATH] != NULL};
	nl_attr_u32(tb[RTA_OIF], &r->oif);
	if (copy_addr(tb[RTA_DST], len, r->dst, NULL, err) < 0 ||
	    copy_addr(tb[RTA_GATEWAY], len, r->gateway, &r->has_gateway, err) < 0 ||
	    copy_addr(tb[RTA_PREFSRC], len, r->source, &r->has_source, err) < 0 ||
	    note_mtu(tb[RTA_METRICS], r, err) < 0)
		return -1;
	out->n++;
	return 0;
}

int nl_routes_dump(struct nl_sock *s, struct nl_routes *out, husk_err *err)
{
	out->n = 0;
	return nl_dump_all(s, RTM_GETROUTE, sizeof(struct rtmsg), nl_routes_add, out, err);
}
