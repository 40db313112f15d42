#include "podnet_msg.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>

#include "lib/log.h"

int podnet_dump_read(struct nl_sock *s, struct podnet_dump *d, husk_err *err)
{
	if (nl_links_dump(s, &d->links, err) < 0 || nl_addrs_dump(s, &d->addrs, err) < 0 ||
	    nl_routes_dump(s, &d->routes, err) < 0 || nl_neighs_dump(s, &d->neighs, err) < 0)
		return husk_error_prefix(err, "read");
	return 0;
}

static bool for_guest(const struct nl_addr *a)
{
	return a->scope != RT_SCOPE_LINK && a->scope != RT_SCOPE_HOST;
}

bool podnet_has_address(const struct podnet_dump *d, unsigned index)
{
	for (size_t i = 0; i < d->addrs.n; i++)
		if (d->addrs.v[i].index == index && for_guest(&d->addrs.v[i]))
			return true;
	return false;
}

static ProtobufCBinaryData bytes(const uint8_t *p, size_t len)
{
	return (ProtobufCBinaryData){.len = len, .data = (uint8_t *)p};
}

/* links[i]'s index among the attached, or -1 */
static int attached(const struct nl_link *links, size_t n, unsigned index)
{
	for (size_t i = 0; i < n; i++)
		if (links[i].index == index)
			return (int)i;
	return -1;
}

/* The link's addresses go to the slice of addrp after those already used. */
static void add_interface(struct podnet_msg *m, const struct podnet_dump *d,
                          const struct nl_link *l, size_t *naddrs)
{
	Husk__Agent__V1__Interface *f = &m->ifaces[m->req.n_interfaces];
	husk__agent__v1__interface__init(f);
	f->name = (char *)l->name;
	f->mac = bytes(l->mac, 6);
	f->mtu = l->mtu;
	f->noarp = (l->flags & IFF_NOARP) != 0;
	f->addresses = &m->addrp[*naddrs];
	for (size_t i = 0; i < d->addrs.n; i++) {
		const struct nl_addr *a = &d->addrs.v[i];
		if (a->index != l->index || !for_guest(a))
			continue;
		Husk__Agent__V1__IpAddress *ip = &m->addrs[*naddrs];
		husk__agent__v1__ip_address__init(ip);
		ip->address = bytes(a->addr, nl_family_len(a->family));
		ip->prefix_length = a->prefix;
		m->addrp[(*naddrs)++] = ip;
		f->n_addresses++;
	}
	m->ifacep[m->req.n_interfaces++] = f;
}

static void add_route(struct podnet_msg *m, const struct nl_route *r, const char *device)
{
	size_t len = nl_family_len(r->family);
	Husk__Agent__V1__Route *o = &m->routes[m->req.n_routes];
	husk__agent__v1__route__init(o);
	if (r->dst_len)
		o->destination = bytes(r->dst, len);
	o->destination_prefix = r->dst_len;
	if (r->has_gateway)
		o->gateway = bytes(r->gateway, len);
	if (r->has_source)
		o->source = bytes(r->source, len);
	o->device = (char *)device;
	o->scope = r->scope;
	o->mtu = r->mtu;
	o->family = r->family;
	m->routep[m->req.n_routes++] = o;
}

static int add_routes(struct podnet_msg *m, const struct podnet_dump *d,
                      const struct nl_link *links, size_t n, husk_err *err)
{
	for (size_t i = 0; i < d->routes.n; i++) {
		const struct nl_route *r = &d->routes.v[i];
		char dst[INET6_ADDRSTRLEN] = "default";
		if (r->dst_len)
			inet_ntop(r->family, r->dst, dst, sizeof(dst));
		if (r->multipath)
			return husk_error_set(err, 0, "route %s/%u: multipath routes not supported",
			                      dst, r->dst_len);
		int at = attached(links, n, r->oif);
		if (at >= 0)
			add_route(m, r, links[at].name);
		else
			log_debug("route %s/%u: not through an attached interface, skipped", dst,
			          r->dst_len);
	}
	return 0;
}

static void add_neighbours(struct podnet_msg *m, const struct podnet_dump *d,
                           const struct nl_link *links, size_t n)
{
	for (size_t i = 0; i < d->neighs.n; i++) {
		const struct nl_neigh *nb = &d->neighs.v[i];
		int at = attached(links, n, nb->index);
		if (at < 0)
			continue;
		Husk__Agent__V1__Neighbor *o = &m->neighs[m->req.n_neighbors];
		husk__agent__v1__neighbor__init(o);
		o->address = bytes(nb->addr, nl_family_len(nb->family));
		o->mac = bytes(nb->mac, sizeof(nb->mac));
		o->device = (char *)links[at].name;
		m->neighp[m->req.n_neighbors++] = o;
	}
}

int podnet_msg_build(struct podnet_msg *m, const struct podnet_dump *d, const struct nl_link *links,
                     size_t n, husk_err *err)
{
	size_t naddrs = 0;
	husk__agent__v1__setup_network_request__init(&m->req);
	m->req.interfaces = m->ifacep;
	m->req.routes = m->routep;
	m->req.neighbors = m->neighp;
	for (size_t i = 0; i < n; i++)
		add_interface(m, d, &links[i], &naddrs);
	add_neighbours(m, d, links, n);
	return add_routes(m, d, links, n, err);
}
