/*
 * The host end of the DNS relay (agent/dns.h): Docker answers container names with a DNS
 * server at 127.0.0.11 inside the container's network namespace, which the guest's own stack
 * cannot reach. The agent takes the queries sent to that address in the guest; this asks the
 * server, from the sandbox owner in that namespace, and hands the answers back. The guest's
 * bytes are passed on, never parsed: only their length is checked.
 */
#ifndef HUSK_SHIM_DNSFORWARD_H
#define HUSK_SHIM_DNSFORWARD_H

#include <netinet/in.h>

#include "agent_client.h"
#include "lib/error.h"
#include "lib/loop.h"

#define DNS_FORWARD_SLOTS 32 /* queries asked at once; a new one replaces the oldest */

struct dns_forward;

/*
 * The first nameserver of the resolv.conf at path if it is a loopback address (1, in *server),
 * else 0. A file that cannot be read counts as none.
 */
int dns_forward_nameserver(const char *path, struct in_addr *server);
/* Starts the relay in the guest (StartDnsRelay) and takes its queries from now on. */
struct dns_forward *dns_forward_start(struct husk_loop *loop, struct agent_client *agent,
                                      struct in_addr server, int timeout_ms, husk_err *err);
void dns_forward_free(struct dns_forward *r);

#endif
