/*
 * The guest end of the DNS relay (proto/agent.proto, StartDnsRelay): a UDP socket on port 53 of
 * a loopback address (Docker's 127.0.0.11), whose queries wait in a bounded table until the host
 * takes them with ReadDnsQuery and answers them with WriteDnsAnswer.
 */
#ifndef HUSK_AGENT_DNS_H
#define HUSK_AGENT_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "lib/error.h"
#include "ttrpc/ttrpc.h"

#define DNS_SLOTS 32 /* queries waiting for the host or its answer */

struct dns_relay;

/* Binds addr (4 bytes, network order):53 in the guest's network namespace, served by ag->loop. */
int dns_relay_start(struct agent *ag, const uint8_t addr[4], husk_err *err);
void dns_relay_free(struct dns_relay *r);
/* ReadDnsQuery: answers call with the oldest query not yet read, or when the next one comes. */
void dns_relay_read(struct agent *ag, struct ttrpc_call *call);
/* WriteDnsAnswer: sends data to the client of the query tag names and frees its slot. */
int dns_relay_answer(struct agent *ag, uint32_t tag, const uint8_t *data, size_t len,
                     husk_err *err);

#endif
