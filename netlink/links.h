/* The links of the current network namespace, read with every count and length bounded. */
#ifndef HUSK_NETLINK_LINKS_H
#define HUSK_NETLINK_LINKS_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "nlmsg.h"

#define NL_LINKS_MAX    32
#define NL_LINK_KIND    16
#define NL_LINK_ADDRLEN 32 /* MAX_ADDR_LEN */
#define NL_MAC_LEN      6  /* an Ethernet address */

struct nl_link {
	unsigned index;
	char name[IFNAMSIZ];
	char kind[NL_LINK_KIND]; /* IFLA_INFO_KIND ("veth"), "" for none (lo, physical) */
	uint8_t mac[NL_LINK_ADDRLEN];
	size_t mac_len;
	uint32_t mtu;
	unsigned flags; /* IFF_* */
};

struct nl_links {
	struct nl_link v[NL_LINKS_MAX];
	size_t n;
};

/* The dump's callback: adds one RTM_NEWLINK to links (an nl_links); more than the max fails. */
int nl_links_add(const struct nlmsghdr *h, void *links, husk_err *err);
int nl_links_dump(struct nl_sock *s, struct nl_links *out, husk_err *err);
const struct nl_link *nl_links_find(const struct nl_links *l, unsigned index);
/* Sets a link's MTU and brings it up. */
int nl_link_set_mtu_up(struct nl_sock *s, unsigned index, uint32_t mtu, husk_err *err);

#endif
