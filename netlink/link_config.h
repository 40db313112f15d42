/* Changes to an existing link: its name, MTU and flags (RTM_NEWLINK without NLM_F_CREATE). */
#ifndef HUSK_NETLINK_LINK_CONFIG_H
#define HUSK_NETLINK_LINK_CONFIG_H

#include <stdint.h>

#include "lib/error.h"
#include "nlmsg.h"

struct nl_link_change {
	int index;              /* 0: the link called name */
	const char *name;       /* with an index: the link's new name; NULL keeps it */
	uint32_t mtu;           /* 0 keeps it */
	unsigned flags, change; /* IFF_* values, and the mask of the flags to set to them */
};

/* The kernel refuses a rename of a link that is up (EBUSY): set it down first. */
int nl_link_change(struct nl_sock *s, const struct nl_link_change *c, husk_err *err);

#endif
