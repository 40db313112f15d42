#include "network.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "netlink/addr_add.h"
#include "netlink/link_config.h"
#include "netlink/link_lookup.h"
#include "netlink/neigh_add.h"
#include "netlink/route_add.h"
#include "request.h"

typedef Husk__Agent__V1__SetupNetworkRequest setup_request;

/* The links the request's interfaces were found as, by position. */
struct links {
	int index[NET_MAX_INTERFACES];
};

static void close_sock(struct nl_sock *s)
{
	nl_close(s);
}
#define cleanup_nl_sock __attribute__((cleanup(close_sock)))

static const char *ip_str(const ProtobufCBinaryData *a, char buf[INET6_ADDRSTRLEN])
{
	if (!inet_ntop(a->len == 4 ? AF_INET : AF_INET6, a->data, buf, INET6_ADDRSTRLEN))
		snprintf(buf, INET6_ADDRSTRLEN, "?");
	return buf;
}

static int set_flags(struct nl_sock *s, int index, unsigned flags, unsigned change, husk_err *err)
{
	struct nl_link_change c = {.index = index, .flags = flags, .change = change};
	return nl_link_change(s, &c, err);
}

static int find_link(struct nl_sock *s, const Husk__Agent__V1__Interface *f, int64_t deadline,
                     int *index, husk_err *err)
{
	const uint8_t *m = f->mac.data;
	if (nl_link_wait_mac(s, m, deadline, index, err) < 0)
		return husk_error_prefix(err, "interface %s (%02x:%02x:%02x:%02x:%02x:%02x)",
		                         f->name, m[0], m[1], m[2], m[3], m[4], m[5]);
	return 0;
}

static int add_addresses(struct nl_sock *s, const Husk__Agent__V1__Interface *f, int index,
                         husk_err *err)
{
	char ip[INET6_ADDRSTRLEN];
	for (size_t i = 0; i < f->n_addresses; i++) {
		const Husk__Agent__V1__IpAddress *a = f->addresses[i];
		if (nl_addr_add(s, index, a->address.data, a->address.len, a->prefix_length, err) <
		    0)
			return husk_error_prefix(err, "interface %s: address %s/%u", f->name,
			                         ip_str(&a->address, ip), a->prefix_length);
	}
	return 0;
}

/*
 * Down (the kernel renames only a link that is down) and named for its position, so that no
 * link still holds a name another one is to get (NICs that came up as eth1 and eth0).
 */
static int set_aside(struct nl_sock *s, const Husk__Agent__V1__Interface *f, size_t i, int index,
                     husk_err *err)
{
	char name[32]; /* i < NET_MAX_INTERFACES: fits IFNAMSIZ */
	snprintf(name, sizeof(name), "husknet%zu", i);
	struct nl_link_change c = {.index = index, .name = name};
	if (set_flags(s, index, 0, IFF_UP, err) < 0)
		return husk_error_prefix(err, "interface %s: set down", f->name);
	if (nl_link_change(s, &c, err) < 0)
		return husk_error_prefix(err, "interface %s: rename to %s", f->name, name);
	return 0;
}

static int configure_interface(struct nl_sock *s, const Husk__Agent__V1__Interface *f, int index,
                               husk_err *err)
{
	struct nl_link_change c = {.index = index,
	                           .name = f->name,
	                           .mtu = f->mtu,
	                           .flags = f->noarp ? IFF_NOARP : 0,
	                           .change = IFF_NOARP};
	if (nl_link_change(s, &c, err) < 0)
		return husk_error_prefix(err, "interface %s: rename, MTU %u", f->name, f->mtu);
	if (add_addresses(s, f, index, err) < 0)
		return -1;
	if (set_flags(s, index, IFF_UP, IFF_UP, err) < 0)
		return husk_error_prefix(err, "interface %s: set up", f->name);
	return 0;
}

static int setup_interfaces(struct nl_sock *s, const setup_request *r, int link_timeout_ms,
                            struct links *l, husk_err *err)
{
	int64_t deadline = deadline_after(link_timeout_ms);
	for (size_t i = 0; i < r->n_interfaces; i++)
		if (find_link(s, r->interfaces[i], deadline, &l->index[i], err) < 0)
			return -1;
	for (size_t i = 0; i < r->n_interfaces; i++)
		if (set_aside(s, r->interfaces[i], i, l->index[i], err) < 0)
			return -1;
	for (size_t i = 0; i < r->n_interfaces; i++)
		if (configure_interface(s, r->interfaces[i], l->index[i], err) < 0)
			return -1;
	return 0;
}

/* The index of the interface called name (request_decode made sure there is one). */
static int link_of(const setup_request *r, const struct links *l, const char *name)
{
	for (size_t i = 0; i < r->n_interfaces; i++)
		if (strcmp(r->interfaces[i]->name, name) == 0)
			return l->index[i];
	return 0;
}

static int add_route(struct nl_sock *s, const Husk__Agent__V1__Route *rt, int oif, husk_err *err)
{
	char dst[INET6_ADDRSTRLEN], gw[INET6_ADDRSTRLEN];
	struct nl_route nr = {
	    .family = (int)rt->family,
	    .dst = rt->destination.len ? rt->destination.data : NULL,
	    .dst_len = rt->destination_prefix,
	    .gateway = rt->gateway.len ? rt->gateway.data : NULL,
	    .source = rt->source.len ? rt->source.data : NULL,
	    .oif = oif,
	    .scope = rt->scope,
	    .mtu = rt->mtu,
	};
	if (nl_route_add(s, &nr, err) < 0)
		return husk_error_prefix(err, "route %s/%u%s%s dev %s",
		                         nr.dst ? ip_str(&rt->destination, dst) : "default",
		                         rt->destination_prefix, nr.gateway ? " via " : "",
		                         nr.gateway ? ip_str(&rt->gateway, gw) : "", rt->device);
	return 0;
}

static int add_neighbor(struct nl_sock *s, const Husk__Agent__V1__Neighbor *n, int index,
                        husk_err *err)
{
	char ip[INET6_ADDRSTRLEN];
	if (nl_neigh_add(s, index, n->address.data, n->address.len, n->mac.data, err) < 0)
		return husk_error_prefix(err, "neighbor %s dev %s", ip_str(&n->address, ip),
		                         n->device);
	return 0;
}

static int loopback_up(struct nl_sock *s, husk_err *err)
{
	struct nl_link_change lo = {.name = "lo", .flags = IFF_UP, .change = IFF_UP};
	if (nl_link_change(s, &lo, err) < 0)
		return husk_error_prefix(err, "lo: set up");
	return 0;
}

int network_loopback_up(husk_err *err)
{
	cleanup_nl_sock struct nl_sock s = {.fd = -1};
	return nl_open(&s, err) < 0 ? -1 : loopback_up(&s, err);
}

int network_setup(const setup_request *r, int link_timeout_ms, husk_err *err)
{
	cleanup_nl_sock struct nl_sock s = {.fd = -1};
	struct links l = {0};
	if (nl_open(&s, err) < 0 || loopback_up(&s, err) < 0 ||
	    setup_interfaces(&s, r, link_timeout_ms, &l, err) < 0)
		return -1;
	for (size_t i = 0; i < r->n_routes; i++)
		if (add_route(&s, r->routes[i], link_of(r, &l, r->routes[i]->device), err) < 0)
			return -1;
	for (size_t i = 0; i < r->n_neighbors; i++)
		if (add_neighbor(&s, r->neighbors[i], link_of(r, &l, r->neighbors[i]->device),
		                 err) < 0)
			return -1;
	return 0;
}
