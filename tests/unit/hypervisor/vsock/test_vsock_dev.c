/* The vsock device driven by a synthetic guest ring and real Unix sockets on the host side. */
#include "tests/unit/harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "hypervisor/vsock/hybrid.h"
#include "hypervisor/vsock/vsock_dev.h"
#include "tests/guest/vsock_guest.h"

#define CID 3

struct fixture {
	struct test_guest g;
	struct vsock_dev d;
	struct husk_loop *loop;
	char dir[64];
	char uds[128];
	int listeners[4];
	uint32_t listener_ports[4];
	unsigned nlisteners;
};

static int fx_setup(struct fixture *f, uint32_t buf_alloc)
{
	husk_err err = NULL;
	memset(f, 0, sizeof(*f));
	log_set_level(LOG_LEVEL_ERROR);
	strcpy(f->dir, "/tmp/test_vsock_dev.XXXXXX");
	if (!mkdtemp(f->dir) || tg_init(&f->g) < 0)
		return -1;
	snprintf(f->uds, sizeof(f->uds), "%s/v.sock", f->dir);
	f->loop = husk_loop_new(&err);
	if (!f->loop || vsock_dev_init(&f->d, f->loop, &f->g.vu, CID, f->uds, buf_alloc, &err) < 0)
		return -1;
	vsock_dev_ops.started(&f->d);
	return 0;
}

static void fx_teardown(struct fixture *f)
{
	vsock_dev_fini(&f->d);
	for (unsigned i = 0; i < f->nlisteners; i++) {
		char p[160];
		hybrid_port_path(p, sizeof(p), f->uds, f->listener_ports[i]);
		close(f->listeners[i]);
		unlink(p);
	}
	husk_loop_free(f->loop);
	tg_fini(&f->g);
	rmdir(f->dir);
}

static int fx_listen(struct fixture *f, uint32_t port)
{
	husk_err err = NULL;
	char p[160];
	hybrid_port_path(p, sizeof(p), f->uds, port);
	int fd = uds_listen(p, &err);
	if (fd >= 0) {
		f->listeners[f->nlisteners] = fd;
		f->listener_ports[f->nlisteners++] = port;
	}
	husk_error_free(&err);
	return fd;
}

static void kick_tx(struct fixture *f)
{
	vsock_dev_ops.queue_kick(&f->d, VSOCK_TX_QUEUE);
}

/* Lets the loop handle host-socket events that are already pending. */
static void pump(struct fixture *f)
{
	husk_err err = NULL;
	for (int i = 0; i < 8; i++)
		husk_loop_run_once(f->loop, 20, &err);
	husk_error_free(&err);
}

static struct vsock_hdr ghdr(uint16_t op, uint32_t src_port, uint32_t dst_port, uint32_t len)
{
	return (struct vsock_hdr){.src_cid = CID,
	                          .dst_cid = VSOCK_CID_HOST,
	                          .src_port = src_port,
	                          .dst_port = dst_port,
	                          .len = len,
	                          .type = VSOCK_TYPE_STREAM,
	                          .op = op,
	                          .buf_alloc = 65536};
}

static void send_op(struct fixture *f, uint16_t op, uint32_t src_port, uint32_t dst_port)
{
	struct vsock_hdr h = ghdr(op, src_port, dst_port, 0);
	tg_send(&f->g, &h, NULL);
	kick_tx(f);
}

static int accept_host(int listener)
{
	struct pollfd p = {.fd = listener, .events = POLLIN};
	if (poll(&p, 1, 2000) != 1)
		return -1;
	return accept4(listener, NULL, NULL, SOCK_CLOEXEC);
}

/* Establishes guest port gport -> host port hport; returns the host's accepted socket. */
static int connect_from_guest(struct fixture *f, uint32_t gport, uint32_t hport)
{
	struct vsock_hdr r;
	send_op(f, VSOCK_OP_REQUEST, gport, hport);
	if (tg_recv(&f->g, &r, NULL, 0) != 1 || r.op != VSOCK_OP_RESPONSE || r.dst_port != gport ||
	    r.src_port != hport || r.dst_cid != CID || r.src_cid != VSOCK_CID_HOST)
		return -1;
	return accept_host(f->listeners[f->nlisteners - 1]);
}

TEST(guest_connects_to_host_port_and_data_flows_both_ways)
{
	struct fixture f;
	CHECK(fx_setup(&f, 65536) == 0);
	tg_add_rx(&f.g, 16);
	CHECK(fx_listen(&f, 1234) >= 0);
	int h = connect_from_guest(&f, 40000, 1234);
	CHECK(h >= 0);

	struct vsock_hdr w = ghdr(VSOCK_OP_RW, 40000, 1234, 5);
	tg_send(&f.g, &w, "hello");
	kick_tx(&f);
	char buf[64] = {0};
	CHECK_INT(read(h, buf, sizeof(buf)), ==, 5);
	CHECK_STR(buf, "hello");

	CHECK_INT(write(h, "world!", 6), ==, 6);
	pump(&f);
	struct vsock_hdr r;
	CHECK(tg_recv(&f.g, &r, buf, sizeof(buf)) == 1);
	CHECK_INT(r.op, ==, VSOCK_OP_RW);
	CHECK_INT(r.len, ==, 6);
	CHECK(memcmp(buf, "world!", 6) == 0);
	CHECK_INT(r.fwd_cnt, ==, 5); /* the 5 bytes written to the host socket */
	CHECK_INT(r.buf_alloc, ==, 65536);
	close(h);
	fx_teardown(&f);
}

TEST(guest_connect_without_host_listener_is_reset)
{
	struct fixture f;
	CHECK(fx_setup(&f, 65536) == 0);
	tg_add_rx(&f.g, 4);
	send_op(&f, VSOCK_OP_REQUEST, 40000, 4321);
	struct vsock_hdr r;
	CHECK(tg_recv(&f.g, &r, NULL, 0) == 1);
	CHECK_INT(r.op, ==, VSOCK_OP_RST);
	CHECK_INT(r.src_port, ==, 4321);
	CHECK_INT(r.dst_port, ==, 40000);
	CHECK_INT(f.d.conns.count, ==, 0);
	fx_teardown(&f);
}

TEST(hostile_headers_are_dropped_or_reset_and_the_device_keeps_working)
{
	struct fixture f;
	CHECK(fx_setup(&f, 65536) == 0);
	tg_add_rx(&f.g, 32);
	CHECK(fx_listen(&f, 1234) >= 0);
	struct vsock_hdr r, h = ghdr(VSOCK_OP_REQUEST, 1, 1234, 0);

	h.src_cid = 7; /* spoofed source: dropped */
	tg_send(&f.g, &h, NULL);
	h = ghdr(VSOCK_OP_RW, 1, 1234, 100);
	uint8_t raw[VSOCK_PKT_HDR_SIZE];
	vsock_hdr_encode(&h, raw);
	tg_send_raw(&f.g, raw, sizeof(raw)); /* len beyond the chain: dropped */
	tg_send_raw(&f.g, raw, 20);          /* short header: dropped */
	kick_tx(&f);
	CHECK(tg_recv(&f.g, &r, NULL, 0) == 0);

	h = ghdr(VSOCK_OP_REQUEST, 2, 1234, 0);
	h.dst_cid = 5; /* sibling routing is not offered */
	tg_send(&f.g, &h, NULL);
	h = ghdr(VSOCK_OP_REQUEST, 3, 1234, 0);
	h.type = 2; /* SEQPACKET */
	tg_send(&f.g, &h, NULL);
	h = ghdr(99, 4, 1234, 0);
	tg_send(&f.g, &h, NULL);
	h = ghdr(VSOCK_OP_CREDIT_UPDATE, 5, 1234, 0); /* flow that does not exist */
	tg_send(&f.g, &h, NULL);
	h = ghdr(VSOCK_OP_RST, 6, 1234, 0); /* RST is never answered */
	tg_send(&f.g, &h, NULL);
	kick_tx(&f);
	for (uint32_t port = 2; port <= 5; port++) {
		CHECK(tg_recv(&f.g, &r, NULL, 0) == 1);
		CHECK_INT(r.op, ==, VSOCK_OP_RST);
		CHECK_INT(r.dst_port, ==, port);
	}
	CHECK(tg_recv(&f.g, &r, NULL, 0) == 0);
	CHECK_INT(f.d.conns.count, ==, 0);

	int c = connect_from_guest(&f, 7, 1234);
	CHECK(c >= 0);
	close(c);
	fx_teardown(&f);
}

TEST(host_to_guest_data_stays_within_guest_credit)
{
	struct fixture f;
	CHECK(fx_setup(&f, 65536) == 0);
	tg_add_rx(&f.g, 32);
	CHECK(fx_listen(&f, 1234) >= 0);
	struct vsock_hdr req = ghdr(VSOCK_OP_REQUEST, 40000, 1234, 0), r;
	req.buf_alloc = 1000;
	tg_send(&f.g, &req, NULL);
	kick_tx(&f);
	CHECK(tg_recv(&f.g, &r, NULL, 0) == 1 && r.op == VSOCK_OP_RESPONSE);
	int h = accept_host(f.listeners[0]);
	CHECK(h >= 0);

	char out[5000], in[5000];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + 1);
	CHECK_INT(write(h, out, sizeof(out)), ==, (long)sizeof(out));
	pump(&f);
	size_t got = 0;
	bool asked = false;
	while (tg_recv(&f.g, &r, in + got, sizeof(in) - got) == 1) {
		if (r.op == VSOCK_OP_CREDIT_REQUEST) {
			asked = true;
			continue;
		}
		CHECK_INT(r.op, ==, VSOCK_OP_RW);
		got += r.len;
	}
	CHECK_INT(got, ==, 1000);
	CHECK(asked);

	/* the guest consumed everything: the rest follows, in order */
	while (got < sizeof(out)) {
		struct vsock_hdr cu = ghdr(VSOCK_OP_CREDIT_UPDATE, 40000, 1234, 0);
		cu.buf_alloc = 1000;
		cu.fwd_cnt = (uint32_t)got;
		tg_add_rx(&f.g, 4);
		tg_send(&f.g, &cu, NULL);
		kick_tx(&f);
		pump(&f);
		size_t before = got;
		while (tg_recv(&f.g, &r, in + got, sizeof(in) - got) == 1)
			if (r.op == VSOCK_OP_RW)
				got += r.len;
		CHECK(got > before && got - before <= 1000);
	}
	CHECK(memcmp(in, out, sizeof(out)) == 0);
	close(h);
	fx_teardown(&f);
}

TEST(guest_exceeding_our_credit_is_reset_and_memory_stays_bounded)
{
	struct fixture f;
	CHECK(fx_setup(&f, 4096) == 0);
	tg_add_rx(&f.g, 32);
	CHECK(fx_listen(&f, 1234) >= 0);
	int h = connect_from_guest(&f, 40000, 1234);
	CHECK(h >= 0);
	static uint8_t chunk[VSOCK_PKT_MAX_LEN];
	size_t sent = 0;
	bool reset = false;
	struct vsock_hdr r;
	/* the host never reads: the socket fills, then our 4 KiB buffer, then the guest is cut off
	 */
	for (int i = 0; i < 64 && !reset; i++) {
		for (size_t k = 0; k < sizeof(chunk); k++)
			chunk[k] = (uint8_t)(sent + k);
		struct vsock_hdr w = ghdr(VSOCK_OP_RW, 40000, 1234, sizeof(chunk));
		tg_send(&f.g, &w, chunk);
		kick_tx(&f);
		sent += sizeof(chunk);
		struct vsock_conn *c = conn_find(&f.d.conns, 1234, 40000);
		CHECK(!c || c->buf_len <= 4096);
		while (tg_recv(&f.g, &r, NULL, 0) == 1)
			if (r.op == VSOCK_OP_RST)
				reset = true;
	}
	CHECK(reset);
	CHECK_INT(f.d.conns.count, ==, 0);
	/* the host saw an exact prefix of the stream, then EOF */
	size_t seen = 0;
	uint8_t buf[8192];
	ssize_t n;
	while ((n = read(h, buf, sizeof(buf))) > 0) {
		for (ssize_t k = 0; k < n; k++)
			CHECK_INT(buf[k], ==, (uint8_t)(seen + (size_t)k));
		seen += (size_t)n;
	}
	CHECK_INT(n, ==, 0);
	CHECK(seen > 0 && seen < sent);
	close(h);
	fx_teardown(&f);
}

TEST(host_connect_line_gets_ok_after_guest_response)
{
	struct fixture f;
	CHECK(fx_setup(&f, 65536) == 0);
	tg_add_rx(&f.g, 8);
	int sp[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	vsock_dev_connect_host(&f.d, sp[0], 1024);
	struct vsock_hdr r;
	CHECK(tg_recv(&f.g, &r, NULL, 0) == 1);
	CHECK_INT(r.op, ==, VSOCK_OP_REQUEST);
	CHECK_INT(r.dst_port, ==, 1024);
	CHECK_INT(r.src_port, ==, VSOCK_LOCAL_PORT_LO);

	send_op(&f, VSOCK_OP_RESPONSE, 1024, r.src_port);
	char line[32] = {0};
	CHECK_INT(read(sp[1], line, sizeof(line) - 1), ==, 14);
	CHECK_STR(line, "OK 1073741824\n");

	/* a second host connection gets the next local port */
	int sp2[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp2) == 0);
	fcntl(sp2[0], F_SETFL, O_NONBLOCK);
	vsock_dev_connect_host(&f.d, sp2[0], 1024);
	CHECK(tg_recv(&f.g, &r, NULL, 0) == 1);
	CHECK_INT(r.src_port, ==, VSOCK_LOCAL_PORT_LO + 1);
	/* nobody listens: the guest resets, the host client sees EOF at once */
	send_op(&f, VSOCK_OP_RST, 1024, r.src_port);
	CHECK_INT(read(sp2[1], line, sizeof(line)), ==, 0);
	CHECK_INT(f.d.conns.count, ==, 1);
	close(sp[1]);
	close(sp2[1]);
	fx_teardown(&f);
}

TEST(request_timeout_resets_and_closes_the_host_client)
{
	struct fixture f;
	CHECK(fx_setup(&f, 65536) == 0);
	tg_add_rx(&f.g, 8);
	int sp[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	vsock_dev_connect_host(&f.d, sp[0], 1024);
	struct vsock_hdr r;
	CHECK(tg_recv(&f.g, &r, NULL, 0) == 1 && r.op == VSOCK_OP_REQUEST);
	vsock_dev_expire(&f.d, monotonic_ms() + VSOCK_REQUEST_TIMEOUT_MS + 1);
	CHECK(tg_recv(&f.g, &r, NULL, 0) == 1);
	CHECK_INT(r.op, ==, VSOCK_OP_RST);
	char c;
	CHECK_INT(read(sp[1], &c, 1), ==, 0);
	CHECK_INT(f.d.conns.count, ==, 0);
	close(sp[1]);
	fx_teardown(&f);
}

TEST(clean_close_from_either_side)
{
	struct fixture f;
	CHECK(fx_setup(&f, 65536) == 0);
	tg_add_rx(&f.g, 16);
	CHECK(fx_listen(&f, 1234) >= 0);
	struct vsock_hdr r;

	/* guest closes: host gets EOF, guest gets RST */
	int h = connect_from_guest(&f, 1, 1234);
	CHECK(h >= 0);
	struct vsock_hdr s = ghdr(VSOCK_OP_SHUTDOWN, 1, 1234, 0);
	s.flags = VSOCK_SHUTDOWN_BOTH;
	tg_send(&f.g, &s, NULL);
	kick_tx(&f);
	char c;
	CHECK_INT(read(h, &c, 1), ==, 0);
	CHECK(tg_recv(&f.g, &r, NULL, 0) == 1);
	CHECK_INT(r.op, ==, VSOCK_OP_RST);
	CHECK_INT(f.d.conns.count, ==, 0);
	close(h);

	/* host closes: guest gets SHUTDOWN(both), answers RST, connection gone */
	h = connect_from_guest(&f, 2, 1234);
	CHECK(h >= 0);
	close(h);
	pump(&f);
	CHECK(tg_recv(&f.g, &r, NULL, 0) == 1);
	CHECK_INT(r.op, ==, VSOCK_OP_SHUTDOWN);
	CHECK_INT(r.flags, ==, VSOCK_SHUTDOWN_BOTH);
	send_op(&f, VSOCK_OP_RST, 2, 1234);
	CHECK_INT(f.d.conns.count, ==, 0);

	/* host closes and the guest never answers: forced RST after the timeout */
	h = connect_from_guest(&f, 3, 1234);
	CHECK(h >= 0);
	close(h);
	pump(&f);
	CHECK(tg_recv(&f.g, &r, NULL, 0) == 1 && r.op == VSOCK_OP_SHUTDOWN);
	vsock_dev_expire(&f.d, monotonic_ms() + VSOCK_CLOSE_TIMEOUT_MS + 1);
	CHECK(tg_recv(&f.g, &r, NULL, 0) == 1);
	CHECK_INT(r.op, ==, VSOCK_OP_RST);
	CHECK_INT(f.d.conns.count, ==, 0);
	fx_teardown(&f);
}

TEST(tx_keeps_flowing_when_rx_is_full_and_side_queue_is_bounded)
{
	struct fixture f;
	CHECK(fx_setup(&f, 65536) == 0);
	/* no rx buffers at all: 300 refused connections owe 300 RSTs */
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 30; i++) {
			struct vsock_hdr h =
			    ghdr(VSOCK_OP_REQUEST, (uint32_t)(round * 30 + i), 9, 0);
			tg_send(&f.g, &h, NULL);
		}
		kick_tx(&f);
	}
	CHECK_INT(le16toh(tg_used(&f.g, 1)->idx), ==, 300);
	CHECK_INT(f.d.rst_len, ==, VSOCK_ORPHAN_RST_MAX);
	unsigned rsts = 0;
	struct vsock_hdr r;
	for (int i = 0; i < 8; i++) {
		tg_add_rx(&f.g, 32);
		vsock_dev_ops.queue_kick(&f.d, VSOCK_RX_QUEUE);
		while (tg_recv(&f.g, &r, NULL, 0) == 1) {
			CHECK_INT(r.op, ==, VSOCK_OP_RST);
			rsts++;
		}
	}
	CHECK_INT(rsts, ==, VSOCK_ORPHAN_RST_MAX);
	fx_teardown(&f);
}

TEST(rx_is_shared_round_robin_between_connections)
{
	struct fixture f;
	CHECK(fx_setup(&f, 65536) == 0);
	tg_add_rx(&f.g, 8);
	CHECK(fx_listen(&f, 1234) >= 0);
	int h1 = connect_from_guest(&f, 1, 1234), h2 = connect_from_guest(&f, 2, 1234);
	CHECK(h1 >= 0 && h2 >= 0);
	static char big[32768];
	CHECK_INT(write(h1, big, sizeof(big)), ==, (long)sizeof(big));
	CHECK_INT(write(h2, big, sizeof(big)), ==, (long)sizeof(big));
	pump(&f);
	/* 4 rx buffers left: neither connection may take them all */
	unsigned per_port[3] = {0};
	struct vsock_hdr r;
	while (tg_recv(&f.g, &r, NULL, 0) == 1)
		if (r.op == VSOCK_OP_RW && r.dst_port <= 2)
			per_port[r.dst_port]++;
	CHECK_INT(per_port[1], >=, 1);
	CHECK_INT(per_port[2], >=, 1);
	close(h1);
	close(h2);
	fx_teardown(&f);
}

TEST(stop_closes_every_connection)
{
	struct fixture f;
	CHECK(fx_setup(&f, 65536) == 0);
	tg_add_rx(&f.g, 8);
	CHECK(fx_listen(&f, 1234) >= 0);
	int h = connect_from_guest(&f, 1, 1234);
	CHECK(h >= 0);
	vsock_dev_ops.stopped(&f.d);
	char c;
	CHECK_INT(read(h, &c, 1), ==, 0);
	CHECK_INT(f.d.conns.count, ==, 0);
	int sp[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	vsock_dev_connect_host(&f.d, sp[0], 1024); /* refused while stopped */
	CHECK_INT(read(sp[1], &c, 1), ==, 0);
	close(sp[1]);
	close(h);
	fx_teardown(&f);
}
