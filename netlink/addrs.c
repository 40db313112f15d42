#include "addrs.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

size_t nl_family_len(uint8_t family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int nl_addrs_add(const struct nlmsghdr *h, void *addrs, husk_err *err)
{
	struct nl_addrs *out = addrs;
	const struct rtattr *tb[IFA_MAX + 1];
	if (h->nlmsg_type != RTM_NEWADDR)
		return 0;
	if (nl_msg_attrs(h, sizeof(struct ifaddrmsg), tb, IFA_MAX, err) < 0)
		return -1;
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	size_t len = nl_family_len(ifa->ifa_family);
	/* IFA_LOCAL is the address itself; IFA_ADDRESS the peer's on point-to-point links */
	const struct rtattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!len)
		return 0;
	if (!a || nl_attr_len(a) != len || ifa->ifa_prefixlen > len * 8)
		return husk_error_set(err, 0, "netlink: address on link %u: malformed",
		                      ifa->ifa_index);
	if (out->n == NL_ADDRS_MAX)
		return husk_error_set(err, E2BIG, "more than %d addresses", NL_ADDRS_MAX);
	struct nl_addr *o = &out->v[out->n++];
	*o = (struct nl_addr){.index = ifa->ifa_index,
	                      .family = ifa->ifa_family,
	                      .prefix = ifa->ifa_prefixlen,
	                      .scope = ifa->ifa_scope};
	memcpy(o->addr, nl_attr_data(a), len);
	return 0;
}

int nl_addrs_dump(struct nl_sock *s, struct nl_addrs *out, husk_err *err)
{
	out->n = 0;
	return nl_dump_all(s, RTM_GETADDR, sizeof(struct ifaddrmsg), nl_addrs_add, out, err);
}
