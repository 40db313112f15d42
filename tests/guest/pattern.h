/*
 * Deterministic test data shared by the guest test program and the host peer:
 * a byte stream that is a pure function of (seed, offset), so either side can
 * produce or check any chunk, and a 64-bit FNV-1a checksum.
 */
#ifndef HUSK_TEST_PATTERN_H
#define HUSK_TEST_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* Writes bytes [offset, offset + len) of stream seed into buf. */
void pattern_fill(uint64_t seed, uint64_t offset, void *buf, size_t len);
/* Returns the offset (relative to buf) of the first byte that differs from the stream, or len. */
size_t pattern_check(uint64_t seed, uint64_t offset, const void *buf, size_t len);

#define FNV_INIT 0xcbf29ce484222325ULL
uint64_t fnv_update(uint64_t h, const void *buf, size_t len);

#endif
