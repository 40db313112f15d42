/*
 * virtio-vsock packet header (virtio spec "Socket Device"): 44 bytes, packed,
 * little-endian. vsock_pkt_check() is the single gate every guest tx packet
 * goes through; it is a pure function so the fuzzer can drive it.
 */
#ifndef HUSK_VSOCK_PKT_H
#define HUSK_VSOCK_PKT_H

#include <stddef.h>
#include <stdint.h>

#define VSOCK_PKT_HDR_SIZE 44
#define VSOCK_PKT_MAX_LEN  (64 * 1024) /* Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE */
#define VSOCK_CID_HOST     2

#define VSOCK_TYPE_STREAM 1

enum vsock_op {
	VSOCK_OP_INVALID = 0,
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
};

/* SHUTDOWN flags: the sender will receive / send no more. */
#define VSOCK_SHUTDOWN_RCV  1u
#define VSOCK_SHUTDOWN_SEND 2u
#define VSOCK_SHUTDOWN_BOTH (VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)

struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags;
	uint32_t buf_alloc, fwd_cnt;
};

enum vsock_verdict {
	VSOCK_PKT_OK,   /* well-formed stream packet for the host */
	VSOCK_PKT_DROP, /* ignore silently (cannot even be answered sensibly) */
	VSOCK_PKT_RST,  /* answer with RST to its source */
};

/*
 * Decodes the header in raw[] and checks it against what the guest may send:
 * avail = bytes the tx chain actually holds (header included). On OK and RST
 * *hdr is filled; an RST is never answered with RST.
 */
enum vsock_verdict vsock_pkt_check(const uint8_t raw[VSOCK_PKT_HDR_SIZE], size_t avail,
                                   uint64_t guest_cid, struct vsock_hdr *hdr);
void vsock_hdr_decode(const uint8_t raw[VSOCK_PKT_HDR_SIZE], struct vsock_hdr *hdr);
void vsock_hdr_encode(const struct vsock_hdr *hdr, uint8_t raw[VSOCK_PKT_HDR_SIZE]);

#endif
