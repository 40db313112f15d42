/*
 * vhost-user back-end (slave) for a virtio device with two virtqueues, as
 * QEMU 7.2's vhost-user-vsock-pci drives it. One front-end connection at a
 * time, served from the process's event loop.
 *
 * The parsing of one message is separate from the socket so that the fuzzer
 * and the unit tests can drive it directly: vu_handle_msg() takes a decoded
 * message plus its fds and fills a reply.
 */
#ifndef HUSK_VHOST_USER_H
#define HUSK_VHOST_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cmsg.h"
#include "lib/error.h"
#include "lib/loop.h"
#include "vring.h"

#define VU_NUM_QUEUES  2 /* rx 0, tx 1; QEMU emulates the event queue itself */
#define VU_HDR_SIZE    12
#define VU_MAX_PAYLOAD 4096 /* larger than any message we accept */

/* Offered to the front-end (see docs/vsock.md). */
#define VU_FEATURES          ((1ULL << 32) | (1ULL << 30)) /* VERSION_1 | PROTOCOL_FEATURES */
#define VU_PROTOCOL_FEATURES 0x209ULL                      /* MQ | REPLY_ACK | CONFIG */

struct vu_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	uint8_t payload[VU_MAX_PAYLOAD];
};

/*
 * What the device (vsock) layer is told. All callbacks are optional except
 * queue_kick. queue_kick only comes between started() and stopped(); right
 * after started() every queue is kicked once, because the guest may have made
 * buffers available before the rings were enabled.
 */
struct vu_device_ops {
	/* The guest made buffers available in queue q (kick, or device just started). */
	void (*queue_kick)(void *data, unsigned q);
	/* Both rings became ready: the device may start moving data. */
	void (*started)(void *data);
	/*
	 * The device was stopped (GET_VRING_BASE, ring disabled, reset, memory
	 * table change, or the front-end went away). Popped chains are invalid
	 * after this returns.
	 */
	void (*stopped)(void *data);
	/* The front-end disconnected. */
	void (*disconnected)(void *data);
};

struct vu_dev {
	struct husk_loop *loop;
	int conn_fd;                /* -1 when no front-end */
	uint64_t features;          /* acked by SET_FEATURES */
	uint64_t protocol_features; /* acked by SET_PROTOCOL_FEATURES */
	struct guest_mem mem;
	struct vring vq[VU_NUM_QUEUES];
	uint8_t config[8]; /* device config space: le64 guest_cid */
	bool running;      /* started() was reported and stopped() not yet */
	const struct vu_device_ops *ops;
	void *ops_data;
	/* partly received message from conn_fd */
	struct vu_msg rx;
	size_t rx_have; /* header + payload bytes received so far */
	int rx_fds[HUSK_MAX_FDS];
	size_t rx_nfds;
};

/* loop may be NULL (tests, fuzzer): kick fds are then kept but not watched. */
void vu_dev_init(struct vu_dev *dev, struct husk_loop *loop, uint64_t guest_cid,
                 const struct vu_device_ops *ops, void *ops_data);
/*
 * Takes ownership of an accepted front-end connection (closed on failure) and
 * serves it from the loop. Fails with EBUSY while another one is attached.
 * When the front-end goes away or breaks the protocol, the device is detached
 * and disconnected() reported; a new connection may then be attached.
 */
int vu_dev_attach(struct vu_dev *dev, int conn_fd, husk_err *err);
/* Stops the device, closes the connection, kick/call fds and unmaps memory. Idempotent. */
void vu_dev_detach(struct vu_dev *dev);

/*
 * Handles one message. fds (nfds of them) are owned by the callee from here on
 * (kept or closed). Returns 1 if *reply must be sent, 0 if not, -1 on a
 * protocol violation after which the connection must be dropped.
 */
int vu_handle_msg(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                  struct vu_msg *reply);

#endif
