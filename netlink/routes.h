/*
 * The routes of the main table a guest needs to be told: unicast ones not made by the kernel
 * from an address (RTPROT_KERNEL: the guest's kernel makes those itself). Bounded.
 */
#ifndef HUSK_NETLINK_ROUTES_H
#define HUSK_NETLINK_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "nlmsg.h"

#define NL_ROUTES_MAX 128

struct nl_route {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t dst_len;
	uint8_t scope;
	uint8_t dst[16];
	uint8_t gateway[16], source[16];
	bool has_gateway, has_source;
	bool multipath; /* RTA_MULTIPATH: no single device */
	unsigned oif;
	uint32_t mtu; /* RTAX_MTU, 0: the device's */
};

struct nl_routes {
	struct nl_route v[NL_ROUTES_MAX];
	size_t n;
};

/* The dump's callback: adds one RTM_NEWROUTE to routes (an nl_routes) if the guest needs it. */
int nl_routes_add(const struct nlmsghdr *h, void *routes, husk_err *err);
/* Both families' routes. */
int nl_routes_dump(struct nl_sock *s, struct nl_routes *out, husk_err *err);

#endif
