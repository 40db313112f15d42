/* Finding a link by its hardware address, now or once it appears. */
#ifndef HUSK_NETLINK_LINK_LOOKUP_H
#define HUSK_NETLINK_LINK_LOOKUP_H

#include <stdint.h>

#include "lib/error.h"
#include "links.h"
#include "nlmsg.h"

/* *index is the link whose IFLA_ADDRESS is mac, 0 when there is none. */
int nl_link_by_mac(struct nl_sock *s, const uint8_t mac[NL_MAC_LEN], int *index, husk_err *err);
/*
 * The same, waiting for the link to appear (a driver that probes a NIC late) until deadline
 * (lib/clock.h): woken by RTNLGRP_LINK notifications, never polling. ETIMEDOUT after it.
 */
int nl_link_wait_mac(struct nl_sock *s, const uint8_t mac[NL_MAC_LEN], int64_t deadline, int *index,
                     husk_err *err);

#endif
