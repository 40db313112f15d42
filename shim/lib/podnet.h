/*
 * A pod's network namespace made the VM's: every interface there with an address (but lo) gets
 * a tap beside it, in the same namespace, and a tc redirect both ways (ingress qdiscs, a u32
 * filter matching every frame, mirred to the other link), so the tap carries the interface's
 * traffic into QEMU as a virtio-net NIC with the interface's MAC. The guest is told the
 * interfaces' addresses and MTUs, the routes and the permanent neighbours (SetupNetwork).
 * Supported kinds: veth, macvlan. See docs/networking.md.
 *
 * The calling process enters the namespace while it attaches and detaches (setns, so it must be
 * single-threaded) and is back in its own on every return.
 */
#ifndef HUSK_PODNET_H
#define HUSK_PODNET_H

#include <stddef.h>

#include "hypervisor/qemu/qemu.h"
#include "lib/error.h"
#include "podnet_msg.h"
#include "proto/agent.pb-c.h"

struct podnet;

/*
 * Refuses a path to the caller's own network namespace: docker run --network host names the
 * host's by a path of its own, and a VM cannot share it.
 */
int podnet_refuse_own(const char *path, husk_err *err);
/*
 * Attaches the network namespace at path. A namespace husk cannot attach (not a network
 * namespace, an interface of another kind or MTU, too many of anything) is one error naming
 * the path, the interface and the reason, and leaves nothing behind.
 */
struct podnet *podnet_attach(const char *path, husk_err *err);
/*
 * A netlink socket in the namespace that wakes up when links or addresses change there (made
 * once, owned by pn); -1 with *err set.
 */
int podnet_watch(struct podnet *pn, husk_err *err);
/* Reads the notifications that woke the watch (the namespace is read anew, not them). */
void podnet_watch_drain(struct podnet *pn);
/*
 * Attaches the interfaces that got an address since the last attach (the caller hot-plugs
 * their NICs: podnet_nics from *first on) and makes podnet_request tell the guest about them
 * alone. An interface husk cannot attach is left alone with a warning. Returns how many.
 */
int podnet_attach_new(struct podnet *pn, size_t *first, husk_err *err);
/* The VM's NICs, one per attached interface, into nics[PODNET_IFACES_MAX]; returns how many. */
size_t podnet_nics(const struct podnet *pn, struct qemu_nic *nics);
/* What the agent's SetupNetwork gets; owned by pn. */
const Husk__Agent__V1__SetupNetworkRequest *podnet_request(const struct podnet *pn);
/*
 * After QEMU is gone: deletes the ingress qdiscs attach added (their filters go with them) and
 * closes the taps (never persistent: they vanish), leaving the namespace as its maker made it.
 * Frees pn; NULL is a no-op.
 */
void podnet_detach(struct podnet *pn);
/* Can this host redirect with tc (ingress qdisc, u32, mirred)? Probed in a throwaway netns. */
int podnet_probe_tc(husk_err *err);

#endif
