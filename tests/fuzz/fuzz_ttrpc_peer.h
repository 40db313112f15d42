/* Shared by the ttrpc fuzzers: one connection fed hostile bytes over a socketpair. */
#ifndef HUSK_FUZZ_TTRPC_PEER_H
#define HUSK_FUZZ_TTRPC_PEER_H

#include <stddef.h>
#include <stdint.h>

enum fuzz_ttrpc_role { FUZZ_SERVER, FUZZ_CLIENT };

/* Number of calls a client connection has pending (streams 1, 3, ...) before the bytes arrive. */
#define FUZZ_TTRPC_PENDING 8

/*
 * Writes data to the peer of a fresh connection in the given role, half-closes,
 * and runs the loop until the connection has noticed the end. Traps if a
 * client callback ran other than exactly once per call.
 */
void fuzz_ttrpc_feed(enum fuzz_ttrpc_role role, const uint8_t *data, size_t size);

#endif
