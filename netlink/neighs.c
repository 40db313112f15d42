#include "neighs.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <string.h>

#include "addrs.h"

int nl_neighs_add(const struct nlmsghdr *h, void *neighs, husk_err *err)
{
	struct nl_neighs *out = neighs;
	const struct rtattr *tb[NDA_MAX + 1];
	if (h->nlmsg_type != RTM_NEWNEIGH)
		return 0;
	if (nl_msg_attrs(h, sizeof(struct ndmsg), tb, NDA_MAX, err) < 0)
		return -1;
	const struct ndmsg *nd = NLMSG_DATA(h);
	size_t len = nl_family_len(nd->ndm_family);
	if (!(nd->ndm_state & NUD_PERMANENT) || !len || !tb[NDA_DST] || !tb[NDA_LLADDR])
		return 0;
	if (nl_attr_len(tb[NDA_DST]) != len || nl_attr_len(tb[NDA_LLADDR]) != 6)
		return husk_error_set(err, 0, "netlink: neighbour on link %d: malformed",
		                      nd->ndm_ifindex);
	if (out->n == NL_NEIGHS_MAX)
		return husk_error_set(err, E2BIG, "more than %d permanent neighbours",
		                      NL_NEIGHS_MAX);
	struct nl_neigh *n = &out->v[out->n++];
	*n = (struct nl_neigh){.index = (unsigned)nd->ndm_ifindex, .family = nd->ndm_family};
	memcpy(n->addr, nl_attr_data(tb[NDA_DST]), len);
	memcpy(n->mac, nl_attr_data(tb[NDA_LLADDR]), 6);
	return 0;
}

int nl_neighs_dump(struct nl_sock *s, struct nl_neighs *out, husk_err *err)
{
	out->n = 0;
	return nl_dump_all(s, RTM_GETNEIGH, sizeof(struct ndmsg), nl_neighs_add, out, err);
}
