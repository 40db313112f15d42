/*
 * The virtio-vsock device on top of the vhost-user back-end: takes guest
 * packets from the tx queue, runs the connection state machines, and fills
 * the rx queue with data and control packets, round-robin over connections.
 * Control packets that find rx full wait as per-connection flags (or in a
 * bounded ring for RSTs to unknown flows) so tx processing never stalls.
 */
#ifndef HUSK_VSOCK_DEV_H
#define HUSK_VSOCK_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "lib/error.h"
#include "hybrid.h"
#include "lib/loop.h"
#include "vhost_user.h"
#include "vring.h"

#define VSOCK_RX_QUEUE           0
#define VSOCK_TX_QUEUE           1
#define VSOCK_TX_BUDGET          256  /* tx chains per round before other fds get a turn */
#define VSOCK_RX_BUDGET          256  /* rx buffers filled per round, likewise */
#define VSOCK_ORPHAN_RST_MAX     256  /* RSTs owed for flows we have no connection for */
#define VSOCK_REQUEST_TIMEOUT_MS 5000 /* guest must answer our REQUEST */
#define VSOCK_CLOSE_TIMEOUT_MS   5000 /* guest must RST after our SHUTDOWN, or drain */

struct orphan_rst {
	uint32_t src_port, dst_port; /* as the rx packet carries them */
};

struct vsock_dev {
	struct husk_loop *loop;
	struct vu_dev *vu;
	uint64_t guest_cid;
	const char *uds_path;
	uint32_t buf_alloc;
	bool running;
	int resume_fd; /* eventfd: a tx/rx budget ran out, continue after other events */
	struct conn_table conns;
	struct vsock_conn *rxq_head, *rxq_tail;
	struct orphan_rst rst_ring[VSOCK_ORPHAN_RST_MAX];
	unsigned rst_head, rst_len;
	struct vring_chain tx_chain, rx_chain;
};

/* vu_device_ops for vu_dev_init(..., &vsock_dev_ops, dev). */
extern const struct vu_device_ops vsock_dev_ops;

int vsock_dev_init(struct vsock_dev *d, struct husk_loop *loop, struct vu_dev *vu,
                   uint64_t guest_cid, const char *uds_path, uint32_t buf_alloc, husk_err *err);
/* Closes every connection and host fd. */
void vsock_dev_fini(struct vsock_dev *d);
/* A hybrid client asked for guest port `port` (hybrid_connect_cb); takes fd. */
void vsock_dev_connect_host(void *dev, int fd, uint32_t port);
/* Handles request and close timeouts. */
void vsock_dev_expire(struct vsock_dev *d, int64_t now_ms);

#endif
