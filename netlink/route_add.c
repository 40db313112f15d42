#include "route_add.h"

#include <sys/socket.h>

int nl_route_add(struct nl_sock *s, const struct nl_route *r, husk_err *err)
{
	size_t alen = r->family == AF_INET ? 4 : 16;
	struct nl_msg m;
	nl_msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	struct rtmsg *rt = nl_msg_put(&m, sizeof(*rt));
	if (rt) {
		rt->rtm_family = (unsigned char)r->family;
		rt->rtm_dst_len = (unsigned char)r->dst_len;
		rt->rtm_table = RT_TABLE_MAIN;
		rt->rtm_protocol = RTPROT_STATIC;
		rt->rtm_scope = (unsigned char)r->scope;
		rt->rtm_type = RTN_UNICAST;
	}
	if (r->dst)
		nl_msg_attr(&m, RTA_DST, r->dst, alen);
	if (r->gateway)
		nl_msg_attr(&m, RTA_GATEWAY, r->gateway, alen);
	if (r->source)
		nl_msg_attr(&m, RTA_PREFSRC, r->source, alen);
	nl_msg_attr_u32(&m, RTA_OIF, (uint32_t)r->oif);
	if (r->mtu) {
		nl_msg_nest_start(&m, RTA_METRICS);
		nl_msg_attr_u32(&m, RTAX_MTU, r->mtu);
		nl_msg_nest_end(&m);
	}
	return nl_request(s, &m, err);
}
