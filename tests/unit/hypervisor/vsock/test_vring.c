#include "tests/unit/harness/test.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "hypervisor/vsock/vring.h"

/* One region of "guest memory" at gpa 0x1000; the ring parts live at its start. */
#define MEM_GPA   0x1000ULL
#define MEM_UVA   0x7f0000100000ULL
#define MEM_SIZE  0x20000
#define DESC_OFF  0x0
#define AVAIL_OFF 0x8000
#define USED_OFF  0x9000
#define DATA_GPA  (MEM_GPA + 0x10000) /* buffers from here on */

struct ring_fixture {
	uint8_t *buf;
	struct guest_mem mem;
	struct vring vq;
	struct vring_desc_raw *desc;
	struct vring_avail_raw *avail;
	struct vring_used_raw *used;
};

static int fixture_setup(struct ring_fixture *f, unsigned num)
{
	memset(f, 0, sizeof(*f));
	f->buf = aligned_alloc(4096, MEM_SIZE);
	if (!f->buf)
		return -1;
	memset(f->buf, 0, MEM_SIZE);
	f->mem.nregions = 1;
	f->mem.regions[0] = (struct guest_mem_region){
	    .gpa = MEM_GPA, .size = MEM_SIZE, .uva = MEM_UVA, .host = f->buf};
	f->desc = (void *)(f->buf + DESC_OFF);
	f->avail = (void *)(f->buf + AVAIL_OFF);
	f->used = (void *)(f->buf + USED_OFF);
	vring_init(&f->vq);
	f->vq.num = num;
	f->vq.desc_uva = MEM_UVA + DESC_OFF;
	f->vq.avail_uva = MEM_UVA + AVAIL_OFF;
	f->vq.used_uva = MEM_UVA + USED_OFF;
	f->vq.started = f->vq.enabled = true;
	return vring_map(&f->vq, &f->mem);
}

static void fixture_teardown(struct ring_fixture *f)
{
	if (f->vq.call_fd >= 0)
		close(f->vq.call_fd);
	free(f->buf);
}

static void set_desc(struct ring_fixture *f, unsigned i, uint64_t gpa, uint32_t len, uint16_t flags,
                     uint16_t next)
{
	f->desc[i] = (struct vring_desc_raw){.addr = htole64(gpa),
	                                     .len = htole32(len),
	                                     .flags = htole16(flags),
	                                     .next = htole16(next)};
}

static void make_available(struct ring_fixture *f, uint16_t head)
{
	uint16_t idx = le16toh(f->avail->idx);
	f->avail->ring[idx % f->vq.num] = htole16(head);
	f->avail->idx = htole16(idx + 1);
}

static uint8_t *host_of(struct ring_fixture *f, uint64_t gpa)
{
	return f->buf + (gpa - MEM_GPA);
}

TEST(ring_single_descriptor)
{
	struct ring_fixture f;
	struct vring_chain c;
	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 3, DATA_GPA, 44, 0, 0);
	make_available(&f, 3);
	CHECK_INT(vring_pop(&f.vq, &f.mem, &c), ==, 1);
	CHECK_INT(c.head, ==, 3);
	CHECK_INT(c.n_out, ==, 1);
	CHECK_INT(c.n_in, ==, 0);
	CHECK_INT(c.out_len, ==, 44);
	CHECK(c.out[0].iov_base == host_of(&f, DATA_GPA));
	CHECK_INT(vring_pop(&f.vq, &f.mem, &c), ==, 0);
	CHECK(!f.vq.broken);
	fixture_teardown(&f);
}

TEST(ring_chain_splits_readable_and_writable)
{
	struct ring_fixture f;
	struct vring_chain c;
	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 0, DATA_GPA, 44, VRING_DESC_F_NEXT, 5);
	set_desc(&f, 5, DATA_GPA + 0x100, 16, VRING_DESC_F_NEXT, 2);
	set_desc(&f, 2, DATA_GPA + 0x1000, 3776, VRING_DESC_F_WRITE, 0);
	make_available(&f, 0);
	CHECK_INT(vring_pop(&f.vq, &f.mem, &c), ==, 1);
	CHECK_INT(c.n_out, ==, 2);
	CHECK_INT(c.n_in, ==, 1);
	CHECK_INT(c.out_len, ==, 60);
	CHECK_INT(c.in_len, ==, 3776);
	CHECK(c.out[1].iov_base == host_of(&f, DATA_GPA + 0x100));
	CHECK(c.in[0].iov_base == host_of(&f, DATA_GPA + 0x1000));
	fixture_teardown(&f);
}

TEST(ring_zero_length_descriptor_is_skipped)
{
	struct ring_fixture f;
	struct vring_chain c;
	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 0, 0, 0, VRING_DESC_F_NEXT,
	         1); /* address 0 is outside memory: not looked at */
	set_desc(&f, 1, DATA_GPA, 100, VRING_DESC_F_WRITE, 0);
	make_available(&f, 0);
	CHECK_INT(vring_pop(&f.vq, &f.mem, &c), ==, 1);
	CHECK_INT(c.n_out, ==, 0);
	CHECK_INT(c.n_in, ==, 1);
	CHECK_INT(c.in_len, ==, 100);
	fixture_teardown(&f);
}

/* Pops one chain that must be rejected, and checks that the ring is then broken. */
static int pop_is_rejected(struct ring_fixture *f)
{
	struct vring_chain c;
	uint16_t before = f->vq.last_avail_idx;
	return vring_pop(&f->vq, &f->mem, &c) == -1 && f->vq.broken &&
	       f->vq.last_avail_idx == before;
}

TEST(ring_head_out_of_range)
{
	struct ring_fixture f;
	CHECK(fixture_setup(&f, 8) == 0);
	make_available(&f, 8);
	CHECK(pop_is_rejected(&f));
	fixture_teardown(&f);
}

TEST(ring_next_out_of_range)
{
	struct ring_fixture f;
	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 9);
	make_available(&f, 0);
	CHECK(pop_is_rejected(&f));
	fixture_teardown(&f);
}

TEST(ring_next_loop)
{
	struct ring_fixture f;
	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&f, 1, DATA_GPA, 16, VRING_DESC_F_NEXT, 0);
	make_available(&f, 0);
	CHECK(pop_is_rejected(&f));
	fixture_teardown(&f);
}

static void make_chain(struct ring_fixture *f, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		set_desc(f, i, DATA_GPA + i * 16, 16, i + 1 < len ? VRING_DESC_F_NEXT : 0, i + 1);
	make_available(f, 0);
}

TEST(ring_chain_of_max_iov_is_accepted)
{
	struct ring_fixture f;
	struct vring_chain c;
	CHECK(fixture_setup(&f, 128) == 0);
	make_chain(&f, VRING_MAX_IOV);
	CHECK_INT(vring_pop(&f.vq, &f.mem, &c), ==, 1);
	CHECK_INT(c.n_out, ==, VRING_MAX_IOV);
	CHECK_INT(c.out_len, ==, VRING_MAX_IOV * 16);
	fixture_teardown(&f);
}

TEST(ring_chain_longer_than_max_iov)
{
	struct ring_fixture f;
	CHECK(fixture_setup(&f, 128) == 0);
	make_chain(&f, VRING_MAX_IOV + 1);
	CHECK(pop_is_rejected(&f));
	fixture_teardown(&f);
}

TEST(ring_address_outside_region)
{
	struct ring_fixture f;
	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 0, MEM_GPA - 0x10, 0x20, 0, 0); /* starts below the region */
	make_available(&f, 0);
	CHECK(pop_is_rejected(&f));
	fixture_teardown(&f);

	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 0, MEM_GPA + MEM_SIZE - 10, 20, 0, 0); /* runs past its end */
	make_available(&f, 0);
	CHECK(pop_is_rejected(&f));
	fixture_teardown(&f);
}

TEST(ring_address_plus_length_overflow)
{
	struct ring_fixture f;
	CHECK(fixture_setup(&f, 8) == 0);
	CHECK(guest_mem_from_gpa(&f.mem, 0xffffffffffffff00ULL, 0x200) == NULL);
	CHECK(guest_mem_from_gpa(&f.mem, MEM_GPA + 8, UINT64_MAX) == NULL);
	CHECK(guest_mem_from_gpa(&f.mem, MEM_GPA, MEM_SIZE) == f.buf);
	CHECK(guest_mem_from_gpa(&f.mem, MEM_GPA, MEM_SIZE + 1) == NULL);
	set_desc(&f, 0, 0xffffffffffffff00ULL, 0x200, 0, 0);
	make_available(&f, 0);
	CHECK(pop_is_rejected(&f));
	fixture_teardown(&f);
}

TEST(ring_avail_idx_too_far_ahead)
{
	struct ring_fixture f;
	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 0, DATA_GPA, 16, 0, 0);
	f.avail->idx = htole16(9);
	CHECK(pop_is_rejected(&f));
	fixture_teardown(&f);
}

TEST(ring_indices_wrap_around)
{
	struct ring_fixture f;
	struct vring_chain c;
	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 1, DATA_GPA, 16, 0, 0);
	f.vq.last_avail_idx = 0xfffe;
	f.avail->idx = htole16(0xfffe);
	for (int i = 0; i < 3; i++)
		make_available(&f, 1);
	for (int i = 0; i < 3; i++)
		CHECK_INT(vring_pop(&f.vq, &f.mem, &c), ==, 1);
	CHECK_INT(vring_pop(&f.vq, &f.mem, &c), ==, 0);
	CHECK_INT(f.vq.last_avail_idx, ==, 1);
	fixture_teardown(&f);
}

TEST(ring_writable_before_readable)
{
	struct ring_fixture f;
	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 0, DATA_GPA, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(&f, 1, DATA_GPA + 16, 16, 0, 0);
	make_available(&f, 0);
	CHECK(pop_is_rejected(&f));
	fixture_teardown(&f);
}

TEST(ring_indirect_not_negotiated)
{
	struct ring_fixture f;
	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 0, DATA_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	make_available(&f, 0);
	CHECK(pop_is_rejected(&f));
	fixture_teardown(&f);
}

TEST(ring_push_fills_used)
{
	struct ring_fixture f;
	struct vring_chain c;
	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 6, DATA_GPA, 64, VRING_DESC_F_WRITE, 0);
	make_available(&f, 6);
	CHECK_INT(vring_pop(&f.vq, &f.mem, &c), ==, 1);
	vring_push(&f.vq, c.head, 44);
	CHECK_INT(le16toh(f.used->idx), ==, 1);
	CHECK_INT(le32toh(f.used->ring[0].id), ==, 6);
	CHECK_INT(le32toh(f.used->ring[0].len), ==, 44);
	CHECK(f.vq.pending_signal);
	fixture_teardown(&f);
}

TEST(ring_map_takes_used_idx_from_guest)
{
	struct ring_fixture f;
	CHECK(fixture_setup(&f, 8) == 0);
	f.used->idx = htole16(5);
	CHECK_INT(vring_map(&f.vq, &f.mem), ==, 0);
	CHECK_INT(f.vq.used_idx, ==, 5);
	vring_push(&f.vq, 0, 0);
	CHECK_INT(le16toh(f.used->idx), ==, 6);
	CHECK_INT(le32toh(f.used->ring[5].id), ==, 0);
	fixture_teardown(&f);
}

TEST(ring_unpop_returns_same_chain)
{
	struct ring_fixture f;
	struct vring_chain c;
	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 4, DATA_GPA, 64, VRING_DESC_F_WRITE, 0);
	make_available(&f, 4);
	CHECK_INT(vring_pop(&f.vq, &f.mem, &c), ==, 1);
	vring_unpop(&f.vq);
	memset(&c, 0, sizeof(c));
	CHECK_INT(vring_pop(&f.vq, &f.mem, &c), ==, 1);
	CHECK_INT(c.head, ==, 4);
	CHECK_INT(c.in_len, ==, 64);
	CHECK_INT(vring_pop(&f.vq, &f.mem, &c), ==, 0);
	fixture_teardown(&f);
}

static int eventfd_count(int fd, uint64_t *count)
{
	return read(fd, count, sizeof(*count)) == sizeof(*count) ? 0 : -1;
}

TEST(ring_notify_signals_eventfd)
{
	struct ring_fixture f;
	uint64_t n;
	CHECK(fixture_setup(&f, 8) == 0);
	f.vq.call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK(f.vq.call_fd >= 0);
	vring_notify(&f.vq); /* nothing pushed: no signal */
	CHECK(eventfd_count(f.vq.call_fd, &n) < 0 && errno == EAGAIN);
	vring_push(&f.vq, 0, 0);
	vring_push(&f.vq, 1, 0);
	vring_notify(&f.vq);
	CHECK(eventfd_count(f.vq.call_fd, &n) == 0);
	CHECK_INT(n, ==, 1);
	vring_notify(&f.vq);
	CHECK(eventfd_count(f.vq.call_fd, &n) < 0 && errno == EAGAIN);
	fixture_teardown(&f);
}

TEST(ring_notify_respects_no_interrupt)
{
	struct ring_fixture f;
	uint64_t n;
	CHECK(fixture_setup(&f, 8) == 0);
	f.vq.call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK(f.vq.call_fd >= 0);
	f.avail->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	vring_push(&f.vq, 0, 0);
	vring_notify(&f.vq);
	CHECK(eventfd_count(f.vq.call_fd, &n) < 0 && errno == EAGAIN);
	CHECK_INT(le16toh(f.used->idx), ==, 1);
	f.avail->flags = 0;
	vring_push(&f.vq, 0, 0);
	vring_notify(&f.vq);
	CHECK(eventfd_count(f.vq.call_fd, &n) == 0);
	fixture_teardown(&f);
}

/* Number of lines written to the log while fn runs. */
static int count_log_lines(void (*fn)(struct ring_fixture *), struct ring_fixture *f)
{
	int p[2];
	char buf[4096];
	if (pipe(p) < 0)
		return -1;
	log_set_output(p[1], 0);
	fn(f);
	log_set_output(STDERR_FILENO, 0);
	close(p[1]);
	ssize_t n = read(p[0], buf, sizeof(buf));
	close(p[0]);
	int lines = 0;
	for (ssize_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	return lines;
}

static void pop_three_times(struct ring_fixture *f)
{
	struct vring_chain c;
	for (int i = 0; i < 3; i++)
		vring_pop(&f->vq, &f->mem, &c);
}

TEST(ring_broken_stays_broken)
{
	struct ring_fixture f;
	struct vring_chain c;
	CHECK(fixture_setup(&f, 8) == 0);
	set_desc(&f, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 0); /* self loop */
	make_available(&f, 0);
	CHECK_INT(count_log_lines(pop_three_times, &f), ==, 1);
	CHECK(f.vq.broken);
	CHECK(!vring_ready(&f.vq));
	set_desc(&f, 0, DATA_GPA, 16, 0, 0); /* the guest "fixes" it: still ignored */
	CHECK_INT(vring_pop(&f.vq, &f.mem, &c), ==, -1);
	vring_push(&f.vq, 0, 16);
	CHECK_INT(le16toh(f.used->idx), ==, 0);
	fixture_teardown(&f);
}

TEST(ring_map_checks_alignment_and_size)
{
	struct ring_fixture f;
	CHECK(fixture_setup(&f, 8) == 0);
	CHECK(vring_ready(&f.vq));
	f.vq.desc_uva = MEM_UVA + 8;
	CHECK_INT(vring_map(&f.vq, &f.mem), ==, -1);
	CHECK(f.vq.desc == NULL && !vring_ready(&f.vq));
	f.vq.desc_uva = MEM_UVA;
	f.vq.avail_uva = MEM_UVA + AVAIL_OFF + 1;
	CHECK_INT(vring_map(&f.vq, &f.mem), ==, -1);
	f.vq.avail_uva = MEM_UVA + AVAIL_OFF;
	f.vq.used_uva = MEM_UVA + USED_OFF + 2;
	CHECK_INT(vring_map(&f.vq, &f.mem), ==, -1);
	f.vq.used_uva = MEM_UVA + MEM_SIZE - 8; /* 6 + 8 * num bytes do not fit */
	CHECK_INT(vring_map(&f.vq, &f.mem), ==, -1);
	f.vq.used_uva = MEM_UVA + USED_OFF;
	CHECK_INT(vring_map(&f.vq, &f.mem), ==, 0);
	struct vring_chain c;
	CHECK_INT(vring_pop(&f.vq, &f.mem, &c), ==, 0);
	fixture_teardown(&f);
}

TEST(iov_copies_across_buffers)
{
	char a[3] = "abc", b[4] = "defg", out[8] = {0};
	struct iovec iov[3] = {{a, 3}, {NULL, 0}, {b, 4}};
	CHECK_INT(iov_to_buf(iov, 3, 2, out, sizeof(out)), ==, 5);
	CHECK(memcmp(out, "cdefg", 5) == 0);
	CHECK_INT(iov_to_buf(iov, 3, 7, out, sizeof(out)), ==, 0);
	CHECK_INT(iov_from_buf(iov, 3, 1, "XYZW", 4), ==, 4);
	CHECK(memcmp(a, "aXY", 3) == 0 && memcmp(b, "ZWfg", 4) == 0);
	CHECK_INT(iov_from_buf(iov, 3, 5, "123456", 6), ==, 2);
	CHECK(memcmp(b, "ZW12", 4) == 0);
}
