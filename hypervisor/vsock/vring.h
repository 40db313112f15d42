/*
 * Split virtqueues in guest memory, as the device side sees them.
 * Every value read from guest memory is untrusted: descriptor indices, chain
 * lengths, addresses and lengths are checked, and a malformed ring is marked
 * broken (never processed again until the device is reset) instead of being
 * trusted. Nothing here blocks or allocates on the data path.
 */
#ifndef HUSK_VRING_H
#define HUSK_VRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define GUEST_MEM_MAX_REGIONS 8
#define VRING_MAX_NUM         32768
#define VRING_MAX_IOV         64 /* longer chains are treated as malformed */

/* Split-ring layout (virtio 1.x, little-endian fields). */
#define VRING_DESC_F_NEXT          1
#define VRING_DESC_F_WRITE         2
#define VRING_DESC_F_INDIRECT      4
#define VRING_AVAIL_F_NO_INTERRUPT 1

struct vring_desc_raw {
	uint64_t addr; /* guest physical */
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail_raw {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* num entries, then le16 used_event */
};

struct vring_used_elem_raw {
	uint32_t id;
	uint32_t len;
};

struct vring_used_raw {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem_raw ring[]; /* num entries, then le16 avail_event */
};

/* Bytes each part occupies for a ring of num entries. */
#define VRING_DESC_SIZE(num)  ((size_t)(num) * sizeof(struct vring_desc_raw))
#define VRING_AVAIL_SIZE(num) (6 + (size_t)(num)*2)
#define VRING_USED_SIZE(num)  (6 + (size_t)(num) * sizeof(struct vring_used_elem_raw))

struct guest_mem_region {
	uint64_t gpa;   /* guest physical address of the region start */
	uint64_t size;  /* bytes */
	uint64_t uva;   /* the front-end's (QEMU's) virtual address of the region */
	uint8_t *host;  /* our mapping of gpa */
	void *map_base; /* what to munmap */
	size_t map_len;
};

struct guest_mem {
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned nregions;
};

/* Host pointer for [gpa, gpa+len) if it lies inside one region, else NULL. */
void *guest_mem_from_gpa(const struct guest_mem *mem, uint64_t gpa, uint64_t len);
/* Same for a front-end virtual address (vring addresses arrive as QEMU VAs). */
void *guest_mem_from_uva(const struct guest_mem *mem, uint64_t uva, uint64_t len);
void guest_mem_unmap(struct guest_mem *mem);

struct vring {
	unsigned num; /* 0 until SET_VRING_NUM */
	uint64_t desc_uva, avail_uva, used_uva;
	bool has_addr;               /* SET_VRING_ADDR received */
	struct vring_desc_raw *desc; /* translated, NULL until addresses are set and mapped */
	struct vring_avail_raw *avail;
	struct vring_used_raw *used;
	uint16_t last_avail_idx; /* next avail entry the device will take */
	uint16_t used_idx;       /* next used entry the device will fill */
	bool broken;             /* guest gave us garbage: stop touching this ring */
	int kick_fd;             /* -1 if none */
	int call_fd;             /* -1 if none */
	bool enabled;            /* SET_VRING_ENABLE */
	bool started;            /* has a kick fd (cleared by GET_VRING_BASE) */
	bool pending_signal;     /* used entries added since the last notify */
};

/* One descriptor chain taken from the avail ring. out = driver->device, in = device->driver. */
struct vring_chain {
	uint16_t head;
	unsigned n_out, n_in;
	size_t out_len, in_len;
	struct iovec out[VRING_MAX_IOV];
	struct iovec in[VRING_MAX_IOV];
};

void vring_init(struct vring *vq);
/*
 * Translates desc/avail/used (front-end addresses) through mem and takes
 * used_idx from the used ring; -1 (ring left unmapped) if a part does not fit
 * in one region or is misaligned.
 */
int vring_map(struct vring *vq, const struct guest_mem *mem);
/* Ready to process: mapped, started, enabled, not broken. */
bool vring_ready(const struct vring *vq);
/*
 * Takes the next available chain. Returns 1 with *chain filled, 0 when the
 * ring is empty or not mapped, -1 when the chain is malformed (the ring is
 * marked broken) or the ring is already broken. Readable descriptors must
 * precede writable ones; zero-length descriptors are skipped.
 */
int vring_pop(struct vring *vq, const struct guest_mem *mem, struct vring_chain *chain);
/*
 * Puts the most recently popped chain back so the next pop returns it again
 * (nothing was consumed). Chains popped from a ring stay valid until the
 * device is stopped; push or unpop each of them before that.
 */
void vring_unpop(struct vring *vq);
/* Returns a chain to the driver with `written` bytes written into its in-buffers. */
void vring_push(struct vring *vq, uint16_t head, uint32_t written);
/* Signals call_fd if anything was pushed since the last notify (and the driver wants it). */
void vring_notify(struct vring *vq);

/* Scatter/gather copy helpers, bounded by the iovec. Return bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t offset, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t offset, const void *buf,
                    size_t len);

#endif
