#include "podnet.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "netlink/addrs.h"
#include "netlink/links.h"
#include "netlink/tap.h"
#include "netlink/tc.h"

#define MTU_MIN 68
#define MTU_MAX 65535

/* The tap side of links[i] */
struct podnet_iface {
	unsigned tap_index;
	int tap_fd, vhost_fd;
	bool link_ingress, tap_ingress; /* the qdiscs attach added, detach deletes */
};

struct podnet {
	char *path;
	int netns_fd;
	int watch_fd; /* link and address notifications of the namespace, or -1 */
	struct nl_link links[PODNET_IFACES_MAX]; /* the interfaces attached */
	struct podnet_iface ifaces[PODNET_IFACES_MAX];
	size_t n;
	struct nl_sock nl;
	struct podnet_dump *dump;
	struct podnet_msg *msg;
};

static const char *const kinds[] = {"veth", "macvlan"};

/* Runs fn inside pn's network namespace; the caller is back in its own on every return. */
static int in_netns(struct podnet *pn, int (*fn)(struct podnet *, husk_err *), husk_err *err)
{
	cleanup_close int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (own < 0)
		return husk_error_set(err, errno, "/proc/self/ns/net");
	if (setns(pn->netns_fd, CLONE_NEWNET) < 0)
		return husk_error_set(err, errno, "enter network namespace %s", pn->path);
	int r = fn(pn, err);
	if (setns(own, CLONE_NEWNET) < 0) {
		husk_error_free(err);
		return husk_error_set(err, errno, "return from network namespace %s", pn->path);
	}
	return r;
}

static bool kind_supported(const char *kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

static int check_link(const struct nl_link *l, husk_err *err)
{
	if (!kind_supported(l->kind))
		return husk_error_set(err, 0,
		                      "interface %s: kind \"%s\" not supported (veth, macvlan)",
		                      l->name, l->kind);
	if (l->mac_len != NL_MAC_LEN)
		return husk_error_set(err, 0, "interface %s: a %zu-byte address, not a MAC",
		                      l->name, l->mac_len);
	if (l->mtu < MTU_MIN || l->mtu > MTU_MAX)
		return husk_error_set(err, 0, "interface %s: MTU %u not in %d..%d", l->name, l->mtu,
		                      MTU_MIN, MTU_MAX);
	return 0;
}

static bool attached(const struct podnet *pn, unsigned index)
{
	for (size_t i = 0; i < pn->n; i++)
		if (pn->links[i].index == index)
			return true;
	return false;
}

/* An interface the guest gets: an address for it, not lo, not attached already. */
static bool for_guest(const struct podnet *pn, const struct nl_link *l)
{
	return !(l->flags & IFF_LOOPBACK) && podnet_has_address(pn->dump, l->index) &&
	       !attached(pn, l->index);
}

/* Every interface with an address for the guest, but lo, checked before anything is made. */
static int choose_links(struct podnet *pn, husk_err *err)
{
	const struct nl_links *links = &pn->dump->links;
	for (size_t i = 0; i < links->n; i++) {
		const struct nl_link *l = &links->v[i];
		if (!for_guest(pn, l))
			continue;
		if (pn->n == PODNET_IFACES_MAX)
			return husk_error_set(err, E2BIG, "more than %d interfaces with an address",
			                      PODNET_IFACES_MAX);
		if (check_link(l, err) < 0)
			return -1;
		pn->links[pn->n] = *l;
		pn->ifaces[pn->n++] = (struct podnet_iface){.tap_fd = -1, .vhost_fd = -1};
	}
	return 0;
}

/* A tap beside the interface with its MTU, and the redirect both ways. */
static int plug(struct podnet *pn, const struct nl_link *l, struct podnet_iface *f, husk_err *err)
{
	char name[IFNAMSIZ], why[200];
	snprintf(name, sizeof(name), "tap%uh", l->index);
	f->tap_fd = tap_open(name, err);
	if (f->tap_fd < 0)
		return -1;
	f->tap_index = if_nametoindex(name);
	if (!f->tap_index)
		return husk_error_set(err, errno, "tap %s", name);
	f->vhost_fd = vhost_net_open(why, sizeof(why));
	log_debug("interface %s: %s", l->name, why);
	if (nl_link_set_mtu_up(&pn->nl, f->tap_index, l->mtu, err) < 0)
		return husk_error_prefix(err, "tap %s: MTU %u, up", name, l->mtu);
	if (nl_tc_ingress_add(&pn->nl, l->index, err) < 0)
		return husk_error_prefix(err, "ingress qdisc");
	f->link_ingress = true;
	if (nl_tc_ingress_add(&pn->nl, f->tap_index, err) < 0)
		return husk_error_prefix(err, "tap %s: ingress qdisc", name);
	f->tap_ingress = true;
	if (nl_tc_redirect_add(&pn->nl, l->index, f->tap_index, err) < 0 ||
	    nl_tc_redirect_add(&pn->nl, f->tap_index, l->index, err) < 0)
		return husk_error_prefix(err, "tc redirect to and from tap %s", name);
	return 0;
}

static int attach_inside(struct podnet *pn, husk_err *err)
{
	if (nl_open(&pn->nl, err) < 0 || podnet_dump_read(&pn->nl, pn->dump, err) < 0 ||
	    choose_links(pn, err) < 0 ||
	    podnet_msg_build(pn->msg, pn->dump, pn->links, pn->n, err) < 0)
		return -1;
	for (size_t i = 0; i < pn->n; i++)
		if (plug(pn, &pn->links[i], &pn->ifaces[i], err) < 0)
			return husk_error_prefix(err, "interface %s", pn->links[i].name);
	return 0;
}

static void unplug(struct podnet *pn, const struct nl_link *l, struct podnet_iface *f)
{
	cleanup_error husk_err err = NULL;
	if (f->link_ingress && nl_tc_ingress_del(&pn->nl, l->index, &err) < 0)
		log_warn("network namespace %s: interface %s: delete ingress qdisc: %s", pn->path,
		         l->name, husk_error_msg(err));
	husk_error_free(&err);
	/* a tap QEMU no longer holds is gone with its qdisc already */
	if (f->tap_ingress && f->tap_fd >= 0 && nl_tc_ingress_del(&pn->nl, f->tap_index, &err) < 0)
		log_debug("tap of %s: delete ingress qdisc: %s", l->name, husk_error_msg(err));
	f->link_ingress = f->tap_ingress = false;
	close_fd(&f->tap_fd);
	close_fd(&f->vhost_fd);
}

static int detach_inside(struct podnet *pn, husk_err *err)
{
	if (pn->nl.fd < 0 && nl_open(&pn->nl, err) < 0)
		return -1;
	for (size_t i = 0; i < pn->n; i++)
		unplug(pn, &pn->links[i], &pn->ifaces[i]);
	return 0;
}

/*
 * The interfaces that got an address since: each is checked (one husk cannot attach is left
 * alone, with a warning) and plugged, and the guest's request is rebuilt for them alone.
 */
static int attach_new_inside(struct podnet *pn, husk_err *err)
{
	size_t first = pn->n;
	if (nl_open(&pn->nl, err) < 0 || podnet_dump_read(&pn->nl, pn->dump, err) < 0)
		return -1;
	for (size_t i = 0; i < pn->dump->links.n; i++) {
		const struct nl_link *l = &pn->dump->links.v[i];
		cleanup_error husk_err why = NULL;
		if (!for_guest(pn, l))
			continue;
		if (pn->n == PODNET_IFACES_MAX)
			husk_error_set(&why, E2BIG, "more than %d interfaces with an address",
			               PODNET_IFACES_MAX);
		if (why || check_link(l, &why) < 0) {
			log_warn("network namespace %s: interface %s not attached: %s", pn->path,
			         l->name, husk_error_msg(why));
			continue;
		}
		pn->links[pn->n] = *l;
		pn->ifaces[pn->n] = (struct podnet_iface){.tap_fd = -1, .vhost_fd = -1};
		if (plug(pn, l, &pn->ifaces[pn->n], err) < 0) {
			unplug(pn, l, &pn->ifaces[pn->n]);
			return husk_error_prefix(err, "interface %s", l->name);
		}
		pn->n++;
	}
	return podnet_msg_build(pn->msg, pn->dump, pn->links + first, pn->n - first, err);
}

static int watch_inside(struct podnet *pn, husk_err *err)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
	                         .nl_groups =
	                             RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR};
	cleanup_close int fd =
	    socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return husk_error_set(err, errno, "netlink notifications");
	pn->watch_fd = move_fd(fd);
	return 0;
}

int podnet_watch(struct podnet *pn, husk_err *err)
{
	if (pn->watch_fd < 0 && in_netns(pn, watch_inside, err) < 0)
		return husk_error_prefix(err, "network namespace %s", pn->path);
	return pn->watch_fd;
}

void podnet_watch_drain(struct podnet *pn)
{
	char buf[8192];
	/* ENOBUFS (notifications lost) reads on: the namespace is read anew anyway */
	while (recv(pn->watch_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno == ENOBUFS)
		;
}

int podnet_attach_new(struct podnet *pn, size_t *first, husk_err *err)
{
	*first = pn->n;
	int r = in_netns(pn, attach_new_inside, err);
	nl_close(&pn->nl);
	if (r < 0)
		return husk_error_prefix(err, "network namespace %s", pn->path);
	if (pn->n > *first)
		log_debug("network namespace %s: %zu interfaces attached since the boot", pn->path,
		          pn->n - *first);
	return (int)(pn->n - *first);
}

static void podnet_free(struct podnet *pn)
{
	for (size_t i = 0; i < pn->n; i++) {
		close_fd(&pn->ifaces[i].tap_fd);
		close_fd(&pn->ifaces[i].vhost_fd);
	}
	nl_close(&pn->nl);
	close_fd(&pn->watch_fd);
	close_fd(&pn->netns_fd);
	free(pn->dump);
	free(pn->msg);
	free(pn->path);
	free(pn);
}

void podnet_detach(struct podnet *pn)
{
	cleanup_error husk_err err = NULL;
	if (!pn)
		return;
	if (pn->n && in_netns(pn, detach_inside, &err) < 0)
		log_warn("network namespace %s: %s", pn->path, husk_error_msg(err));
	podnet_free(pn);
}

static int open_netns(struct podnet *pn, husk_err *err)
{
	pn->netns_fd = open(pn->path, O_RDONLY | O_CLOEXEC);
	if (pn->netns_fd < 0)
		return husk_error_set(err, errno, "open");
	int type = ioctl(pn->netns_fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET)
		return husk_error_set(err, 0, "not a network namespace");
	return 0;
}

int podnet_refuse_own(const char *path, husk_err *err)
{
	struct stat ns, own;
	if (stat(path, &ns) < 0)
		return husk_error_set(err, errno, "network namespace %s", path);
	if (stat("/proc/self/ns/net", &own) < 0)
		return husk_error_set(err, errno, "/proc/self/ns/net");
	if (ns.st_dev == own.st_dev && ns.st_ino == own.st_ino)
		return husk_error_set(err, 0,
		                      "network namespace %s: the runtime's own (the host's "
		                      "network): a VM cannot share it",
		                      path);
	return 0;
}

struct podnet *podnet_attach(const char *path, husk_err *err)
{
	struct podnet *pn = calloc(1, sizeof(*pn));
	if (!pn) {
		husk_error_set(err, ENOMEM, "network namespace %s", path);
		return NULL;
	}
	pn->netns_fd = pn->nl.fd = pn->watch_fd = -1;
	if (!(pn->path = strdup(path)) || !(pn->dump = calloc(1, sizeof(*pn->dump))) ||
	    !(pn->msg = calloc(1, sizeof(*pn->msg)))) {
		husk_error_set(err, ENOMEM, "network namespace %s", path);
		podnet_free(pn);
		return NULL;
	}
	if (open_netns(pn, err) < 0 || in_netns(pn, attach_inside, err) < 0) {
		husk_error_prefix(err, "network namespace %s", path);
		podnet_detach(pn);
		return NULL;
	}
	nl_close(&pn->nl);
	log_debug("network namespace %s: %zu interfaces attached", path, pn->n);
	return pn;
}

size_t podnet_nics(const struct podnet *pn, struct qemu_nic *nics)
{
	for (size_t i = 0; i < pn->n; i++) {
		nics[i] = (struct qemu_nic){.tap_fd = pn->ifaces[i].tap_fd,
		                            .vhost_fd = pn->ifaces[i].vhost_fd};
		memcpy(nics[i].mac, pn->links[i].mac, sizeof(nics[i].mac));
	}
	return pn->n;
}

const Husk__Agent__V1__SetupNetworkRequest *podnet_request(const struct podnet *pn)
{
	return &pn->msg->req;
}

/* In a namespace that vanishes with the socket: nothing to delete. */
static int probe_inside(husk_err *err)
{
	struct nl_sock s;
	unsigned lo = if_nametoindex("lo");
	if (nl_open(&s, err) < 0)
		return -1;
	int r = nl_tc_ingress_add(&s, lo, err);
	if (r < 0)
		husk_error_prefix(err, "ingress qdisc");
	else if ((r = nl_tc_redirect_add(&s, lo, lo, err)) < 0)
		husk_error_prefix(err, "u32 filter with a mirred action");
	nl_close(&s);
	return r;
}

int podnet_probe_tc(husk_err *err)
{
	cleanup_close int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (own < 0)
		return husk_error_set(err, errno, "/proc/self/ns/net");
	if (unshare(CLONE_NEWNET) < 0)
		return husk_error_set(err, errno, "a network namespace to probe in");
	int r = probe_inside(err);
	if (setns(own, CLONE_NEWNET) < 0) {
		husk_error_free(err);
		return husk_error_set(err, errno, "return from the probe's network namespace");
	}
	return r;
}
