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

#include <stddef.h>

#include "lib/error.h"

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

/*
 * One non-blocking dial attempt, for callers that wait in their own event
 * loop: vsock_dial_begin(), then whenever st->fd is ready for st->events
 * (POLLIN/POLLOUT, the same bits as EPOLLIN/EPOLLOUT) call vsock_dial_step().
 * Nothing retries here: after a failure whose code is ECONNREFUSED,
 * ECONNRESET, ENOENT or EAGAIN (the guest or the daemon is not listening
 * yet), begin again later.
 */
struct vsock_dial_state {
	enum vsock_transport transport; /* VSOCK_VHOST or VSOCK_HYBRID once begun */
	int fd;                         /* -1 when no attempt is in progress */
	short events;
	int phase;
	uint32_t port;
	size_t line_len;
	char line[32];
};

/* Starts an attempt (VSOCK_AUTO is detected). 0: wait for st->fd; -1: failed (*err). */
int vsock_dial_begin(struct vsock_dial_state *st, enum vsock_transport t, uint32_t cid,
                     const char *uds_path, uint32_t port, husk_err *err);
/*
 * Advances the attempt. 1: connected, st->fd is the stream (NON-blocking,
 * O_CLOEXEC) and now belongs to the caller; 0: wait for st->events on st->fd
 * again; -1: failed, fd closed, *err set.
 */
int vsock_dial_step(struct vsock_dial_state *st, husk_err *err);
/* Abandons an attempt in progress. */
void vsock_dial_abort(struct vsock_dial_state *st);

#endif
