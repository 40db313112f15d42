#include "request.h"

#include <ctype.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include "proto/agent.pb-c.h"
#include "lib/cleanup.h"
#include "oci/ocispec.h"

int request_valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > SPEC_MAX_ID || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int check_container(const char *id, husk_err *err)
{
	if (!request_valid_id(id))
		return husk_error_set(err, 0, "invalid container id \"%.80s\"", id);
	return 0;
}

/* exec_id "" names the container's init process */
static int check_process(const char *cid, const char *eid, husk_err *err)
{
	if (check_container(cid, err) < 0)
		return -1;
	if (eid[0] && !request_valid_id(eid))
		return husk_error_set(err, 0, "invalid exec id \"%.80s\"", eid);
	return 0;
}

static int check_none(const ProtobufCMessage *m, husk_err *err)
{
	return 0;
}

static int share_mounts(const Husk__Agent__V1__CreateContainerRequest *r, struct spec *s,
                        husk_err *err)
{
	for (size_t i = 0; i < r->n_shared_mounts; i++) {
		const Husk__Agent__V1__SharedMount *m = r->shared_mounts[i];
		if (!request_valid_id(m->tag))
			return husk_error_set(err, 0, "shared_mounts[%zu]: invalid tag \"%.80s\"",
			                      i, m->tag);
		if (spec_share_mount(s, m->index, m->tag, err) < 0)
			return husk_error_prefix(err, "shared_mounts[%zu]", i);
	}
	return spec_check_shared(s, err);
}

int request_create_spec(const Husk__Agent__V1__CreateContainerRequest *r, struct spec *s,
                        husk_err *err)
{
	if (spec_parse((const char *)r->oci_spec_json.data, r->oci_spec_json.len, s, err) < 0)
		return husk_error_prefix(err, "spec");
	if (share_mounts(r, s, err) < 0) {
		spec_free(s);
		return -1;
	}
	return 0;
}

static int check_create(const ProtobufCMessage *m, husk_err *err)
{
	const Husk__Agent__V1__CreateContainerRequest *r = (const void *)m;
	struct spec s;
	if (check_container(r->container_id, err) < 0)
		return -1;
	if (!request_valid_id(r->rootfs_tag))
		return husk_error_set(err, 0, "invalid rootfs tag \"%.80s\"", r->rootfs_tag);
	if (request_create_spec(r, &s, err) < 0)
		return -1;
	spec_free(&s);
	return 0;
}

static int check_container_req(const ProtobufCMessage *m, husk_err *err)
{
	return check_container(((const Husk__Agent__V1__ContainerRequest *)m)->container_id, err);
}

static int check_exec(const ProtobufCMessage *m, husk_err *err)
{
	const Husk__Agent__V1__ExecProcessRequest *r = (const void *)m;
	struct spec_process p;
	if (check_process(r->container_id, r->exec_id, err) < 0)
		return -1;
	if (!r->exec_id[0])
		return husk_error_set(err, 0, "exec id missing");
	if (spec_parse_process((const char *)r->process_json.data, r->process_json.len, &p, err))
		return husk_error_prefix(err, "process");
	spec_process_free(&p);
	return 0;
}

static int check_process_req(const ProtobufCMessage *m, husk_err *err)
{
	const Husk__Agent__V1__ProcessRequest *r = (const void *)m;
	return check_process(r->container_id, r->exec_id, err);
}

static int check_signal(const ProtobufCMessage *m, husk_err *err)
{
	const Husk__Agent__V1__SignalProcessRequest *r = (const void *)m;
	if (r->signal < 1 || r->signal > 64)
		return husk_error_set(err, 0, "invalid signal %u", r->signal);
	return check_process(r->container_id, r->exec_id, err);
}

static int check_write(const ProtobufCMessage *m, husk_err *err)
{
	const Husk__Agent__V1__WriteStdinRequest *r = (const void *)m;
	if (r->data.len > AGENT_MAX_IO)
		return husk_error_set(err, 0, "stdin write of %zu bytes: more than 1 MiB",
		                      r->data.len);
	return check_process(r->container_id, r->exec_id, err);
}

static int check_read(const ProtobufCMessage *m, husk_err *err)
{
	const Husk__Agent__V1__ReadStreamRequest *r = (const void *)m;
	if (r->max_bytes > AGENT_MAX_IO)
		return husk_error_set(err, 0, "read of %u bytes: more than 1 MiB", r->max_bytes);
	return check_process(r->container_id, r->exec_id, err);
}

static int check_update(const ProtobufCMessage *m, husk_err *err)
{
	const Husk__Agent__V1__UpdateContainerRequest *r = (const void *)m;
	struct spec_resources res;
	if (check_container(r->container_id, err) < 0)
		return -1;
	if (spec_parse_resources((const char *)r->resources_json.data, r->resources_json.len, &res,
	                         err) < 0)
		return husk_error_prefix(err, "resources");
	return 0;
}

static int check_resize(const ProtobufCMessage *m, husk_err *err)
{
	const Husk__Agent__V1__ResizePtyRequest *r = (const void *)m;
	if (r->width > 0xffff || r->height > 0xffff)
		return husk_error_set(err, 0, "window size %ux%u: out of range", r->width,
		                      r->height);
	return check_process(r->container_id, r->exec_id, err);
}

/* As the kernel's dev_valid_name: 1..15 bytes, no '/', ':' or whitespace, not "." or "..". */
static int valid_ifname(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (const char *c = name; *c; c++)
		if (*c == '/' || *c == ':' || isspace((unsigned char)*c))
			return 0;
	return 1;
}

static int check_mtu(uint32_t mtu, const char *field, size_t i, husk_err *err)
{
	if (mtu < NET_MIN_MTU || mtu > NET_MAX_MTU)
		return husk_error_set(err, 0, "%s[%zu].mtu: %u out of range", field, i, mtu);
	return 0;
}

/* An IP address: 4 (IPv4) or 16 (IPv6) bytes. */
static int valid_ip_len(size_t len)
{
	return len == 4 || len == 16;
}

static int check_address(const Husk__Agent__V1__IpAddress *a, size_t i, size_t j, husk_err *err)
{
	if (!valid_ip_len(a->address.len))
		return husk_error_set(err, 0,
		                      "interfaces[%zu].addresses[%zu]: %zu bytes, not 4 or 16", i,
		                      j, a->address.len);
	if (a->prefix_length > a->address.len * 8)
		return husk_error_set(err, 0,
		                      "interfaces[%zu].addresses[%zu].prefix_length: %u out "
		                      "of range",
		                      i, j, a->prefix_length);
	return 0;
}

static int check_mac(const ProtobufCBinaryData *mac, const char *field, size_t i, husk_err *err)
{
	static const uint8_t zero[6];
	if (mac->len != 6)
		return husk_error_set(err, 0, "%s[%zu].mac: %zu bytes, not 6", field, i, mac->len);
	if ((mac->data[0] & 1) || memcmp(mac->data, zero, 6) == 0)
		return husk_error_set(err, 0, "%s[%zu].mac: not a unicast address", field, i);
	return 0;
}

/* Whether interfaces[0..n) has one called name (or, with mac, one with that MAC). */
static int has_interface(Husk__Agent__V1__Interface *const *ifs, size_t n, const char *name,
                         const ProtobufCBinaryData *mac)
{
	for (size_t i = 0; i < n; i++)
		if (mac ? memcmp(ifs[i]->mac.data, mac->data, 6) == 0
		        : strcmp(ifs[i]->name, name) == 0)
			return 1;
	return 0;
}

static int check_interface(Husk__Agent__V1__Interface *const *ifs, size_t i, husk_err *err)
{
	const Husk__Agent__V1__Interface *f = ifs[i];
	if (!valid_ifname(f->name) || strcmp(f->name, "lo") == 0)
		return husk_error_set(err, 0, "interfaces[%zu].name: invalid \"%.80s\"", i,
		                      f->name);
	if (has_interface(ifs, i, f->name, NULL))
		return husk_error_set(err, 0, "interfaces[%zu].name: %s given twice", i, f->name);
	if (check_mac(&f->mac, "interfaces", i, err) < 0)
		return -1;
	if (has_interface(ifs, i, NULL, &f->mac))
		return husk_error_set(err, 0, "interfaces[%zu].mac: given twice", i);
	if (check_mtu(f->mtu, "interfaces", i, err) < 0)
		return -1;
	if (f->n_addresses > NET_MAX_ADDRESSES)
		return husk_error_set(err, 0, "interfaces[%zu].addresses: more than %d", i,
		                      NET_MAX_ADDRESSES);
	for (size_t j = 0; j < f->n_addresses; j++)
		if (check_address(f->addresses[j], i, j, err) < 0)
			return -1;
	return 0;
}

/* A route's address field: empty when it may be, else of the family's size. */
static int check_route_ip(const ProtobufCBinaryData *a, size_t want, const char *field, size_t i,
                          husk_err *err)
{
	if (a->len && a->len != want)
		return husk_error_set(err, 0, "routes[%zu].%s: %zu bytes, the family's are %zu", i,
		                      field, a->len, want);
	return 0;
}

static int valid_scope(uint32_t scope)
{
	return scope == RT_SCOPE_UNIVERSE || scope == RT_SCOPE_SITE || scope == RT_SCOPE_LINK ||
	       scope == RT_SCOPE_HOST || scope == RT_SCOPE_NOWHERE;
}

static int check_route(const Husk__Agent__V1__SetupNetworkRequest *r, size_t i, husk_err *err)
{
	const Husk__Agent__V1__Route *rt = r->routes[i];
	if (rt->family != AF_INET && rt->family != AF_INET6)
		return husk_error_set(err, 0, "routes[%zu].family: %u is not AF_INET or AF_INET6",
		                      i, rt->family);
	size_t alen = rt->family == AF_INET ? 4 : 16;
	if (check_route_ip(&rt->destination, alen, "destination", i, err) < 0 ||
	    check_route_ip(&rt->gateway, alen, "gateway", i, err) < 0 ||
	    check_route_ip(&rt->source, alen, "source", i, err) < 0)
		return -1;
	if (rt->destination_prefix > (rt->destination.len ? alen * 8 : 0))
		return husk_error_set(err, 0, "routes[%zu].destination_prefix: %u out of range", i,
		                      rt->destination_prefix);
	if (!has_interface(r->interfaces, r->n_interfaces, rt->device, NULL))
		return husk_error_set(err, 0,
		                      "routes[%zu].device: \"%.80s\" is no interface of "
		                      "the request",
		                      i, rt->device);
	if (!valid_scope(rt->scope))
		return husk_error_set(err, 0, "routes[%zu].scope: %u is no RT_SCOPE_*", i,
		                      rt->scope);
	return rt->mtu ? check_mtu(rt->mtu, "routes", i, err) : 0;
}

static int check_neighbor(const Husk__Agent__V1__SetupNetworkRequest *r, size_t i, husk_err *err)
{
	const Husk__Agent__V1__Neighbor *n = r->neighbors[i];
	if (!valid_ip_len(n->address.len))
		return husk_error_set(err, 0, "neighbors[%zu].address: %zu bytes, not 4 or 16", i,
		                      n->address.len);
	if (check_mac(&n->mac, "neighbors", i, err) < 0)
		return -1;
	if (!has_interface(r->interfaces, r->n_interfaces, n->device, NULL))
		return husk_error_set(err, 0,
		                      "neighbors[%zu].device: \"%.80s\" is no interface of "
		                      "the request",
		                      i, n->device);
	return 0;
}

static int check_setup_network(const ProtobufCMessage *m, husk_err *err)
{
	const Husk__Agent__V1__SetupNetworkRequest *r = (const void *)m;
	if (r->n_interfaces > NET_MAX_INTERFACES || r->n_routes > NET_MAX_ROUTES ||
	    r->n_neighbors > NET_MAX_NEIGHBORS)
		return husk_error_set(err, 0, "more than %d interfaces, %d routes or %d neighbors",
		                      NET_MAX_INTERFACES, NET_MAX_ROUTES, NET_MAX_NEIGHBORS);
	for (size_t i = 0; i < r->n_interfaces; i++)
		if (check_interface(r->interfaces, i, err) < 0)
			return -1;
	for (size_t i = 0; i < r->n_routes; i++)
		if (check_route(r, i, err) < 0)
			return -1;
	for (size_t i = 0; i < r->n_neighbors; i++)
		if (check_neighbor(r, i, err) < 0)
			return -1;
	return 0;
}

static int check_start_dns_relay(const ProtobufCMessage *m, husk_err *err)
{
	const Husk__Agent__V1__StartDnsRelayRequest *r = (const void *)m;
	if (r->address.len != 4 || r->address.data[0] != 127)
		return husk_error_set(err, 0, "address: not an IPv4 loopback address");
	return 0;
}

static int check_dns_answer(const ProtobufCMessage *m, husk_err *err)
{
	const Husk__Agent__V1__DnsMessage *r = (const void *)m;
	if (r->data.len < DNS_MESSAGE_MIN || r->data.len > DNS_MESSAGE_MAX)
		return husk_error_set(err, 0, "data: %zu bytes, not %d to %d", r->data.len,
		                      DNS_MESSAGE_MIN, DNS_MESSAGE_MAX);
	return 0;
}

struct request_type {
	const char *method;
	const ProtobufCMessageDescriptor *desc;
	int (*check)(const ProtobufCMessage *m, husk_err *err);
};

static const struct request_type request_types[] = {
    {"Health", &husk__agent__v1__health_request__descriptor, check_none},
    {"CreateContainer", &husk__agent__v1__create_container_request__descriptor, check_create},
    {"StartContainer", &husk__agent__v1__container_request__descriptor, check_container_req},
    {"ExecProcess", &husk__agent__v1__exec_process_request__descriptor, check_exec},
    {"SignalProcess", &husk__agent__v1__signal_process_request__descriptor, check_signal},
    {"WaitProcess", &husk__agent__v1__process_request__descriptor, check_process_req},
    {"WriteStdin", &husk__agent__v1__write_stdin_request__descriptor, check_write},
    {"CloseStdin", &husk__agent__v1__process_request__descriptor, check_process_req},
    {"ReadStdout", &husk__agent__v1__read_stream_request__descriptor, check_read},
    {"ReadStderr", &husk__agent__v1__read_stream_request__descriptor, check_read},
    {"RemoveContainer", &husk__agent__v1__container_request__descriptor, check_container_req},
    {"DestroySandbox", &husk__agent__v1__empty__descriptor, check_none},
    {"GetOOMEvent", &husk__agent__v1__empty__descriptor, check_none},
    {"UpdateContainer", &husk__agent__v1__update_container_request__descriptor, check_update},
    {"StatsContainer", &husk__agent__v1__container_request__descriptor, check_container_req},
    {"ResizePty", &husk__agent__v1__resize_pty_request__descriptor, check_resize},
    {"ListProcesses", &husk__agent__v1__container_request__descriptor, check_container_req},
    {"PauseContainer", &husk__agent__v1__container_request__descriptor, check_container_req},
    {"ResumeContainer", &husk__agent__v1__container_request__descriptor, check_container_req},
    {"SetupNetwork", &husk__agent__v1__setup_network_request__descriptor, check_setup_network},
    {"StartDnsRelay", &husk__agent__v1__start_dns_relay_request__descriptor, check_start_dns_relay},
    {"ReadDnsQuery", &husk__agent__v1__empty__descriptor, check_none},
    {"WriteDnsAnswer", &husk__agent__v1__dns_message__descriptor, check_dns_answer},
    {"GuestStats", &husk__agent__v1__empty__descriptor, check_none},
};

static const struct request_type *find_type(const char *method)
{
	for (size_t i = 0; i < ARRAY_SIZE(request_types); i++)
		if (strcmp(request_types[i].method, method) == 0)
			return &request_types[i];
	return NULL;
}

const ProtobufCMessageDescriptor *request_descriptor(const char *method)
{
	const struct request_type *t = find_type(method);
	return t ? t->desc : NULL;
}

ProtobufCMessage *request_decode(const char *method, const uint8_t *payload, size_t len,
                                 husk_err *err)
{
	const struct request_type *t = find_type(method);
	if (!t) {
		husk_error_set(err, 0, "unknown method %.64s", method);
		return NULL;
	}
	if (len > AGENT_MAX_SPEC + 4096) {
		husk_error_set(err, 0, "%s: request of %zu bytes is too large", method, len);
		return NULL;
	}
	ProtobufCMessage *m = protobuf_c_message_unpack(t->desc, NULL, len, payload);
	if (!m) {
		husk_error_set(err, 0, "%s: malformed request", method);
		return NULL;
	}
	if (t->check(m, err) < 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		husk_error_prefix(err, "%s", method);
		return NULL;
	}
	return m;
}
