#include "tests/unit/harness/test.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cmsg.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "hypervisor/vsock/vhost_user.h"

enum {
	GET_FEATURES = 1,
	SET_FEATURES = 2,
	SET_OWNER = 3,
	RESET_OWNER = 4,
	SET_MEM_TABLE = 5,
	SET_VRING_NUM = 8,
	SET_VRING_ADDR = 9,
	SET_VRING_BASE = 10,
	GET_VRING_BASE = 11,
	SET_VRING_KICK = 12,
	SET_VRING_CALL = 13,
	SET_VRING_ERR = 14,
	GET_PROTOCOL_FEATURES = 15,
	SET_PROTOCOL_FEATURES = 16,
	GET_QUEUE_NUM = 17,
	SET_VRING_ENABLE = 18,
	GET_CONFIG = 24,
};

#define FLAGS       0x1 /* version 1, as QEMU sends requests */
#define NEED_REPLY  0x9
#define GUEST_CID   3
#define MEM_SIZE    0x100000ULL
#define MEM_UVA     0x7f1200000000ULL
#define NUM         128
#define RING_OFF(q) ((uint64_t)(q)*0x4000) /* desc +0, avail +0x1000, used +0x2000 */
#define DATA_OFF    0x10000

struct vu_state_msg {
	uint32_t index, num;
};

struct vu_addr_msg {
	uint32_t index, flags;
	uint64_t desc, used, avail, log;
};

struct fixture {
	struct husk_loop *loop;
	struct vu_dev dev;
	struct vu_msg reply;
	int memfd;
	uint8_t *guest;                               /* the test's own view of guest memory */
	int kick[VU_NUM_QUEUES], call[VU_NUM_QUEUES]; /* the front-end's ends */
	int kicks[VU_NUM_QUEUES], pops[VU_NUM_QUEUES];
	int started, stopped, disconnected;
};

/* The device layer stand-in: drains a kicked ring, returning every chain at once. */
static void on_queue_kick(void *data, unsigned q)
{
	struct fixture *f = data;
	struct vring_chain c;
	f->kicks[q]++;
	while (vring_pop(&f->dev.vq[q], &f->dev.mem, &c) == 1) {
		vring_push(&f->dev.vq[q], c.head, 0);
		f->pops[q]++;
	}
	vring_notify(&f->dev.vq[q]);
}

static void on_started(void *data)
{
	((struct fixture *)data)->started++;
}

static void on_stopped(void *data)
{
	((struct fixture *)data)->stopped++;
}

static void on_disconnected(void *data)
{
	((struct fixture *)data)->disconnected++;
}

static const struct vu_device_ops ops = {
    .queue_kick = on_queue_kick,
    .started = on_started,
    .stopped = on_stopped,
    .disconnected = on_disconnected,
};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Mappings of this fixture's guest memory file (matched by inode) in /proc/self/maps. */
static int count_guest_maps(const struct fixture *f)
{
	struct stat st;
	char line[512];
	int n = 0;
	if (fstat(f->memfd, &st) < 0)
		return -1;
	FILE *maps = fopen("/proc/self/maps", "r");
	if (!maps)
		return -1;
	while (fgets(line, sizeof(line), maps)) {
		unsigned long long ino;
		if (sscanf(line, "%*s %*s %*s %*s %llu", &ino) == 1 && ino == st.st_ino &&
		    strstr(line, "memfd:vu-test-guest"))
			n++;
	}
	fclose(maps);
	return n;
}

static int fixture_setup(struct fixture *f)
{
	cleanup_error husk_err err = NULL;
	memset(f, 0, sizeof(*f));
	f->loop = husk_loop_new(&err);
	f->memfd = memfd_create("vu-test-guest", MFD_CLOEXEC);
	if (!f->loop || f->memfd < 0 || ftruncate(f->memfd, MEM_SIZE) < 0)
		return -1;
	f->guest = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
	if (f->guest == MAP_FAILED)
		return -1;
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++)
		f->kick[q] = f->call[q] = -1;
	vu_dev_init(&f->dev, f->loop, GUEST_CID, &ops, f);
	return 0;
}

static void fixture_teardown(struct fixture *f)
{
	vu_dev_detach(&f->dev);
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++) {
		if (f->kick[q] >= 0)
			close(f->kick[q]);
		if (f->call[q] >= 0)
			close(f->call[q]);
	}
	munmap(f->guest, MEM_SIZE);
	close(f->memfd);
	husk_loop_run_once(f->loop, 0, NULL); /* reaps removed watches */
	husk_loop_free(f->loop);
}

/* Sends one message; returns what vu_handle_msg returned. */
static int send_msg(struct fixture *f, uint32_t req, uint32_t flags, const void *payload,
                    uint32_t size, int *fds, size_t nfds)
{
	static struct vu_msg m;
	m.request = req;
	m.flags = flags;
	m.size = size;
	if (size)
		memcpy(m.payload, payload, size < VU_MAX_PAYLOAD ? size : VU_MAX_PAYLOAD);
	memset(&f->reply, 0xee, VU_HDR_SIZE);
	return vu_handle_msg(&f->dev, &m, fds, nfds, &f->reply);
}

static int send_u64(struct fixture *f, uint32_t req, uint64_t v, int *fds, size_t nfds)
{
	return send_msg(f, req, FLAGS, &v, sizeof(v), fds, nfds);
}

static int send_state(struct fixture *f, uint32_t req, uint32_t index, uint32_t num)
{
	struct vu_state_msg st = {index, num};
	return send_msg(f, req, FLAGS, &st, sizeof(st), NULL, 0);
}

static uint64_t reply_u64(const struct fixture *f)
{
	uint64_t v;
	memcpy(&v, f->reply.payload, sizeof(v));
	return v;
}

/* Sends a vring fd message with a fresh eventfd; the test keeps a duplicate in *keep. */
static int send_vring_fd(struct fixture *f, uint32_t req, unsigned q, int *keep)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -1;
	if (keep) {
		if (*keep >= 0)
			close(*keep);
		*keep = dup(fd);
	}
	return send_u64(f, req, q, &fd, 1);
}

static int send_mem_table(struct fixture *f, uint32_t flags, uint64_t size)
{
	struct {
		uint32_t nregions, pad;
		uint64_t gpa, size, uva, mmap_offset;
	} mt = {1, 0, 0, size, MEM_UVA, 0};
	int fd = dup(f->memfd);
	return send_msg(f, SET_MEM_TABLE, flags, &mt, sizeof(mt), &fd, 1);
}

/* What QEMU 7.2 sends at realize (notes section 4, step 1), with the replies checked. */
static int qemu_realize(struct fixture *f)
{
	if (send_msg(f, GET_FEATURES, FLAGS, NULL, 0, NULL, 0) != 1 ||
	    reply_u64(f) != 0x140000000ULL)
		return -1;
	if (send_msg(f, GET_PROTOCOL_FEATURES, FLAGS, NULL, 0, NULL, 0) != 1 ||
	    reply_u64(f) != 0x209)
		return -1;
	if (send_u64(f, SET_PROTOCOL_FEATURES, 0x209, NULL, 0) != 0)
		return -1;
	if (send_msg(f, GET_QUEUE_NUM, FLAGS, NULL, 0, NULL, 0) != 1 || reply_u64(f) != 2)
		return -1;
	if (send_msg(f, SET_OWNER, FLAGS, NULL, 0, NULL, 0) != 0)
		return -1;
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++)
		if (send_vring_fd(f, SET_VRING_CALL, q, &f->call[q]) != 0 ||
		    send_vring_fd(f, SET_VRING_ERR, q, NULL) != 0)
			return -1;
	return 0;
}

static int qemu_setup_ring(struct fixture *f, unsigned q)
{
	struct vu_addr_msg a = {.index = q,
	                        .desc = MEM_UVA + RING_OFF(q),
	                        .avail = MEM_UVA + RING_OFF(q) + 0x1000,
	                        .used = MEM_UVA + RING_OFF(q) + 0x2000,
	                        .log = RING_OFF(q) + 0x2000};
	if (send_state(f, SET_VRING_NUM, q, NUM) != 0 || send_state(f, SET_VRING_BASE, q, 0) != 0)
		return -1;
	if (send_msg(f, SET_VRING_ADDR, FLAGS, &a, sizeof(a), NULL, 0) != 0)
		return -1;
	return send_vring_fd(f, SET_VRING_KICK, q, &f->kick[q]);
}

/* What QEMU 7.2 sends when the guest driver sets DRIVER_OK (step 2), up to the enables. */
static int qemu_start_rings(struct fixture *f)
{
	/* a fresh guest driver: rings zeroed */
	memset(f->guest, 0, DATA_OFF);
	for (unsigned q = VU_NUM_QUEUES; q-- > 0;)
		if (send_vring_fd(f, SET_VRING_CALL, q, &f->call[q]) != 0)
			return -1;
	if (send_u64(f, SET_FEATURES, 0x140000000ULL, NULL, 0) != 0)
		return -1;
	if (send_mem_table(f, NEED_REPLY, MEM_SIZE) != 1 || f->reply.flags != 0x5 ||
	    f->reply.request != SET_MEM_TABLE || f->reply.size != 8 || reply_u64(f) != 0)
		return -1;
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++)
		if (qemu_setup_ring(f, q) != 0)
			return -1;
	return 0;
}

static int qemu_enable(struct fixture *f, uint32_t on)
{
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++)
		if (send_state(f, SET_VRING_ENABLE, q, on) != 0)
			return -1;
	return 0;
}

/* Poweroff (step 4): disable, then GET_VRING_BASE for each ring; returns ring 0's base. */
static int qemu_stop(struct fixture *f)
{
	int base0 = -1;
	if (qemu_enable(f, 0) != 0)
		return -1;
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++) {
		if (send_state(f, GET_VRING_BASE, q, 0) != 1 || f->reply.flags != 0x5 ||
		    f->reply.request != GET_VRING_BASE || f->reply.size != 8)
			return -1;
		struct vu_state_msg st;
		memcpy(&st, f->reply.payload, sizeof(st));
		if (st.index != q)
			return -1;
		if (q == 0)
			base0 = (int)st.num;
	}
	return base0;
}

/* The guest offers an rx buffer in ring q (what the driver does before DRIVER_OK, too). */
static void guest_offer_buffer(struct fixture *f, unsigned q, uint16_t head)
{
	struct vring_desc_raw *desc = (void *)(f->guest + RING_OFF(q));
	struct vring_avail_raw *avail = (void *)(f->guest + RING_OFF(q) + 0x1000);
	desc[head] = (struct vring_desc_raw){.addr = htole64(DATA_OFF + head * 4096),
	                                     .len = htole32(4096),
	                                     .flags = htole16(VRING_DESC_F_WRITE)};
	uint16_t idx = le16toh(avail->idx);
	avail->ring[idx % NUM] = htole16(head);
	__atomic_store_n(&avail->idx, htole16(idx + 1), __ATOMIC_RELEASE);
}

TEST(vu_get_config_reply_bytes)
{
	struct fixture f;
	CHECK(fixture_setup(&f) == 0);
	uint32_t req[6] = {0, 8, 0};
	CHECK_INT(send_msg(&f, GET_CONFIG, FLAGS, req, 20, NULL, 0), ==, 1);
	CHECK_INT(f.reply.request, ==, GET_CONFIG);
	CHECK_INT(f.reply.flags, ==, 0x5);
	CHECK_INT(f.reply.size, ==, 20);
	static const uint8_t want[20] = {0, 0, 0, 0, 8, 0, 0, 0, 0, 0,
	                                 0, 0, 3, 0, 0, 0, 0, 0, 0, 0};
	CHECK(memcmp(f.reply.payload, want, sizeof(want)) == 0);
	/* a part of the config space */
	uint32_t part[4] = {1, 2, 0, 0};
	CHECK_INT(send_msg(&f, GET_CONFIG, FLAGS, part, 14, NULL, 0), ==, 1);
	CHECK_INT(f.reply.size, ==, 14);
	CHECK(f.reply.payload[12] == 0 && f.reply.payload[13] == 0);
	/* beyond the 8 bytes: an empty payload says "failed" */
	uint32_t past[5] = {4, 8, 0};
	CHECK_INT(send_msg(&f, GET_CONFIG, FLAGS, past, 20, NULL, 0), ==, 1);
	CHECK_INT(f.reply.size, ==, 0);
	uint32_t wrap[5] = {0xfffffffc, 8, 0};
	CHECK_INT(send_msg(&f, GET_CONFIG, FLAGS, wrap, 20, NULL, 0), ==, 1);
	CHECK_INT(f.reply.size, ==, 0);
	/* the size field must match the message */
	CHECK_INT(send_msg(&f, GET_CONFIG, FLAGS, req, 12, NULL, 0), ==, -1);
	CHECK_INT(send_msg(&f, GET_CONFIG, FLAGS, req, 24, NULL, 0), ==, -1);
	static uint32_t huge[100] = {0, 300, 0};
	CHECK_INT(send_msg(&f, GET_CONFIG, FLAGS, huge, 312, NULL, 0), ==, -1);
	CHECK_INT(send_msg(&f, GET_CONFIG, FLAGS, req, 8, NULL, 0), ==, -1);
	fixture_teardown(&f);
}

TEST(vu_qemu_sequence_starts_and_stops_device)
{
	struct fixture f;
	CHECK(fixture_setup(&f) == 0);
	CHECK(qemu_realize(&f) == 0);
	CHECK_INT(send_msg(&f, GET_FEATURES, FLAGS, NULL, 0, NULL, 0), ==, 1);
	CHECK_INT(f.reply.flags, ==, 0x5);
	CHECK_INT(f.reply.request, ==, GET_FEATURES);
	CHECK_INT(f.reply.size, ==, 8);
	CHECK(qemu_start_rings(&f) == 0);
	CHECK_INT(f.started, ==, 0); /* rings start disabled with protocol features */
	CHECK_INT(send_state(&f, SET_VRING_ENABLE, 0, 1), ==, 0);
	CHECK_INT(f.started, ==, 0);
	CHECK_INT(send_state(&f, SET_VRING_ENABLE, 1, 1), ==, 0);
	CHECK_INT(f.started, ==, 1);
	CHECK(f.dev.running);
	CHECK_INT(f.kicks[0], ==, 1);
	CHECK_INT(f.kicks[1], ==, 1);
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++)
		CHECK(f.dev.vq[q].kick_fd >= 0 && f.dev.vq[q].call_fd >= 0);
	CHECK_INT(qemu_stop(&f), ==, 0);
	CHECK_INT(f.stopped, ==, 1);
	CHECK(!f.dev.running);
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++)
		CHECK_INT(f.dev.vq[q].kick_fd, ==, -1);
	fixture_teardown(&f);
}

TEST(vu_get_vring_base_alone_stops_device)
{
	struct fixture f;
	CHECK(fixture_setup(&f) == 0);
	CHECK(qemu_realize(&f) == 0 && qemu_start_rings(&f) == 0 && qemu_enable(&f, 1) == 0);
	CHECK_INT(f.started, ==, 1);
	CHECK_INT(send_state(&f, GET_VRING_BASE, 1, 0), ==, 1);
	CHECK_INT(f.stopped, ==, 1);
	CHECK(!vring_ready(&f.dev.vq[1]));
	fixture_teardown(&f);
	CHECK_INT(f.stopped, ==, 1); /* detach does not report a stop twice */
}

TEST(vu_prefilled_rx_is_processed_on_enable)
{
	struct fixture f;
	uint64_t n = 1;
	CHECK(fixture_setup(&f) == 0);
	CHECK(qemu_realize(&f) == 0 && qemu_start_rings(&f) == 0);
	for (uint16_t head = 0; head < 3; head++)
		guest_offer_buffer(&f, 0, head);
	/* the guest kicks before the rings are enabled: nothing may be processed yet */
	CHECK(write(f.kick[0], &n, sizeof(n)) == sizeof(n));
	CHECK(husk_loop_run_once(f.loop, 1000, NULL) == 0);
	CHECK_INT(f.kicks[0], ==, 0);
	CHECK(read(f.kick[0], &n, sizeof(n)) < 0 && errno == EAGAIN); /* drained */
	CHECK(qemu_enable(&f, 1) == 0);
	CHECK_INT(f.pops[0], ==, 3);
	struct vring_used_raw *used = (void *)(f.guest + RING_OFF(0) + 0x2000);
	CHECK_INT(le16toh(used->idx), ==, 3);
	CHECK(read(f.call[0], &n, sizeof(n)) == sizeof(n)); /* the guest was signalled */
	CHECK_INT(qemu_stop(&f), ==, 3);
	fixture_teardown(&f);
}

TEST(vu_kick_fd_reaches_queue_kick)
{
	struct fixture f;
	uint64_t n = 1;
	CHECK(fixture_setup(&f) == 0);
	CHECK(qemu_realize(&f) == 0 && qemu_start_rings(&f) == 0 && qemu_enable(&f, 1) == 0);
	guest_offer_buffer(&f, 1, 7);
	CHECK(write(f.kick[1], &n, sizeof(n)) == sizeof(n));
	CHECK(husk_loop_run_once(f.loop, 1000, NULL) == 0);
	CHECK_INT(f.kicks[1], ==, 2);
	CHECK_INT(f.pops[1], ==, 1);
	CHECK_INT(f.kicks[0], ==, 1);
	fixture_teardown(&f);
}

TEST(vu_reboot_restarts_device_without_leaks)
{
	struct fixture f;
	int fds_before = count_fds();
	CHECK(fixture_setup(&f) == 0);
	int fds_setup = count_fds();
	CHECK(qemu_realize(&f) == 0);
	for (int boot = 1; boot <= 3; boot++) {
		CHECK(qemu_start_rings(&f) == 0 && qemu_enable(&f, 1) == 0);
		CHECK_INT(f.started, ==, boot);
		guest_offer_buffer(&f, 0, 1);
		on_queue_kick(&f, 0);
		CHECK_INT(f.pops[0], ==, boot);
		CHECK_INT(qemu_stop(&f), ==, 1);
		CHECK_INT(f.stopped, ==, boot);
		CHECK_INT(count_guest_maps(&f), ==,
		          2); /* the test's own + the device's, not more */
	}
	vu_dev_detach(&f.dev);
	CHECK_INT(count_guest_maps(&f), ==, 1);
	CHECK_INT(f.disconnected, ==, 0);
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++) {
		close(f.kick[q]);
		close(f.call[q]);
		f.kick[q] = f.call[q] = -1;
	}
	CHECK_INT(count_fds(), ==, fds_setup);
	fixture_teardown(&f);
	CHECK_INT(count_fds(), ==, fds_before);
}

TEST(vu_reset_owner_stops_and_forgets)
{
	struct fixture f;
	CHECK(fixture_setup(&f) == 0);
	CHECK(qemu_realize(&f) == 0 && qemu_start_rings(&f) == 0 && qemu_enable(&f, 1) == 0);
	CHECK_INT(send_msg(&f, RESET_OWNER, FLAGS, NULL, 0, NULL, 0), ==, 0);
	CHECK_INT(f.stopped, ==, 1);
	CHECK_INT(f.dev.mem.nregions, ==, 0);
	CHECK_INT(f.dev.vq[0].kick_fd, ==, -1);
	CHECK_INT(f.dev.vq[0].call_fd, ==, -1);
	CHECK_INT(count_guest_maps(&f), ==, 1);
	fixture_teardown(&f);
}

TEST(vu_mem_table_replacement_unmaps_old)
{
	struct fixture f;
	CHECK(fixture_setup(&f) == 0);
	CHECK_INT(send_mem_table(&f, FLAGS, MEM_SIZE), ==, 0);
	uint8_t *first = f.dev.mem.regions[0].host;
	CHECK_INT(send_mem_table(&f, FLAGS, MEM_SIZE / 2), ==, 0);
	CHECK(f.dev.mem.regions[0].host != first);
	CHECK_INT(f.dev.mem.regions[0].size, ==, MEM_SIZE / 2);
	CHECK_INT(count_guest_maps(&f), ==, 2);
	/* a region larger than its file would SIGBUS on access: refused, old table kept */
	CHECK_INT(send_mem_table(&f, FLAGS, MEM_SIZE * 2), ==, -1);
	CHECK_INT(f.dev.mem.nregions, ==, 1);
	CHECK_INT(f.dev.mem.regions[0].size, ==, MEM_SIZE / 2);
	CHECK_INT(count_guest_maps(&f), ==, 2);
	fixture_teardown(&f);
}

TEST(vu_mem_table_with_offset_regions)
{
	struct fixture f;
	CHECK(fixture_setup(&f) == 0);
	/* the -m 4G layout: two regions of one memfd, the second at a non-zero mmap_offset */
	struct {
		uint32_t nregions, pad;
		uint64_t r[2][4];
	} mt = {2,
	        0,
	        {{0, 0x40000, MEM_UVA, 0}, {0x100000000ULL, 0x80000, MEM_UVA + 0x40000, 0x41000}}};
	int fds[2] = {dup(f.memfd), dup(f.memfd)};
	CHECK_INT(send_msg(&f, SET_MEM_TABLE, FLAGS, &mt, sizeof(mt), fds, 2), ==, 0);
	f.guest[0x41000 + 5] = 0x5a;
	uint8_t *p = guest_mem_from_gpa(&f.dev.mem, 0x100000005ULL, 1);
	CHECK(p && *p == 0x5a);
	CHECK(guest_mem_from_uva(&f.dev.mem, MEM_UVA + 0x40005, 1) == p);
	CHECK(guest_mem_from_gpa(&f.dev.mem, 0x40000, 1) == NULL);
	/* mmap_offset + size past the end of the file */
	mt.r[1][3] = MEM_SIZE - 0x1000;
	fds[0] = dup(f.memfd);
	fds[1] = dup(f.memfd);
	CHECK_INT(send_msg(&f, SET_MEM_TABLE, FLAGS, &mt, sizeof(mt), fds, 2), ==, -1);
	fixture_teardown(&f);
}

TEST(vu_malformed_messages_rejected_without_fd_leaks)
{
	struct fixture f;
	CHECK(fixture_setup(&f) == 0);
	int fds_before = count_fds();
	static uint8_t zero[VU_MAX_PAYLOAD + 1];
	struct {
		uint32_t req, size;
	} bad[] = {
	    {GET_FEATURES, 8},          {SET_FEATURES, 4},
	    {SET_FEATURES, 16},         {SET_OWNER, 8},
	    {SET_VRING_NUM, 4},         {SET_VRING_NUM, 12},
	    {SET_VRING_ADDR, 32},       {SET_VRING_BASE, 0},
	    {GET_VRING_BASE, 4},        {SET_VRING_KICK, 4},
	    {SET_VRING_CALL, 12},       {SET_VRING_ENABLE, 16},
	    {SET_PROTOCOL_FEATURES, 0}, {GET_QUEUE_NUM, 1},
	    {SET_MEM_TABLE, 4},         {SET_MEM_TABLE, 8},
	    {SET_MEM_TABLE, 40},        {GET_CONFIG, 4},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = eventfd(0, EFD_CLOEXEC);
		int r = send_msg(&f, bad[i].req, FLAGS, zero, bad[i].size, &fd, 1);
		if (r != -1)
			fprintf(stderr, "  request %u size %u accepted\n", bad[i].req, bad[i].size);
		CHECK_INT(r, ==, -1);
		r = send_msg(&f, bad[i].req, FLAGS, zero, bad[i].size, NULL, 0);
		CHECK_INT(r, ==, -1);
	}
	/* fds where none belong, too many, too few */
	int fd = eventfd(0, EFD_CLOEXEC);
	CHECK_INT(send_u64(&f, SET_FEATURES, 0, &fd, 1), ==, -1);
	int two[2] = {eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC)};
	CHECK_INT(send_u64(&f, SET_VRING_CALL, 0, two, 2), ==, -1);
	CHECK_INT(send_u64(&f, SET_VRING_KICK, 0, NULL, 0), ==, -1);
	fd = eventfd(0, EFD_CLOEXEC);
	CHECK_INT(send_u64(&f, SET_VRING_CALL, 0x100, &fd, 1), ==, -1);  /* "no fd" plus an fd */
	CHECK_INT(send_u64(&f, SET_VRING_KICK, 0x100, NULL, 0), ==, -1); /* polling: unsupported */
	struct {
		uint32_t nregions, pad;
		uint64_t r[2][4];
	} mt = {2, 0, {{0, 0x1000, MEM_UVA, 0}, {0x1000, 0x1000, MEM_UVA + 0x1000, 0x1000}}};
	fd = dup(f.memfd);
	CHECK_INT(send_msg(&f, SET_MEM_TABLE, FLAGS, &mt, sizeof(mt), &fd, 1), ==, -1);
	mt.nregions = 9;
	CHECK_INT(send_msg(&f, SET_MEM_TABLE, FLAGS, &mt, sizeof(mt), NULL, 0), ==, -1);
	/* bad header flags and sizes */
	CHECK_INT(send_msg(&f, GET_FEATURES, 0x2, NULL, 0, NULL, 0), ==, -1);
	CHECK_INT(send_msg(&f, GET_FEATURES, 0x5, NULL, 0, NULL, 0), ==, -1);
	CHECK_INT(send_msg(&f, 99, FLAGS, zero, VU_MAX_PAYLOAD + 1, NULL, 0), ==, -1);
	CHECK_INT(count_fds(), ==, fds_before);
	CHECK_INT(count_guest_maps(&f), ==, 1);
	fixture_teardown(&f);
}

TEST(vu_values_out_of_range_rejected)
{
	struct fixture f;
	CHECK(fixture_setup(&f) == 0);
	int fds_before = count_fds();
	CHECK_INT(send_state(&f, SET_VRING_NUM, 2, 128), ==, -1);
	CHECK_INT(send_state(&f, SET_VRING_NUM, 0xffffffff, 128), ==, -1);
	CHECK_INT(send_state(&f, SET_VRING_NUM, 0, 100), ==, -1);
	CHECK_INT(send_state(&f, SET_VRING_NUM, 0, 0), ==, -1);
	CHECK_INT(send_state(&f, SET_VRING_NUM, 0, 65536), ==, -1);
	CHECK_INT(send_state(&f, SET_VRING_NUM, 0, 32768), ==, 0);
	CHECK_INT(send_state(&f, SET_VRING_BASE, 2, 0), ==, -1);
	CHECK_INT(send_state(&f, SET_VRING_BASE, 0, 0x10000), ==, -1);
	CHECK_INT(send_state(&f, GET_VRING_BASE, 2, 0), ==, -1);
	CHECK_INT(send_state(&f, SET_VRING_ENABLE, 2, 1), ==, -1);
	CHECK_INT(send_state(&f, SET_VRING_ENABLE, 0, 2), ==, -1);
	struct vu_addr_msg a = {.index = 2};
	CHECK_INT(send_msg(&f, SET_VRING_ADDR, FLAGS, &a, sizeof(a), NULL, 0), ==, -1);
	int fd = eventfd(0, EFD_CLOEXEC);
	CHECK_INT(send_u64(&f, SET_VRING_KICK, 2, &fd, 1), ==, -1);
	fd = eventfd(0, EFD_CLOEXEC);
	CHECK_INT(send_u64(&f, SET_VRING_CALL, 0x200, &fd, 1), ==, -1);
	fd = eventfd(0, EFD_CLOEXEC);
	CHECK_INT(send_u64(&f, SET_VRING_ERR, 0xff, &fd, 1), ==, -1);
	/* features we did not offer (EVENT_IDX, INDIRECT_DESC; protocol CONFIGURE_MEM_SLOTS) */
	CHECK_INT(send_u64(&f, SET_FEATURES, 1ULL << 29, NULL, 0), ==, -1);
	CHECK_INT(send_u64(&f, SET_FEATURES, 1ULL << 28, NULL, 0), ==, -1);
	CHECK_INT(send_u64(&f, SET_PROTOCOL_FEATURES, 1ULL << 15, NULL, 0), ==, -1);
	CHECK_INT(count_fds(), ==, fds_before);
	fixture_teardown(&f);
}

TEST(vu_ring_outside_memory_never_starts)
{
	struct fixture f;
	CHECK(fixture_setup(&f) == 0);
	CHECK(qemu_realize(&f) == 0 && qemu_start_rings(&f) == 0);
	struct vu_addr_msg a = {
	    .index = 1, .desc = MEM_UVA + MEM_SIZE - 16, .avail = MEM_UVA, .used = MEM_UVA};
	CHECK_INT(send_msg(&f, SET_VRING_ADDR, FLAGS, &a, sizeof(a), NULL, 0), ==, 0);
	CHECK(qemu_enable(&f, 1) == 0);
	CHECK_INT(f.started, ==, 0);
	fixture_teardown(&f);
}

TEST(vu_unknown_request_acked_as_failure)
{
	struct fixture f;
	CHECK(fixture_setup(&f) == 0);
	uint8_t zero[16] = {0};
	/* no REPLY_ACK negotiated yet: nothing to send */
	CHECK_INT(send_msg(&f, 99, NEED_REPLY, zero, 16, NULL, 0), ==, 0);
	CHECK_INT(send_u64(&f, SET_PROTOCOL_FEATURES, 0x209, NULL, 0), ==, 0);
	CHECK_INT(send_msg(&f, 99, FLAGS, zero, 16, NULL, 0), ==, 0);
	int fd = eventfd(0, EFD_CLOEXEC);
	int fds_before = count_fds();
	CHECK_INT(send_msg(&f, 99, NEED_REPLY, zero, 16, &fd, 1), ==, 1);
	CHECK_INT(count_fds(), ==, fds_before - 1);
	CHECK_INT(f.reply.request, ==, 99);
	CHECK_INT(f.reply.flags, ==, 0x5);
	CHECK_INT(f.reply.size, ==, 8);
	CHECK_INT(reply_u64(&f), ==, 1);
	/* a known request with NEED_REPLY gets a zero ack */
	CHECK_INT(send_msg(&f, SET_OWNER, NEED_REPLY, NULL, 0, NULL, 0), ==, 1);
	CHECK_INT(f.reply.request, ==, SET_OWNER);
	CHECK_INT(reply_u64(&f), ==, 0);
	/* requests with their own reply are not acked on top */
	CHECK_INT(send_msg(&f, GET_QUEUE_NUM, NEED_REPLY, NULL, 0, NULL, 0), ==, 1);
	CHECK_INT(reply_u64(&f), ==, 2);
	fixture_teardown(&f);
}

/* ---- over a real socket ---- */

static int read_reply(int sock, struct vu_msg *reply)
{
	ssize_t n = recv(sock, reply, sizeof(*reply), MSG_DONTWAIT);
	return n >= VU_HDR_SIZE && (size_t)n == VU_HDR_SIZE + reply->size ? 0 : -1;
}

TEST(vu_socket_serves_split_messages_and_fds)
{
	struct fixture f;
	cleanup_error husk_err err = NULL;
	int sv[2];
	int fds_before = count_fds();
	CHECK(fixture_setup(&f) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(vu_dev_attach(&f.dev, sv[1], &err) == 0);
	int extra = dup(sv[0]);
	CHECK(vu_dev_attach(&f.dev, extra, &err) == -1 && err->code == EBUSY);

	/* a header in two pieces */
	uint32_t hdr[3] = {GET_FEATURES, FLAGS, 0};
	CHECK(write(sv[0], hdr, 5) == 5);
	CHECK(husk_loop_run_once(f.loop, 1000, NULL) == 0);
	CHECK(write(sv[0], (uint8_t *)hdr + 5, 7) == 7);
	CHECK(husk_loop_run_once(f.loop, 1000, NULL) == 0);
	struct vu_msg reply;
	CHECK(read_reply(sv[0], &reply) == 0);
	CHECK_INT(reply.flags, ==, 0x5);
	CHECK_INT(reply.request, ==, GET_FEATURES);

	/* SET_PROTOCOL_FEATURES and SET_MEM_TABLE back to back, the table with its fd */
	struct {
		uint32_t req, flags, size;
		uint64_t v;
	} __attribute__((packed)) pf = {SET_PROTOCOL_FEATURES, FLAGS, 8, 0x209};
	struct {
		uint32_t req, flags, size, nregions, pad;
		uint64_t gpa, size2, uva, off;
	} __attribute__((packed))
	mt = {SET_MEM_TABLE, NEED_REPLY, 40, 1, 0, 0, MEM_SIZE, MEM_UVA, 0};
	CHECK(write(sv[0], &pf, sizeof(pf)) == sizeof(pf));
	CHECK(cmsg_send(sv[0], &mt, sizeof(mt), &f.memfd, 1) == sizeof(mt));
	CHECK(husk_loop_run_once(f.loop, 1000, NULL) == 0);
	CHECK(read_reply(sv[0], &reply) == 0);
	CHECK_INT(reply.request, ==, SET_MEM_TABLE);
	CHECK_INT(f.dev.mem.nregions, ==, 1);

	/* the front-end goes away */
	close(sv[0]);
	close(extra);
	CHECK(husk_loop_run_once(f.loop, 1000, NULL) == 0);
	CHECK_INT(f.disconnected, ==, 1);
	CHECK_INT(f.dev.conn_fd, ==, -1);
	CHECK_INT(f.dev.mem.nregions, ==, 0);
	fixture_teardown(&f);
	CHECK_INT(count_fds(), ==, fds_before);
}

/* Attaches a socket, writes raw bytes (with fds) to it and reports whether the device dropped it.
 */
static int dropped_after(const void *bytes, size_t len, int *fds, size_t nfds)
{
	struct fixture f;
	cleanup_error husk_err err = NULL;
	int sv[2], dropped;
	if (fixture_setup(&f) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (vu_dev_attach(&f.dev, sv[1], &err) < 0 ||
	    cmsg_send(sv[0], bytes, len, fds, nfds) != (ssize_t)len ||
	    husk_loop_run_once(f.loop, 1000, NULL) < 0)
		return -1;
	dropped = f.disconnected == 1 && f.dev.conn_fd == -1;
	close(sv[0]);
	fixture_teardown(&f);
	return dropped;
}

TEST(vu_socket_drops_bad_frontend)
{
	int fds_before = count_fds();
	uint32_t oversized[3] = {SET_MEM_TABLE, FLAGS, VU_MAX_PAYLOAD + 1};
	CHECK_INT(dropped_after(oversized, sizeof(oversized), NULL, 0), ==, 1);
	uint32_t stray_fd[5] = {SET_FEATURES, FLAGS, 8, 0, 0};
	int fd = eventfd(0, EFD_CLOEXEC);
	CHECK_INT(dropped_after(stray_fd, sizeof(stray_fd), &fd, 1), ==, 1);
	close(fd);
	uint32_t fine[5] = {SET_FEATURES, FLAGS, 8, 0, 0};
	CHECK_INT(dropped_after(fine, sizeof(fine), NULL, 0), ==, 0);
	CHECK_INT(count_fds(), ==, fds_before);
}
