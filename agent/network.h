/*
 * SetupNetwork: the guest's interfaces (found by MAC), addresses, routes and neighbours, in
 * the agent's network namespace, which every container shares.
 */
#ifndef HUSK_AGENT_NETWORK_H
#define HUSK_AGENT_NETWORK_H

#include "proto/agent.pb-c.h"
#include "lib/error.h"

/* How long SetupNetwork waits for the NIC of an interface to appear. */
#define NETWORK_LINK_TIMEOUT_MS 5000

/* The guest's loopback up: every container has it, as runc brings up a new namespace's. */
int network_loopback_up(husk_err *err);
/*
 * Applies r (validated by request_decode): lo up; per interface: down, renamed, MTU and
 * NOARP, addresses, up; then routes and neighbours. Each step creates or replaces, so a retry
 * after a failure converges. Waits at most link_timeout_ms in all for the NICs.
 */
int network_setup(const Husk__Agent__V1__SetupNetworkRequest *r, int link_timeout_ms,
                  husk_err *err);

#endif
