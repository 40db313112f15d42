/*
 * Walks a split virtqueue whose every byte comes from the input, as a hostile
 * guest would lay it out.
 *
 * Input: u8 log2(num), u8 flags, le16 last_avail_idx, le32 desc/avail/used
 * offsets into guest memory (not necessarily aligned or inside it), then the
 * guest memory image. Guest memory is two regions (gpa 0x1000 and 0x100000),
 * so chains may also straddle or miss them.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "hypervisor/vsock/vring.h"

#define REGION_SIZE 0x4000
#define GPA0        0x1000ULL
#define GPA1        0x100000ULL
#define UVA0        0x7f0000000000ULL

struct header {
	uint8_t log2_num, flags;
	uint16_t last_avail;
	uint32_t desc, avail, used;
};

static uint8_t *memory;
static int call_fd = -1;

static void setup_once(void)
{
	if (memory)
		return;
	log_set_level(LOG_LEVEL_ERROR);
	memory = aligned_alloc(4096, 2 * REGION_SIZE);
	call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!memory || call_fd < 0)
		abort();
}

static void walk(struct vring *vq, const struct guest_mem *mem, uint8_t flags)
{
	struct vring_chain c;
	uint8_t buf[512];

	for (unsigned i = 0; i < 2 * vq->num + 2; i++) {
		int r = vring_pop(vq, mem, &c);
		if (r <= 0)
			break;
		if (c.n_out > VRING_MAX_IOV || c.n_in > VRING_MAX_IOV)
			abort();
		size_t n = iov_to_buf(c.out, c.n_out, flags & 7, buf, sizeof(buf));
		iov_from_buf(c.in, c.n_in, flags >> 5, buf, n);
		if ((flags & 0x10) && i == 1) {
			vring_unpop(vq);
			continue;
		}
		vring_push(vq, c.head, (uint32_t)n);
	}
	vring_notify(vq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct header h;
	struct guest_mem mem = {.nregions = 2};
	struct vring vq;
	uint64_t drained;

	if (size < sizeof(h))
		return 0;
	setup_once();
	memcpy(&h, data, sizeof(h));
	size -= sizeof(h);
	memset(memory, 0, 2 * REGION_SIZE);
	memcpy(memory, data + sizeof(h), size < 2 * REGION_SIZE ? size : 2 * REGION_SIZE);
	mem.regions[0] = (struct guest_mem_region){
	    .gpa = GPA0, .size = REGION_SIZE, .uva = UVA0, .host = memory};
	mem.regions[1] = (struct guest_mem_region){.gpa = GPA1,
	                                           .size = REGION_SIZE,
	                                           .uva = UVA0 + REGION_SIZE,
	                                           .host = memory + REGION_SIZE};
	vring_init(&vq);
	vq.num = 1u << (h.log2_num % 10);
	vq.desc_uva = UVA0 + le32toh(h.desc) % (3 * REGION_SIZE);
	vq.avail_uva = UVA0 + le32toh(h.avail) % (3 * REGION_SIZE);
	vq.used_uva = UVA0 + le32toh(h.used) % (3 * REGION_SIZE);
	vq.call_fd = call_fd;
	vq.started = vq.enabled = true;
	if (vring_map(&vq, &mem) == 0) {
		vq.last_avail_idx = le16toh(h.last_avail);
		walk(&vq, &mem, h.flags);
	}
	if (read(call_fd, &drained, sizeof(drained)) < 0)
		drained = 0; /* not signalled */
	return 0;
}
