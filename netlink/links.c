#include "links.h"

#include <errno.h>
#include <linux/if_link.h>
#include <string.h>

/* A string attribute into a fixed buffer; one that does not fit is refused. */
static int copy_str(const struct rtattr *a, char *out, size_t len, const char *what, husk_err *err)
{
	const char *s = nl_attr_str(a);
	if (!s || strlen(s) >= len)
		return husk_error_set(err, 0, "netlink: link %s: not a string of < %zu bytes", what,
		                      len);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int note_kind(const struct rtattr *linkinfo, struct nl_link *l, husk_err *err)
{
	const struct rtattr *info[IFLA_INFO_MAX + 1];
	if (!linkinfo)
		return 0;
	if (nl_attrs_parse(nl_attr_data(linkinfo), nl_attr_len(linkinfo), info, IFLA_INFO_MAX,
	                   err) < 0)
		return -1;
	return info[IFLA_INFO_KIND]
	           ? copy_str(info[IFLA_INFO_KIND], l->kind, sizeof(l->kind), "kind", err)
	           : 0;
}

int nl_links_add(const struct nlmsghdr *h, void *links, husk_err *err)
{
	struct nl_links *out = links;
	const struct rtattr *tb[IFLA_MAX + 1];
	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (out->n == NL_LINKS_MAX)
		return husk_error_set(err, E2BIG, "more than %d links", NL_LINKS_MAX);
	if (nl_msg_attrs(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, err) < 0)
		return -1;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct nl_link *l = &out->v[out->n];
	*l = (struct nl_link){.index = (unsigned)ifi->ifi_index, .flags = ifi->ifi_flags};
	if (copy_str(tb[IFLA_IFNAME], l->name, sizeof(l->name), "name", err) < 0 ||
	    note_kind(tb[IFLA_LINKINFO], l, err) < 0)
		return -1;
	if (nl_attr_u32(tb[IFLA_MTU], &l->mtu) < 0)
		return husk_error_set(err, 0, "netlink: link %s: no MTU", l->name);
	if (tb[IFLA_ADDRESS]) {
		l->mac_len = nl_attr_len(tb[IFLA_ADDRESS]);
		if (l->mac_len > sizeof(l->mac))
			return husk_error_set(err, 0, "netlink: link %s: %zu-byte address", l->name,
			                      l->mac_len);
		memcpy(l->mac, nl_attr_data(tb[IFLA_ADDRESS]), l->mac_len);
	}
	out->n++;
	return 0;
}

int nl_links_dump(struct nl_sock *s, struct nl_links *out, husk_err *err)
{
	out->n = 0;
	return nl_dump_all(s, RTM_GETLINK, sizeof(struct ifinfomsg), nl_links_add, out, err);
}

const struct nl_link *nl_links_find(const struct nl_links *l, unsigned index)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].index == index)
			return &l->v[i];
	return NULL;
}

int nl_link_set_mtu_up(struct nl_sock *s, unsigned index, uint32_t mtu, husk_err *err)
{
	struct nl_msg m;
	nl_msg_init(&m, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = nl_msg_put(&m, sizeof(*ifi));
	if (ifi) {
		ifi->ifi_index = (int)index;
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	nl_msg_attr_u32(&m, IFLA_MTU, mtu);
	return nl_request(s, &m, err);
}
