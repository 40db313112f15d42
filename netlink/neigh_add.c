#include "neigh_add.h"

#include <linux/neighbour.h>
#include <sys/socket.h>

int nl_neigh_add(struct nl_sock *s, int index, const void *addr, size_t len, const uint8_t mac[6],
                 husk_err *err)
{
	struct nl_msg m;
	nl_msg_init(&m, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
	struct ndmsg *nd = nl_msg_put(&m, sizeof(*nd));
	if (nd) {
		nd->ndm_family = len == 4 ? AF_INET : AF_INET6;
		nd->ndm_ifindex = index;
		nd->ndm_state = NUD_PERMANENT;
	}
	nl_msg_attr(&m, NDA_DST, addr, len);
	nl_msg_attr(&m, NDA_LLADDR, mac, 6);
	return nl_request(s, &m, err);
}
