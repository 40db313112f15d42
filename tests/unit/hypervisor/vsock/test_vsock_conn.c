/* Pure parts of husk-vsockd: packet checks, credit math, the guest->host buffer, the
 * connection table, the CONNECT line and guest port paths. */
#include "tests/unit/harness/test.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hypervisor/vsock/conn.h"
#include "hypervisor/vsock/hybrid.h"
#include "hypervisor/vsock/vsock_pkt.h"

static void encode(uint8_t raw[VSOCK_PKT_HDR_SIZE], uint16_t op, uint16_t type, uint64_t src,
                   uint64_t dst, uint32_t len)
{
	struct vsock_hdr h = {.src_cid = src,
	                      .dst_cid = dst,
	                      .src_port = 10,
	                      .dst_port = 20,
	                      .len = len,
	                      .type = type,
	                      .op = op,
	                      .buf_alloc = 1,
	                      .fwd_cnt = 2};
	vsock_hdr_encode(&h, raw);
}

TEST(packet_header_roundtrips_little_endian)
{
	uint8_t raw[VSOCK_PKT_HDR_SIZE];
	encode(raw, VSOCK_OP_RW, VSOCK_TYPE_STREAM, 3, 2, 0x01020304);
	CHECK_INT(raw[24], ==, 0x04);
	CHECK_INT(raw[27], ==, 0x01);
	CHECK_INT(raw[30], ==, VSOCK_OP_RW);
	struct vsock_hdr h;
	vsock_hdr_decode(raw, &h);
	CHECK_INT(h.len, ==, 0x01020304);
	CHECK_INT(h.src_port, ==, 10);
	CHECK_INT(h.fwd_cnt, ==, 2);
}

TEST(packet_check_verdicts)
{
	uint8_t raw[VSOCK_PKT_HDR_SIZE];
	struct vsock_hdr h;
	size_t full = VSOCK_PKT_HDR_SIZE + 100;
	encode(raw, VSOCK_OP_RW, VSOCK_TYPE_STREAM, 3, 2, 100);
	CHECK_INT(vsock_pkt_check(raw, full, 3, &h), ==, VSOCK_PKT_OK);
	CHECK_INT(vsock_pkt_check(raw, full - 1, 3, &h), ==, VSOCK_PKT_DROP); /* len > chain */
	CHECK_INT(vsock_pkt_check(raw, 43, 3, &h), ==, VSOCK_PKT_DROP);       /* short header */
	CHECK_INT(vsock_pkt_check(raw, full, 4, &h), ==, VSOCK_PKT_DROP);     /* spoofed CID */
	encode(raw, VSOCK_OP_RW, VSOCK_TYPE_STREAM, 3, 2, VSOCK_PKT_MAX_LEN + 1);
	CHECK_INT(vsock_pkt_check(raw, 1 << 20, 3, &h), ==, VSOCK_PKT_DROP); /* too big */
	encode(raw, VSOCK_OP_REQUEST, VSOCK_TYPE_STREAM, 3, 5, 0);
	CHECK_INT(vsock_pkt_check(raw, 44, 3, &h), ==, VSOCK_PKT_RST); /* not for the host */
	encode(raw, VSOCK_OP_REQUEST, 2, 3, 2, 0);
	CHECK_INT(vsock_pkt_check(raw, 44, 3, &h), ==, VSOCK_PKT_RST); /* seqpacket */
	encode(raw, 0, VSOCK_TYPE_STREAM, 3, 2, 0);
	CHECK_INT(vsock_pkt_check(raw, 44, 3, &h), ==, VSOCK_PKT_RST); /* INVALID op */
	encode(raw, 8, VSOCK_TYPE_STREAM, 3, 2, 0);
	CHECK_INT(vsock_pkt_check(raw, 44, 3, &h), ==, VSOCK_PKT_RST); /* unknown op */
	encode(raw, VSOCK_OP_REQUEST, VSOCK_TYPE_STREAM, 3, 2, 4);
	CHECK_INT(vsock_pkt_check(raw, 48, 3, &h), ==, VSOCK_PKT_RST); /* payload on control */
	encode(raw, VSOCK_OP_RST, 2, 3, 2, 0);
	CHECK_INT(vsock_pkt_check(raw, 44, 3, &h), ==, VSOCK_PKT_DROP); /* RST never answered */
	encode(raw, VSOCK_OP_RST, VSOCK_TYPE_STREAM, 3, 2, 0);
	CHECK_INT(vsock_pkt_check(raw, 44, 3, &h), ==, VSOCK_PKT_OK);
}

TEST(peer_credit_wraps_and_clamps)
{
	struct vsock_conn c = {0};
	conn_update_peer_credit(&c, 1000, 0);
	CHECK_INT(conn_peer_credit(&c), ==, 1000);
	c.tx_cnt = 600;
	CHECK_INT(conn_peer_credit(&c), ==, 400);
	c.tx_cnt = 1000;
	CHECK_INT(conn_peer_credit(&c), ==, 0);
	/* counters wrap around 2^32 */
	conn_update_peer_credit(&c, 1000, UINT32_MAX - 99);
	c.tx_cnt = 200; /* 300 in flight across the wrap */
	CHECK_INT(conn_peer_credit(&c), ==, 700);
	/* a guest claiming to have consumed more than we sent gets no extra credit */
	conn_update_peer_credit(&c, 1000, 500);
	c.tx_cnt = 100;
	CHECK_INT(conn_peer_credit(&c), ==, 0);
}

TEST(credit_update_due_after_a_quarter_is_freed)
{
	struct vsock_conn c = {.buf_alloc = 4096};
	c.fwd_cnt = 1023;
	CHECK(!conn_credit_update_due(&c));
	c.fwd_cnt = 1024;
	CHECK(conn_credit_update_due(&c));
	c.last_fwd_cnt_sent = UINT32_MAX - 10;
	c.fwd_cnt = 1100; /* across the wrap */
	CHECK(conn_credit_update_due(&c));
}

TEST(guest_to_host_buffer_keeps_order_across_wrap_and_is_bounded)
{
	struct vsock_conn c = {.buf_alloc = 10};
	char src[16];
	for (int i = 0; i < 16; i++)
		src[i] = (char)('a' + i);
	struct iovec in[2] = {{src, 3}, {src + 3, 13}};
	CHECK_INT(conn_buf_append(&c, in, 2, 0, 7), ==, 0);  /* abcdefg */
	CHECK_INT(conn_buf_append(&c, in, 2, 7, 4), ==, -1); /* 11 > 10 */
	conn_buf_consume(&c, 5);
	CHECK_INT(c.fwd_cnt, ==, 5);
	CHECK_INT(conn_buf_append(&c, in, 2, 7, 8), ==, 0); /* hijklmno: wraps */
	struct iovec out[2];
	unsigned n = conn_buf_peek(&c, out);
	CHECK_INT(n, ==, 2);
	char got[16] = {0};
	size_t len = 0;
	for (unsigned i = 0; i < n; i++) {
		memcpy(got + len, out[i].iov_base, out[i].iov_len);
		len += out[i].iov_len;
	}
	CHECK_INT(len, ==, 10);
	CHECK(memcmp(got, "fghijklmno", 10) == 0);
	conn_buf_consume(&c, 10);
	CHECK(c.buf == NULL); /* released once empty */
	CHECK_INT(c.fwd_cnt, ==, 15);
	CHECK_INT(conn_buf_peek(&c, out), ==, 0);
}

TEST(connection_table_finds_caps_and_allocates_ports_round_robin)
{
	struct conn_table *t = malloc(sizeof(*t));
	CHECK(t);
	conn_table_init(t);
	struct vsock_conn *a = conn_new(t, 1024, 5, 4096);
	CHECK(a);
	a->owner = NULL;
	CHECK(conn_find(t, 1024, 5) == a);
	CHECK(conn_find(t, 5, 1024) == NULL);
	CHECK_INT(conn_alloc_local_port(t, 7), ==, VSOCK_LOCAL_PORT_LO);
	struct vsock_conn *b = conn_new(t, VSOCK_LOCAL_PORT_LO + 1, 7, 4096);
	CHECK(b);
	/* the next port is in use with peer 7: skipped */
	CHECK_INT(conn_alloc_local_port(t, 7), ==, VSOCK_LOCAL_PORT_LO + 2);
	t->next_local_port = VSOCK_LOCAL_PORT_HI - 1;
	CHECK_INT(conn_alloc_local_port(t, 7), ==, VSOCK_LOCAL_PORT_HI - 1);
	CHECK_INT(conn_alloc_local_port(t, 7), ==, VSOCK_LOCAL_PORT_LO); /* wrapped */
	for (unsigned i = 2; i < VSOCK_MAX_CONNS; i++)
		CHECK(conn_new(t, 2000 + i, 1, 4096));
	CHECK_INT(t->count, ==, VSOCK_MAX_CONNS);
	CHECK(conn_new(t, 1, 1, 4096) == NULL); /* the cap */
	conn_free(t, a);
	CHECK(conn_find(t, 1024, 5) == NULL);
	CHECK_INT(t->count, ==, VSOCK_MAX_CONNS - 1);
	for (size_t i = 0; i < 256; i++)
		while (t->buckets[i])
			conn_free(t, t->buckets[i]);
	CHECK_INT(t->count, ==, 0);
	free(t);
}

static int parse_line(const char *bytes, uint32_t *port)
{
	struct connect_line l = {0};
	for (const char *p = bytes; *p; p++) {
		int r = connect_line_feed(&l, *p);
		if (r < 0)
			return -2;
		if (r == 1)
			return connect_line_parse(l.buf, l.len, port);
	}
	return -3; /* incomplete */
}

TEST(connect_line_parser)
{
	uint32_t port = 0;
	CHECK_INT(parse_line("CONNECT 1024\n", &port), ==, 0);
	CHECK_INT(port, ==, 1024);
	CHECK_INT(parse_line("CONNECT 4294967295\n", &port), ==, 0);
	CHECK_INT(port, ==, UINT32_MAX);
	CHECK_INT(parse_line("CONNECT 0\n", &port), ==, 0);
	CHECK_INT(parse_line("CONNECT 4294967296\n", &port), ==, -1);
	CHECK_INT(parse_line("CONNECT 12345678901\n", &port), ==, -1);
	CHECK_INT(parse_line("CONNECT \n", &port), ==, -1);
	CHECK_INT(parse_line("CONNECT -1\n", &port), ==, -1);
	CHECK_INT(parse_line("CONNECT 1 \n", &port), ==, -1);
	CHECK_INT(parse_line("CONNECT 12\r\n", &port), ==, -1);
	CHECK_INT(parse_line("connect 12\n", &port), ==, -1);
	CHECK_INT(parse_line("\n", &port), ==, -1);
	CHECK_INT(parse_line("CONNECT 1024", &port), ==, -3);
	CHECK_INT(parse_line("CONNECT 000000000000000000000000001\n", &port), ==, -2); /* > 32 */
	/* the feeder stops at the newline: what follows is stream data */
	struct connect_line l = {0};
	const char *in = "CONNECT 7\nDATA";
	size_t used = 0;
	while (connect_line_feed(&l, in[used++]) == 0)
		;
	CHECK_INT(used, ==, 10);
}

TEST(guest_port_paths_are_bounded_decimal)
{
	char out[UDS_PATH_MAX + 1];
	CHECK_INT(hybrid_port_path(out, sizeof(out), "/run/husk/x/vsock.sock", 1024), ==, 0);
	CHECK_STR(out, "/run/husk/x/vsock.sock_1024");
	CHECK_INT(hybrid_port_path(out, sizeof(out), "/a", UINT32_MAX), ==, 0);
	CHECK_STR(out, "/a_4294967295");
	char longp[UDS_PATH_MAX + 1];
	memset(longp, 'x', HYBRID_UDS_PATH_MAX);
	longp[HYBRID_UDS_PATH_MAX] = '\0';
	CHECK_INT(hybrid_port_path(out, sizeof(out), longp, UINT32_MAX), ==, 0);
	memset(longp, 'x', HYBRID_UDS_PATH_MAX + 1);
	longp[HYBRID_UDS_PATH_MAX + 1] = '\0';
	CHECK_INT(hybrid_port_path(out, sizeof(out), longp, UINT32_MAX), ==, -1);
}

TEST(uds_listen_replaces_stale_and_refuses_live_sockets)
{
	char dir[] = "/tmp/test_vsock_conn.XXXXXX";
	CHECK(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/s", dir);
	husk_err err = NULL;
	int fd = uds_listen(path, &err);
	CHECK(fd >= 0);
	CHECK_INT(uds_listen(path, &err), ==, -1); /* live */
	CHECK_INT(err->code, ==, EADDRINUSE);
	husk_error_free(&err);
	close(fd); /* now stale */
	fd = uds_listen(path, &err);
	CHECK(fd >= 0);
	close(fd);
	unlink(path);
	snprintf(path, sizeof(path), "%s/f", dir);
	FILE *f = fopen(path, "w");
	CHECK(f);
	fclose(f);
	CHECK_INT(uds_listen(path, &err), ==, -1); /* a regular file is never removed */
	husk_error_free(&err);
	CHECK(access(path, F_OK) == 0);
	unlink(path);
	rmdir(dir);
}
