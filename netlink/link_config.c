#include "link_config.h"

int nl_link_change(struct nl_sock *s, const struct nl_link_change *c, husk_err *err)
{
	struct nl_msg m;
	nl_msg_init(&m, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = nl_msg_put(&m, sizeof(*ifi));
	if (ifi) {
		ifi->ifi_index = c->index;
		ifi->ifi_flags = c->flags;
		ifi->ifi_change = c->change;
	}
	if (c->name)
		nl_msg_attr_str(&m, IFLA_IFNAME, c->name);
	if (c->mtu)
		nl_msg_attr_u32(&m, IFLA_MTU, c->mtu);
	return nl_request(s, &m, err);
}
