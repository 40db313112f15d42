/*
 * The host side of hybrid vsock (the Firecracker / Cloud Hypervisor
 * convention): host programs connect to one Unix socket and write
 * "CONNECT <port>\n" to reach a guest port; guest connections to host port P
 * go to the Unix socket "<uds_path>_P". P is the only guest-supplied value
 * that ever reaches a path, printed as a decimal u32.
 */
#ifndef HUSK_VSOCK_HYBRID_H
#define HUSK_VSOCK_HYBRID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "lib/error.h"
#include "lib/loop.h"

#define CONNECT_LINE_MAX   32   /* "CONNECT 4294967295\n" is 19 bytes */
#define CONNECT_TIMEOUT_MS 5000 /* to complete the line */
#define HYBRID_MAX_CLIENTS 128  /* clients still writing their CONNECT line; more wait */
#define UDS_PATH_MAX       (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
/* Longest --uds-path for which every "<path>_<u32>" still fits sun_path. */
#define HYBRID_UDS_PATH_MAX (UDS_PATH_MAX - 11)

struct connect_line {
	char buf[CONNECT_LINE_MAX];
	size_t len;
};

/* Adds one byte: 0 = need more, 1 = line complete (buf holds it without '\n'), -1 = too long. */
int connect_line_feed(struct connect_line *l, char ch);
/* Parses "CONNECT <decimal u32>" exactly. Returns 0 and *port, or -1. */
int connect_line_parse(const char *s, size_t len, uint32_t *port);

/* Writes "<uds>_<port>" into out[outlen]. Returns 0, or -1 if it does not fit. */
int hybrid_port_path(char *out, size_t outlen, const char *uds, uint32_t port);
/* Non-blocking, close-on-exec connection to "<uds>_<port>". Returns the fd or -1 (errno). */
int hybrid_connect_port(const char *uds, uint32_t port);

/*
 * Listening Unix socket at path (non-blocking, close-on-exec). A stale socket
 * file nobody listens on is replaced; a live one, or anything that is not a
 * socket, is an error.
 */
int uds_listen(const char *path, husk_err *err);

/* A client that finished its CONNECT line: the fd (non-blocking) is handed over. */
typedef void (*hybrid_connect_cb)(void *data, int fd, uint32_t port);

struct hybrid_client;

struct hybrid {
	struct husk_loop *loop;
	int listen_fd;
	char path[UDS_PATH_MAX + 1];
	hybrid_connect_cb on_connect;
	void *cb_data;
	struct hybrid_client *clients;
	unsigned nclients;
	bool paused; /* listener out of the loop while at HYBRID_MAX_CLIENTS */
};

int hybrid_init(struct hybrid *h, struct husk_loop *loop, const char *path, hybrid_connect_cb cb,
                void *cb_data, husk_err *err);
/* Closes every client and the listener, and removes the socket file. */
void hybrid_fini(struct hybrid *h);
/* Drops clients that did not complete their line in time. */
void hybrid_expire(struct hybrid *h, int64_t now_ms);

#endif
