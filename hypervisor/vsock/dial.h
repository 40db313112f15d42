/*
 * Host-side connection to a port inside a sandbox's guest, over either vsock
 * transport:
 *   VSOCK_VHOST:  kernel vsock, AF_VSOCK connect to CID:port (needs the
 *                 kernel's vhost-vsock device in QEMU).
 *   VSOCK_HYBRID: husk-vsockd's Unix socket: connect to uds_path, write
 *                 "CONNECT <port>\n", read the "OK <n>\n" line byte by byte so
 *                 no stream byte is swallowed.
 * Both retry while nobody listens in the guest yet (the agent is booting)
 * until timeout_ms has passed in total.
 */
#ifndef HUSK_VSOCK_DIAL_H
#define HUSK_VSOCK_DIAL_H

#include <stdint.h>

#include "error.h"

enum vsock_transport { VSOCK_AUTO, VSOCK_VHOST, VSOCK_HYBRID };

#define VSOCK_HOST_CID 2

/* VSOCK_VHOST if /dev/vhost-vsock opens O_RDWR here, else VSOCK_HYBRID. Never VSOCK_AUTO. */
enum vsock_transport vsock_transport_detect(void);
/* "auto", "vhost" or "hybrid"; returns -1 on anything else. */
int vsock_transport_parse(const char *s, enum vsock_transport *out);
const char *vsock_transport_name(enum vsock_transport t);

/*
 * Connects to the guest's port. VSOCK_AUTO means vsock_transport_detect().
 * cid is used by VSOCK_VHOST, uds_path by VSOCK_HYBRID (the other may be 0 /
 * NULL). timeout_ms bounds the whole dial, retries included (<= 0: one
 * attempt). Returns a connected, BLOCKING, O_CLOEXEC stream fd, or -1 with
 * *err set (code ETIMEDOUT when the guest never accepted in time).
 */
int vsock_dial(enum vsock_transport t, uint32_t cid, const char *uds_path, uint32_t port,
	       int timeout_ms, husk_err *err);

#endif
