#include "vsock_pkt.h"

#include <endian.h>
#include <string.h>

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

void vsock_hdr_decode(const uint8_t raw[VSOCK_PKT_HDR_SIZE], struct vsock_hdr *hdr)
{
	hdr->src_cid = get64(raw + 0);
	hdr->dst_cid = get64(raw + 8);
	hdr->src_port = get32(raw + 16);
	hdr->dst_port = get32(raw + 20);
	hdr->len = get32(raw + 24);
	hdr->type = get16(raw + 28);
	hdr->op = get16(raw + 30);
	hdr->flags = get32(raw + 32);
	hdr->buf_alloc = get32(raw + 36);
	hdr->fwd_cnt = get32(raw + 40);
}

void vsock_hdr_encode(const struct vsock_hdr *hdr, uint8_t raw[VSOCK_PKT_HDR_SIZE])
{
	put64(raw + 0, hdr->src_cid);
	put64(raw + 8, hdr->dst_cid);
	put32(raw + 16, hdr->src_port);
	put32(raw + 20, hdr->dst_port);
	put32(raw + 24, hdr->len);
	put16(raw + 28, hdr->type);
	put16(raw + 30, hdr->op);
	put32(raw + 32, hdr->flags);
	put32(raw + 36, hdr->buf_alloc);
	put32(raw + 40, hdr->fwd_cnt);
}

static int op_known(uint16_t op)
{
	return op >= VSOCK_OP_REQUEST && op <= VSOCK_OP_CREDIT_REQUEST;
}

enum vsock_verdict vsock_pkt_check(const uint8_t raw[VSOCK_PKT_HDR_SIZE], size_t avail,
                                   uint64_t guest_cid, struct vsock_hdr *hdr)
{
	if (avail < VSOCK_PKT_HDR_SIZE)
		return VSOCK_PKT_DROP;
	vsock_hdr_decode(raw, hdr);
	if (hdr->src_cid != guest_cid)
		return VSOCK_PKT_DROP;
	if (hdr->len > VSOCK_PKT_MAX_LEN || hdr->len > avail - VSOCK_PKT_HDR_SIZE)
		return VSOCK_PKT_DROP;
	if (hdr->op == VSOCK_OP_RST)
		return hdr->type == VSOCK_TYPE_STREAM && hdr->dst_cid == VSOCK_CID_HOST
		           ? VSOCK_PKT_OK
		           : VSOCK_PKT_DROP;
	if (hdr->dst_cid != VSOCK_CID_HOST || hdr->type != VSOCK_TYPE_STREAM || !op_known(hdr->op))
		return VSOCK_PKT_RST;
	if (hdr->op != VSOCK_OP_RW && hdr->len != 0)
		return VSOCK_PKT_RST;
	return VSOCK_PKT_OK;
}
