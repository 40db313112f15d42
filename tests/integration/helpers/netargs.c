#include "netargs.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"

static int parse_mac(struct netargs *a, const char *text, ProtobufCBinaryData *out, husk_err *err)
{
	uint8_t *m = a->macs[a->nmacs];
	int end = 0;
	if (a->nmacs == ARRAY_SIZE(a->macs) ||
	    sscanf(text, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx%n", &m[0], &m[1], &m[2], &m[3], &m[4],
	           &m[5], &end) != 6 ||
	    text[end])
		return husk_error_set(err, 0, "bad MAC %s", text);
	a->nmacs++;
	*out = (ProtobufCBinaryData){.len = 6, .data = m};
	return 0;
}

static int parse_ip(struct netargs *a, const char *text, ProtobufCBinaryData *out, husk_err *err)
{
	uint8_t *ip = a->ips[a->nips];
	if (a->nips == ARRAY_SIZE(a->ips))
		return husk_error_set(err, 0, "too many addresses");
	if (inet_pton(AF_INET, text, ip) == 1)
		*out = (ProtobufCBinaryData){.len = 4, .data = ip};
	else if (inet_pton(AF_INET6, text, ip) == 1)
		*out = (ProtobufCBinaryData){.len = 16, .data = ip};
	else
		return husk_error_set(err, 0, "bad address %s", text);
	a->nips++;
	return 0;
}

/* ADDRESS/PREFIX */
static int parse_prefixed(struct netargs *a, char *text, ProtobufCBinaryData *ip, uint32_t *prefix,
                          husk_err *err)
{
	char *slash = strchr(text, '/');
	if (!slash)
		return husk_error_set(err, 0, "%s: no /PREFIX", text);
	*slash = '\0';
	*prefix = (uint32_t)strtoul(slash + 1, NULL, 10);
	return parse_ip(a, text, ip, err);
}

static int parse_interface(struct netargs *a, char *spec, husk_err *err)
{
	size_t i = a->req.n_interfaces;
	char *save, *name = strtok_r(spec, ",", &save), *mac = strtok_r(NULL, ",", &save),
	            *mtu = strtok_r(NULL, ",", &save);
	if (i == NETARGS_MAX || !mtu)
		return husk_error_set(err, 0, "if=NAME,MAC,MTU[,noarp][,ADDRESS/PREFIX...]");
	Husk__Agent__V1__Interface *f = &a->ifc[i];
	husk__agent__v1__interface__init(f);
	f->name = name;
	f->mtu = (uint32_t)strtoul(mtu, NULL, 10);
	f->addresses = a->addrs[i];
	if (parse_mac(a, mac, &f->mac, err) < 0)
		return -1;
	for (char *t; (t = strtok_r(NULL, ",", &save));) {
		if (strcmp(t, "noarp") == 0) {
			f->noarp = 1;
			continue;
		}
		if (f->n_addresses == NETARGS_MAX)
			return husk_error_set(err, 0, "too many addresses on %s", name);
		Husk__Agent__V1__IpAddress *ad = &a->addr[i][f->n_addresses];
		husk__agent__v1__ip_address__init(ad);
		if (parse_prefixed(a, t, &ad->address, &ad->prefix_length, err) < 0)
			return -1;
		a->addrs[i][f->n_addresses++] = ad;
	}
	a->ifcs[a->req.n_interfaces++] = f;
	return 0;
}

static int parse_route_option(struct netargs *a, Husk__Agent__V1__Route *r, char *t, husk_err *err)
{
	if (strncmp(t, "via=", 4) == 0)
		return parse_ip(a, t + 4, &r->gateway, err);
	if (strncmp(t, "src=", 4) == 0)
		return parse_ip(a, t + 4, &r->source, err);
	if (strncmp(t, "scope=", 6) == 0)
		r->scope = (uint32_t)strtoul(t + 6, NULL, 10);
	else if (strncmp(t, "mtu=", 4) == 0)
		r->mtu = (uint32_t)strtoul(t + 4, NULL, 10);
	else
		return husk_error_set(err, 0, "unknown route option %s", t);
	return 0;
}

static int parse_route(struct netargs *a, char *spec, husk_err *err)
{
	char *save, *dst = strtok_r(spec, ",", &save), *dev = strtok_r(NULL, ",", &save);
	if (a->req.n_routes == NETARGS_MAX || !dev)
		return husk_error_set(err, 0,
		                      "route=DESTINATION/PREFIX|default|default6,DEVICE,...");
	Husk__Agent__V1__Route *r = &a->route[a->req.n_routes];
	husk__agent__v1__route__init(r);
	r->device = dev;
	r->family = strcmp(dst, "default6") == 0 ? AF_INET6 : AF_INET;
	if (strncmp(dst, "default", 7) != 0 &&
	    parse_prefixed(a, dst, &r->destination, &r->destination_prefix, err) < 0)
		return -1;
	for (char *t; (t = strtok_r(NULL, ",", &save));)
		if (parse_route_option(a, r, t, err) < 0)
			return -1;
	if (r->destination.len == 16 || r->gateway.len == 16)
		r->family = AF_INET6;
	a->routes[a->req.n_routes++] = r;
	return 0;
}

static int parse_neighbor(struct netargs *a, char *spec, husk_err *err)
{
	char *save, *ip = strtok_r(spec, ",", &save), *mac = strtok_r(NULL, ",", &save),
	            *dev = strtok_r(NULL, ",", &save);
	if (a->req.n_neighbors == NETARGS_MAX || !dev)
		return husk_error_set(err, 0, "neigh=ADDRESS,MAC,DEVICE");
	Husk__Agent__V1__Neighbor *n = &a->neigh[a->req.n_neighbors];
	husk__agent__v1__neighbor__init(n);
	n->device = dev;
	if (parse_ip(a, ip, &n->address, err) < 0 || parse_mac(a, mac, &n->mac, err) < 0)
		return -1;
	a->neighs[a->req.n_neighbors++] = n;
	return 0;
}

int netargs_parse(char **argv, struct netargs *a, husk_err *err)
{
	memset(a, 0, sizeof(*a));
	husk__agent__v1__setup_network_request__init(&a->req);
	a->req.interfaces = a->ifcs;
	a->req.routes = a->routes;
	a->req.neighbors = a->neighs;
	for (; *argv; argv++) {
		int r;
		if (strncmp(*argv, "if=", 3) == 0)
			r = parse_interface(a, *argv + 3, err);
		else if (strncmp(*argv, "route=", 6) == 0)
			r = parse_route(a, *argv + 6, err);
		else if (strncmp(*argv, "neigh=", 6) == 0)
			r = parse_neighbor(a, *argv + 6, err);
		else
			r = husk_error_set(err, 0, "unknown item %s", *argv);
		if (r < 0)
			return -1;
	}
	return 0;
}
