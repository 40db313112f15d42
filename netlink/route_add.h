/* Adding a route to the main table (RTM_NEWROUTE). */
#ifndef HUSK_NETLINK_ROUTE_ADD_H
#define HUSK_NETLINK_ROUTE_ADD_H

#include <stdint.h>

#include "lib/error.h"
#include "nlmsg.h"

/* Addresses are of family's size (4 bytes for AF_INET, 16 for AF_INET6). */
struct nl_route {
	int family;
	const void *dst; /* NULL with dst_len 0: the default route */
	unsigned dst_len;
	const void *gateway; /* NULL: none (a link route) */
	const void *source;  /* RTA_PREFSRC, NULL: none */
	int oif;             /* the output link's index */
	unsigned scope;      /* RT_SCOPE_* */
	uint32_t mtu;        /* RTAX_MTU, 0: the link's */
};

/*
 * Adds r as a unicast static route, replacing one with the same key (destination, metric) in
 * the main table: the kernel's own prefix route of an address, say.
 */
int nl_route_add(struct nl_sock *s, const struct nl_route *r, husk_err *err);

#endif
