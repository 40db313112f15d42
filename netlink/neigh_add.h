/* Adding a permanent neighbour entry (RTM_NEWNEIGH). */
#ifndef HUSK_NETLINK_NEIGH_ADD_H
#define HUSK_NETLINK_NEIGH_ADD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "nlmsg.h"

/* addr (4 bytes: IPv4, 16: IPv6) is at the 6-byte mac on link index, for good (NUD_PERMANENT). */
int nl_neigh_add(struct nl_sock *s, int index, const void *addr, size_t len, const uint8_t mac[6],
                 husk_err *err);

#endif
