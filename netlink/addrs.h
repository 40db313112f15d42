/* The IPv4 and IPv6 addresses of the current network namespace, bounded. */
#ifndef HUSK_NETLINK_ADDRS_H
#define HUSK_NETLINK_ADDRS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "nlmsg.h"

#define NL_ADDRS_MAX 64

struct nl_addr {
	unsigned index;
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t prefix;
	uint8_t scope; /* RT_SCOPE_* */
	uint8_t addr[16];
};

struct nl_addrs {
	struct nl_addr v[NL_ADDRS_MAX];
	size_t n;
};

/* The dump's callback: adds one RTM_NEWADDR to addrs (an nl_addrs); more than the max fails. */
int nl_addrs_add(const struct nlmsghdr *h, void *addrs, husk_err *err);
int nl_addrs_dump(struct nl_sock *s, struct nl_addrs *out, husk_err *err);
/* Bytes of an address of family: 4, 16, or 0 for another family. */
size_t nl_family_len(uint8_t family);

#endif
