/* The permanent neighbour entries of the current network namespace (IPv4 and IPv6), bounded. */
#ifndef HUSK_NETLINK_NEIGHS_H
#define HUSK_NETLINK_NEIGHS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "nlmsg.h"

#define NL_NEIGHS_MAX 64

struct nl_neigh {
	unsigned index;
	uint8_t family;
	uint8_t addr[16];
	uint8_t mac[6];
};

struct nl_neighs {
	struct nl_neigh v[NL_NEIGHS_MAX];
	size_t n;
};

/* The dump's callback: adds one permanent RTM_NEWNEIGH with a 6-byte MAC to neighs. */
int nl_neighs_add(const struct nlmsghdr *h, void *neighs, husk_err *err);
int nl_neighs_dump(struct nl_sock *s, struct nl_neighs *out, husk_err *err);

#endif
