/*
 * What a pod's network namespace holds, read in one go, and the SetupNetworkRequest made from
 * it for the interfaces attached: their addresses (but link-local ones: the guest's kernel
 * makes its own from the same MAC), the routes through them, their permanent neighbours.
 */
#ifndef HUSK_PODNET_MSG_H
#define HUSK_PODNET_MSG_H

#include <stdbool.h>

#include "lib/error.h"
#include "netlink/addrs.h"
#include "netlink/links.h"
#include "netlink/neighs.h"
#include "netlink/routes.h"
#include "hypervisor/qemu/qemu.h"
#include "proto/agent.pb-c.h"

/* a NIC per interface attached */
#define PODNET_IFACES_MAX QEMU_NICS_MAX

struct podnet_dump {
	struct nl_links links;
	struct nl_addrs addrs;
	struct nl_routes routes;
	struct nl_neighs neighs;
};

/* The request and everything it points at (bytes into the dump it was built from). */
struct podnet_msg {
	Husk__Agent__V1__SetupNetworkRequest req;
	Husk__Agent__V1__Interface ifaces[PODNET_IFACES_MAX], *ifacep[PODNET_IFACES_MAX];
	Husk__Agent__V1__IpAddress addrs[NL_ADDRS_MAX], *addrp[NL_ADDRS_MAX];
	Husk__Agent__V1__Route routes[NL_ROUTES_MAX], *routep[NL_ROUTES_MAX];
	Husk__Agent__V1__Neighbor neighs[NL_NEIGHS_MAX], *neighp[NL_NEIGHS_MAX];
};

int podnet_dump_read(struct nl_sock *s, struct podnet_dump *d, husk_err *err);
/* Has the link an address the guest is told? */
bool podnet_has_address(const struct podnet_dump *d, unsigned index);
/* The request for links[0..n) (checked, to be attached); d must outlive m. */
int podnet_msg_build(struct podnet_msg *m, const struct podnet_dump *d, const struct nl_link *links,
                     size_t n, husk_err *err);

#endif
