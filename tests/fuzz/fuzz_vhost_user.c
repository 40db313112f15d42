/*
 * Feeds a sequence of vhost-user messages to vu_handle_msg, then walks
 * whatever rings got configured, as a hostile front-end and guest would.
 *
 * Input: repeated { 12-byte header, payload (size clamped to the input) }.
 * fds cannot come from the input, so the harness attaches what the request
 * expects: dups of one small memfd for SET_MEM_TABLE (one per claimed region,
 * at most 8), a fresh eventfd for KICK/CALL/ERR unless bit 8 says "no fd".
 * The pseudo-request POKE writes its payload (after a le32 offset) into that
 * memfd, so inputs can lay out rings in guest memory. Every input starts from
 * a fresh device and zeroed memory, and must leave no fd behind.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/loop.h"
#include "hypervisor/vsock/vhost_user.h"

#define GUEST_SIZE     0x10000
#define POKE           0xf0
#define SET_MEM_TABLE  5
#define SET_VRING_KICK 12
#define SET_VRING_ERR  14

static struct husk_loop *loop;
static struct vu_dev dev;
static int memfd = -1;
static uint8_t *guest;

static void drain_ring(unsigned q)
{
	struct vring *vq = &dev.vq[q];
	struct vring_chain c;
	uint8_t buf[256];

	for (int i = 0; i < 2 * VRING_MAX_IOV && vring_pop(vq, &dev.mem, &c) == 1; i++) {
		size_t n = iov_to_buf(c.out, c.n_out, 0, buf, sizeof(buf));
		iov_from_buf(c.in, c.n_in, 1, buf, n);
		if (i % 3 == 2) {
			vring_unpop(vq);
			break;
		}
		vring_push(vq, c.head, (uint32_t)(c.in_len < n ? c.in_len : n));
	}
	vring_notify(vq);
}

static void on_queue_kick(void *data, unsigned q)
{
	drain_ring(q);
}

static const struct vu_device_ops ops = {.queue_kick = on_queue_kick};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		abort();
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void setup_once(void)
{
	if (loop)
		return;
	log_set_level(LOG_LEVEL_ERROR);
	loop = husk_loop_new(NULL);
	memfd = memfd_create("fuzz-guest", MFD_CLOEXEC);
	if (!loop || memfd < 0 || ftruncate(memfd, GUEST_SIZE) < 0)
		abort();
	guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (guest == MAP_FAILED)
		abort();
}

/* The fds a real front-end would attach to this message; returns how many. */
static size_t attach_fds(const struct vu_msg *msg, int *fds)
{
	size_t n = 0;
	uint64_t v = 0;

	if (msg->request == SET_MEM_TABLE && msg->size >= 4) {
		uint32_t nregions;
		memcpy(&nregions, msg->payload, sizeof(nregions));
		for (; n < nregions && n < HUSK_MAX_FDS; n++)
			fds[n] = dup(memfd);
	} else if (msg->request >= SET_VRING_KICK && msg->request <= SET_VRING_ERR) {
		memcpy(&v, msg->payload, msg->size < sizeof(v) ? msg->size : sizeof(v));
		if (!(v & 0x100))
			fds[n++] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}
	return n;
}

static void poke(const uint8_t *payload, size_t size)
{
	uint32_t off;
	if (size < sizeof(off))
		return;
	memcpy(&off, payload, sizeof(off));
	off %= GUEST_SIZE;
	size_t len = size - sizeof(off);
	if (len > GUEST_SIZE - off)
		len = GUEST_SIZE - off;
	memcpy(guest + off, payload + sizeof(off), len);
}

static void kick_rings(void)
{
	uint64_t one = 1;
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++) {
		if (dev.vq[q].kick_fd < 0)
			continue;
		ssize_t n = write(dev.vq[q].kick_fd, &one, sizeof(one));
		(void)n; /* a full eventfd is fine */
	}
	husk_loop_run_once(loop, 0, NULL);
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++)
		drain_ring(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vu_msg msg, reply;

	setup_once();
	int fds_before = count_fds();
	memset(guest, 0, GUEST_SIZE);
	vu_dev_init(&dev, loop, 3, &ops, NULL);
	while (size >= VU_HDR_SIZE) {
		memcpy(&msg, data, VU_HDR_SIZE);
		data += VU_HDR_SIZE;
		size -= VU_HDR_SIZE;
		size_t len = msg.size;
		if (len > size)
			len = size;
		if (len > VU_MAX_PAYLOAD)
			len = VU_MAX_PAYLOAD;
		memset(msg.payload, 0, sizeof(msg.payload));
		memcpy(msg.payload, data, len);
		data += len;
		size -= len;
		if (msg.size > len && msg.size <= VU_MAX_PAYLOAD)
			msg.size = len;
		if (msg.request == POKE) {
			poke(msg.payload, len);
			continue;
		}
		int fds[HUSK_MAX_FDS];
		size_t nfds = attach_fds(&msg, fds);
		int r = vu_handle_msg(&dev, &msg, fds, nfds, &reply);
		if (r < 0)
			vu_dev_detach(
			    &dev); /* the connection is dropped; the next messages start afresh */
		else if (r == 1 && (reply.flags != 0x5 || reply.request != msg.request ||
		                    reply.size > VU_MAX_PAYLOAD))
			abort();
	}
	kick_rings();
	vu_dev_detach(&dev);
	husk_loop_run_once(loop, 0, NULL);
	if (count_fds() != fds_before)
		abort(); /* an fd leaked */
	return 0;
}
