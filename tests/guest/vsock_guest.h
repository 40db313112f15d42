/*
 * A synthetic guest for the vsock device tests and the tx fuzzer: one memory
 * region holding an rx and a tx split ring plus fixed buffers per descriptor,
 * driven the way a virtio driver would (add buffers, bump avail->idx, read
 * used entries).
 */
#ifndef HUSK_TEST_VSOCK_GUEST_H
#define HUSK_TEST_VSOCK_GUEST_H

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/vsock/vhost_user.h"
#include "hypervisor/vsock/vring.h"
#include "hypervisor/vsock/vsock_pkt.h"

#define TG_NUM         64
#define TG_UVA         0x7f0000000000ULL
#define TG_RING_OFF(q) ((size_t)(q)*0x4000)
#define TG_AVAIL       0x1000
#define TG_USED        0x2000
#define TG_SLOT        (VSOCK_PKT_HDR_SIZE + VSOCK_PKT_MAX_LEN)
#define TG_DATA_OFF    0x10000
#define TG_SLOTS       (2 * TG_NUM)
#define TG_MEM_SIZE    (TG_DATA_OFF + (size_t)TG_SLOTS * TG_SLOT)

struct test_guest {
	uint8_t *mem;
	struct vu_dev vu;
	uint16_t avail_idx[2], used_seen[2];
	uint32_t rx_buf_len;
};

static inline struct vring_desc_raw *tg_desc(struct test_guest *g, unsigned q, unsigned i)
{
	return (struct vring_desc_raw *)(g->mem + TG_RING_OFF(q)) + i;
}

static inline struct vring_avail_raw *tg_avail(struct test_guest *g, unsigned q)
{
	return (struct vring_avail_raw *)(g->mem + TG_RING_OFF(q) + TG_AVAIL);
}

static inline struct vring_used_raw *tg_used(struct test_guest *g, unsigned q)
{
	return (struct vring_used_raw *)(g->mem + TG_RING_OFF(q) + TG_USED);
}

/* Buffer slot s: rx descriptors use slots 0..63, tx slots 64..127. */
static inline uint8_t *tg_slot(struct test_guest *g, unsigned s)
{
	return g->mem + TG_DATA_OFF + (size_t)s * TG_SLOT;
}

static inline uint64_t tg_slot_gpa(unsigned s)
{
	return TG_DATA_OFF + (uint64_t)s * TG_SLOT;
}

/* Empties both rings (the device must be stopped or not yet started). */
static inline int tg_reset(struct test_guest *g)
{
	memset(g->mem, 0, TG_DATA_OFF);
	memset(g->avail_idx, 0, sizeof(g->avail_idx));
	memset(g->used_seen, 0, sizeof(g->used_seen));
	for (unsigned q = 0; q < 2; q++) {
		struct vring *vq = &g->vu.vq[q];
		vring_init(vq);
		vq->num = TG_NUM;
		vq->desc_uva = TG_UVA + TG_RING_OFF(q);
		vq->avail_uva = vq->desc_uva + TG_AVAIL;
		vq->used_uva = vq->desc_uva + TG_USED;
		vq->started = vq->enabled = true;
		if (vring_map(vq, &g->vu.mem) < 0)
			return -1;
	}
	return 0;
}

static inline int tg_init(struct test_guest *g)
{
	memset(g, 0, sizeof(*g));
	g->mem = calloc(1, TG_MEM_SIZE);
	if (!g->mem)
		return -1;
	g->rx_buf_len = 4096;
	g->vu.conn_fd = -1;
	g->vu.mem.nregions = 1;
	g->vu.mem.regions[0] =
	    (struct guest_mem_region){.gpa = 0, .size = TG_MEM_SIZE, .uva = TG_UVA, .host = g->mem};
	return tg_reset(g);
}

/* rx buffers the guest has made available and the device has not used yet */
static inline unsigned tg_rx_outstanding(struct test_guest *g)
{
	return (uint16_t)(g->avail_idx[0] - le16toh(tg_used(g, 0)->idx));
}

static inline void tg_fini(struct test_guest *g)
{
	free(g->mem);
	g->mem = NULL;
}

static inline void tg_publish(struct test_guest *g, unsigned q, uint16_t head)
{
	struct vring_avail_raw *a = tg_avail(g, q);
	a->ring[g->avail_idx[q] % TG_NUM] = htole16(head);
	g->avail_idx[q]++;
	__atomic_store_n(&a->idx, htole16(g->avail_idx[q]), __ATOMIC_RELEASE);
}

/* Makes n rx buffers of g->rx_buf_len bytes available (one writable descriptor each). */
static inline void tg_add_rx(struct test_guest *g, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		unsigned i = g->avail_idx[0] % TG_NUM;
		*tg_desc(g, 0, i) = (struct vring_desc_raw){.addr = htole64(tg_slot_gpa(i)),
		                                            .len = htole32(g->rx_buf_len),
		                                            .flags = htole16(VRING_DESC_F_WRITE)};
		tg_publish(g, 0, (uint16_t)i);
	}
}

/* Queues one tx packet as header + payload descriptors; raw_len is what the chain holds. */
static inline void tg_send_raw(struct test_guest *g, const uint8_t *raw, size_t raw_len)
{
	unsigned slot = g->avail_idx[1] % (TG_NUM / 2);
	unsigned d0 = slot * 2, d1 = d0 + 1;
	uint8_t *buf = tg_slot(g, TG_NUM + slot);
	if (raw_len > TG_SLOT)
		raw_len = TG_SLOT;
	memcpy(buf, raw, raw_len);
	size_t first = raw_len < VSOCK_PKT_HDR_SIZE ? raw_len : VSOCK_PKT_HDR_SIZE;
	*tg_desc(g, 1, d0) = (struct vring_desc_raw){.addr = htole64(tg_slot_gpa(TG_NUM + slot)),
	                                             .len = htole32((uint32_t)first)};
	if (raw_len > first) {
		tg_desc(g, 1, d0)->flags = htole16(VRING_DESC_F_NEXT);
		tg_desc(g, 1, d0)->next = htole16((uint16_t)d1);
		*tg_desc(g, 1, d1) =
		    (struct vring_desc_raw){.addr = htole64(tg_slot_gpa(TG_NUM + slot) + first),
		                            .len = htole32((uint32_t)(raw_len - first))};
	}
	tg_publish(g, 1, (uint16_t)d0);
}

static inline void tg_send(struct test_guest *g, const struct vsock_hdr *h, const void *payload)
{
	static uint8_t raw[TG_SLOT];
	vsock_hdr_encode(h, raw);
	if (h->len)
		memcpy(raw + VSOCK_PKT_HDR_SIZE, payload, h->len);
	tg_send_raw(g, raw, VSOCK_PKT_HDR_SIZE + h->len);
}

/* Takes the next used rx buffer: 1 with *h (and payload into buf, up to cap), 0 if none. */
static inline int tg_recv(struct test_guest *g, struct vsock_hdr *h, void *buf, size_t cap)
{
	struct vring_used_raw *u = tg_used(g, 0);
	uint16_t idx = le16toh(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE));
	if (idx == g->used_seen[0])
		return 0;
	struct vring_used_elem_raw e = u->ring[g->used_seen[0] % TG_NUM];
	g->used_seen[0]++;
	uint8_t *p = tg_slot(g, le32toh(e.id) % TG_NUM);
	vsock_hdr_decode(p, h);
	size_t n = h->len < cap ? h->len : cap;
	if (buf && n)
		memcpy(buf, p + VSOCK_PKT_HDR_SIZE, n);
	return 1;
}

#endif
