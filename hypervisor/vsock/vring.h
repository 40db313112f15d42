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

struct guest_mem_region {
	uint64_t gpa;  /* guest physical address of the region start */
	uint64_t size; /* bytes */
	uint64_t uva;  /* the front-end's (QEMU's) virtual address of the region */
	uint8_t *host; /* our mapping of gpa */
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
	struct vring_desc_raw *desc; /* translated, NULL until addresses are set and mapped */
	struct vring_avail_raw *avail;
	struct vring_used_raw *used;
	uint16_t last_avail_idx; /* next avail entry the device will take */
	uint16_t used_idx;       /* next used entry the device will fill */
	bool broken;             /* guest gave us garbage: stop touching this ring */
	int kick_fd;             /* -1 if none */
	int call_fd;             /* -1 if none */
	bool enabled;            /* SET_VRING_ENABLE */
	bool started;            /* has a kick fd and valid addresses */
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
/* Translates desc/avail/used through mem; -1 if they don't fit or are misaligned. */
int vring_map(struct vring *vq, const struct guest_mem *mem);
/* Ready to process: mapped, started, enabled, not broken. */
bool vring_ready(const struct vring *vq);
/*
 * Takes the next available chain. Returns 1 with *chain filled, 0 when the
 * ring is empty, -1 when the chain is malformed (the ring is marked broken).
 * Readable descriptors must precede writable ones.
 */
int vring_pop(struct vring *vq, const struct guest_mem *mem, struct vring_chain *chain);
/* Puts a popped chain back so the next pop returns it again (nothing was consumed). */
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
