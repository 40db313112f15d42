/*
 * agent-client's argument form of a SetupNetworkRequest, one item per argument:
 *   if=NAME,MAC,MTU[,noarp][,ADDRESS/PREFIX...]
 *   route=DESTINATION/PREFIX|default|default6,DEVICE[,via=GATEWAY][,src=SOURCE][,scope=N][,mtu=N]
 *   neigh=ADDRESS,MAC,DEVICE
 * A route's family is its addresses' (default: IPv4, default6: IPv6).
 */
#ifndef HUSK_TESTS_NETARGS_H
#define HUSK_TESTS_NETARGS_H

#include <stdint.h>

#include "proto/agent.pb-c.h"
#include "lib/error.h"

#define NETARGS_MAX 16 /* interfaces, addresses of one, routes, neighbours */

struct netargs {
	Husk__Agent__V1__SetupNetworkRequest req;
	Husk__Agent__V1__Interface ifc[NETARGS_MAX], *ifcs[NETARGS_MAX];
	Husk__Agent__V1__IpAddress addr[NETARGS_MAX][NETARGS_MAX], *addrs[NETARGS_MAX][NETARGS_MAX];
	Husk__Agent__V1__Route route[NETARGS_MAX], *routes[NETARGS_MAX];
	Husk__Agent__V1__Neighbor neigh[NETARGS_MAX], *neighs[NETARGS_MAX];
	/* the bytes the messages point at */
	uint8_t macs[2 * NETARGS_MAX][6];
	uint8_t ips[NETARGS_MAX * NETARGS_MAX + 4 * NETARGS_MAX][16];
	size_t nmacs, nips;
};

/* Fills a->req from the NULL-terminated argv (whose strings it cuts and points into). */
int netargs_parse(char **argv, struct netargs *a, husk_err *err);

#endif
