/* Adding an IP address to a link (RTM_NEWADDR). */
#ifndef HUSK_NETLINK_ADDR_ADD_H
#define HUSK_NETLINK_ADDR_ADD_H

#include <stddef.h>

#include "lib/error.h"
#include "nlmsg.h"

/*
 * Adds addr (4 bytes: IPv4, 16: IPv6) with prefix to link index, replacing the same address
 * if the link has it. IPv6 addresses skip duplicate address detection, so they are usable at
 * once instead of tentative.
 */
int nl_addr_add(struct nl_sock *s, int index, const void *addr, size_t len, unsigned prefix,
                husk_err *err);

#endif
