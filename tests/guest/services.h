/*
 * Test services spoken over a connected stream: the guest test program serves
 * them on vsock ports, the host peer's baseline serves them on a plain Unix
 * socket. Blocking fds; every length read from the peer is bounded.
 */
#ifndef HUSK_TEST_SERVICES_H
#define HUSK_TEST_SERVICES_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

/* Guest ports, and host ports the guest connects to (CID 2). */
enum {
	PORT_ECHO = 5000,     /* echoes every byte, half-closes at EOF */
	PORT_SOURCE = 5001,   /* reads "BYTES SEED\n", writes that stream, closes */
	PORT_SINK = 5002,     /* reads to EOF, replies "COUNT FNV\n" */
	PORT_REBOOT = 5003,   /* reboots the guest */
	PORT_POWEROFF = 5004, /* powers the guest off */
	PORT_PUSH = 5005,     /* reads "HOST_PORT CONNS BYTES SEED\n", streams to the host */
	PORT_DISCARD = 5006,  /* reads to EOF, replies "COUNT\n" (no checksum: benchmarks) */
	HOST_PORT_STREAM = 6000,
	HOST_PORT_READY = 6001, /* the guest sends "READY <boot id>\n" once per boot */
};

#define SERVICE_LINE_MAX  128
#define SERVICE_MAX_BYTES (1ULL << 34)
#define SERVICE_MAX_CONNS 256
#define SERVICE_CHUNK     (64 * 1024)

int write_all(int fd, const void *buf, size_t len, husk_err *err);
/* Reads one line byte by byte (never past '\n') into buf without the newline. */
int read_line(int fd, char *buf, size_t size, husk_err *err);
/* Writes bytes [0, len) of stream seed to fd, adding them to *fnv when fnv != NULL. */
int write_pattern(int fd, uint64_t seed, uint64_t len, uint64_t *fnv, husk_err *err);

int service_echo(int fd, husk_err *err);
int service_source(int fd, husk_err *err);
/* With checksum, replies "COUNT FNV", else "COUNT". */
int service_sink(int fd, int checksum, husk_err *err);
/* Runs the echo, source, sink or discard service for port; other ports fail. */
int service_run(unsigned port, int fd, husk_err *err);

#endif
