#include "vring.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"

_Static_assert(sizeof(struct vring_desc_raw) == 16, "descriptor layout");
_Static_assert(sizeof(struct vring_used_elem_raw) == 8, "used element layout");

/* Host pointer for [addr, addr+len) in the one region containing it, by gpa or by uva. */
static void *guest_mem_find(const struct guest_mem *mem, uint64_t addr, uint64_t len, bool by_uva)
{
	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
		uint64_t start = by_uva ? r->uva : r->gpa;
		if (addr < start)
			continue;
		uint64_t off = addr - start;
		if (off < r->size && len <= r->size - off)
			return r->host + off;
	}
	return NULL;
}

void *guest_mem_from_gpa(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	return guest_mem_find(mem, gpa, len, false);
}

void *guest_mem_from_uva(const struct guest_mem *mem, uint64_t uva, uint64_t len)
{
	return guest_mem_find(mem, uva, len, true);
}

void guest_mem_unmap(struct guest_mem *mem)
{
	for (unsigned i = 0; i < mem->nregions; i++)
		if (mem->regions[i].map_base)
			munmap(mem->regions[i].map_base, mem->regions[i].map_len);
	memset(mem, 0, sizeof(*mem));
}

void vring_init(struct vring *vq)
{
	memset(vq, 0, sizeof(*vq));
	vq->kick_fd = -1;
	vq->call_fd = -1;
}

static void *map_part(const struct guest_mem *mem, uint64_t uva, size_t len, size_t align)
{
	void *p = guest_mem_from_uva(mem, uva, len);
	if (!p || (uintptr_t)p % align)
		return NULL;
	return p;
}

int vring_map(struct vring *vq, const struct guest_mem *mem)
{
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	if (!vq->num)
		return -1;
	struct vring_desc_raw *desc = map_part(mem, vq->desc_uva, VRING_DESC_SIZE(vq->num), 16);
	struct vring_avail_raw *avail = map_part(mem, vq->avail_uva, VRING_AVAIL_SIZE(vq->num), 2);
	struct vring_used_raw *used = map_part(mem, vq->used_uva, VRING_USED_SIZE(vq->num), 4);
	if (!desc || !avail || !used)
		return -1;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->used_idx = le16toh(__atomic_load_n(&used->idx, __ATOMIC_RELAXED));
	return 0;
}

bool vring_ready(const struct vring *vq)
{
	return vq->desc && vq->started && vq->enabled && !vq->broken;
}

static int vring_break(struct vring *vq, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int vring_break(struct vring *vq, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!vq->broken)
		log_warn("virtqueue broken by the guest: %s; ignoring it until reset", why);
	vq->broken = true;
	return -1;
}

/* Adds one descriptor's buffer to the chain, enforcing readable-before-writable. */
static int chain_add(struct vring *vq, const struct guest_mem *mem, struct vring_chain *chain,
                     const struct vring_desc_raw *d)
{
	uint64_t addr = le64toh(d->addr);
	uint32_t len = le32toh(d->len);
	bool writable = le16toh(d->flags) & VRING_DESC_F_WRITE;

	if (!writable && chain->n_in)
		return vring_break(vq, "readable descriptor after a writable one");
	if (!len)
		return 0;
	void *p = guest_mem_from_gpa(mem, addr, len);
	if (!p)
		return vring_break(vq, "descriptor 0x%llx+%u outside guest memory",
		                   (unsigned long long)addr, len);
	struct iovec *iov = writable ? &chain->in[chain->n_in++] : &chain->out[chain->n_out++];
	iov->iov_base = p;
	iov->iov_len = len;
	if (writable)
		chain->in_len += len;
	else
		chain->out_len += len;
	return 0;
}

/* Walks the chain starting at head; every hop is bounded by num and VRING_MAX_IOV. */
static int chain_walk(struct vring *vq, const struct guest_mem *mem, uint16_t head,
                      struct vring_chain *chain)
{
	unsigned i = head, hops = 0;

	memset(chain, 0, offsetof(struct vring_chain, out));
	chain->head = head;
	for (;;) {
		struct vring_desc_raw d;
		if (++hops > vq->num || hops > VRING_MAX_IOV)
			return vring_break(vq, "descriptor chain from %u loops or is too long",
			                   head);
		memcpy(&d, &vq->desc[i], sizeof(d));
		uint16_t flags = le16toh(d.flags);
		if (flags & VRING_DESC_F_INDIRECT)
			return vring_break(vq, "indirect descriptor (not negotiated)");
		if (chain_add(vq, mem, chain, &d) < 0)
			return -1;
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = le16toh(d.next);
		if (i >= vq->num)
			return vring_break(vq, "next descriptor %u out of range", i);
	}
}

int vring_pop(struct vring *vq, const struct guest_mem *mem, struct vring_chain *chain)
{
	if (vq->broken)
		return -1;
	if (!vq->desc)
		return 0;
	uint16_t avail_idx = le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE));
	uint16_t pending = avail_idx - vq->last_avail_idx;
	if (pending > vq->num)
		return vring_break(vq, "avail index %u is %u entries ahead of %u", avail_idx,
		                   pending, vq->last_avail_idx);
	if (!pending)
		return 0;
	uint16_t slot = vq->last_avail_idx & (vq->num - 1);
	uint16_t head = le16toh(__atomic_load_n(&vq->avail->ring[slot], __ATOMIC_RELAXED));
	if (head >= vq->num)
		return vring_break(vq, "avail head %u out of range", head);
	if (chain_walk(vq, mem, head, chain) < 0)
		return -1;
	vq->last_avail_idx++;
	return 1;
}

void vring_unpop(struct vring *vq)
{
	vq->last_avail_idx--;
}

void vring_push(struct vring *vq, uint16_t head, uint32_t written)
{
	if (vq->broken || !vq->used)
		return;
	struct vring_used_elem_raw *e = &vq->used->ring[vq->used_idx & (vq->num - 1)];
	e->id = htole32(head);
	e->len = htole32(written);
	vq->used_idx++;
	__atomic_store_n(&vq->used->idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
	vq->pending_signal = true;
}

void vring_notify(struct vring *vq)
{
	if (!vq->pending_signal || vq->broken || !vq->avail)
		return;
	vq->pending_signal = false;
	/* the used->idx store must be visible before we look at the driver's flags */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t flags = le16toh(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED));
	if ((flags & VRING_AVAIL_F_NO_INTERRUPT) || vq->call_fd < 0)
		return;
	uint64_t one = 1;
	if (write(vq->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("virtqueue call eventfd: %s", strerror(errno));
}

/* Copies between buf and the iovec's bytes [offset, offset+len), in the direction given. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t offset, uint8_t *buf, size_t len,
                       bool into_iov)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		uint8_t *p = (uint8_t *)iov[i].iov_base + offset;
		size_t chunk = iov[i].iov_len - offset;
		if (chunk > len - done)
			chunk = len - done;
		if (into_iov)
			memcpy(p, buf + done, chunk);
		else
			memcpy(buf + done, p, chunk);
		done += chunk;
		offset = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t offset, void *buf, size_t len)
{
	return iov_copy(iov, n, offset, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t offset, const void *buf, size_t len)
{
	return iov_copy(iov, n, offset, (uint8_t *)buf, len, true);
}
