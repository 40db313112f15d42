/* A tap device in the current network namespace, alive while its fd is open (never persistent). */
#ifndef HUSK_NETLINK_TAP_H
#define HUSK_NETLINK_TAP_H

#include "lib/error.h"

/* Opens /dev/net/tun as the tap name (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR); returns its fd. */
int tap_open(const char *name, husk_err *err);
/* Can /dev/net/tun be opened? 0, or -1 with *err saying why. */
int tap_probe(husk_err *err);

#endif
