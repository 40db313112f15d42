#include "conn.h"

#include <stdlib.h>
#include <string.h>

#include "vring.h"

uint32_t conn_peer_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
	if (in_flight > c->peer_buf_alloc)
		return 0;
	return c->peer_buf_alloc - in_flight;
}

void conn_update_peer_credit(struct vsock_conn *c, uint32_t buf_alloc, uint32_t fwd_cnt)
{
	c->peer_buf_alloc = buf_alloc;
	c->peer_fwd_cnt = fwd_cnt;
}

bool conn_credit_update_due(const struct vsock_conn *c)
{
	return c->fwd_cnt - c->last_fwd_cnt_sent >= c->buf_alloc / 4;
}

int conn_buf_append(struct vsock_conn *c, const struct iovec *iov, unsigned n, size_t offset,
                    size_t len)
{
	if (len > c->buf_alloc - c->buf_len)
		return -1;
	if (len == 0)
		return 0;
	if (!c->buf) {
		c->buf = malloc(c->buf_alloc);
		if (!c->buf)
			return -1;
		c->buf_head = 0;
	}
	uint32_t tail = (c->buf_head + c->buf_len) % c->buf_alloc;
	size_t first = c->buf_alloc - tail;
	if (first > len)
		first = len;
	size_t got = iov_to_buf(iov, n, offset, c->buf + tail, first);
	if (got == first && len > first)
		got += iov_to_buf(iov, n, offset + first, c->buf, len - first);
	if (got != len)
		return -1;
	c->buf_len += len;
	return 0;
}

unsigned conn_buf_peek(const struct vsock_conn *c, struct iovec out[2])
{
	if (c->buf_len == 0)
		return 0;
	size_t first = c->buf_alloc - c->buf_head;
	if (first >= c->buf_len) {
		out[0] = (struct iovec){c->buf + c->buf_head, c->buf_len};
		return 1;
	}
	out[0] = (struct iovec){c->buf + c->buf_head, first};
	out[1] = (struct iovec){c->buf, c->buf_len - first};
	return 2;
}

void conn_buf_consume(struct vsock_conn *c, size_t n)
{
	c->buf_head = (c->buf_head + n) % c->buf_alloc;
	c->buf_len -= n;
	c->fwd_cnt += n;
	if (c->buf_len == 0)
		conn_buf_release(c);
}

void conn_buf_release(struct vsock_conn *c)
{
	free(c->buf);
	c->buf = NULL;
	c->buf_head = 0;
	c->buf_len = 0;
}

static unsigned bucket_of(uint32_t local_port, uint32_t peer_port)
{
	uint32_t h = local_port * 2654435761u ^ peer_port * 2246822519u;
	return (h >> 24) & 0xff;
}

void conn_table_init(struct conn_table *t)
{
	memset(t, 0, sizeof(*t));
	t->next_local_port = VSOCK_LOCAL_PORT_LO;
}

struct vsock_conn *conn_find(const struct conn_table *t, uint32_t local_port, uint32_t peer_port)
{
	struct vsock_conn *c = t->buckets[bucket_of(local_port, peer_port)];
	while (c && (c->local_port != local_port || c->peer_port != peer_port))
		c = c->hash_next;
	return c;
}

struct vsock_conn *conn_new(struct conn_table *t, uint32_t local_port, uint32_t peer_port,
                            uint32_t buf_alloc)
{
	if (t->count >= VSOCK_MAX_CONNS || buf_alloc == 0)
		return NULL;
	struct vsock_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->local_port = local_port;
	c->peer_port = peer_port;
	c->fd = -1;
	c->buf_alloc = buf_alloc;
	unsigned b = bucket_of(local_port, peer_port);
	c->hash_next = t->buckets[b];
	t->buckets[b] = c;
	t->count++;
	return c;
}

void conn_free(struct conn_table *t, struct vsock_conn *c)
{
	struct vsock_conn **pp = &t->buckets[bucket_of(c->local_port, c->peer_port)];
	while (*pp && *pp != c)
		pp = &(*pp)->hash_next;
	if (*pp) {
		*pp = c->hash_next;
		t->count--;
	}
	conn_buf_release(c);
	free(c);
}

uint32_t conn_alloc_local_port(struct conn_table *t, uint32_t peer_port)
{
	/* at most VSOCK_MAX_CONNS ports can be taken, so this ends quickly */
	for (unsigned tries = 0; tries <= VSOCK_MAX_CONNS; tries++) {
		uint32_t p = t->next_local_port++;
		if (t->next_local_port >= VSOCK_LOCAL_PORT_HI)
			t->next_local_port = VSOCK_LOCAL_PORT_LO;
		if (!conn_find(t, p, peer_port))
			return p;
	}
	return 0;
}

void conn_for_each(struct conn_table *t, void (*fn)(struct vsock_conn *c, void *data), void *data)
{
	for (size_t b = 0; b < sizeof(t->buckets) / sizeof(t->buckets[0]); b++) {
		struct vsock_conn *c = t->buckets[b];
		while (c) {
			struct vsock_conn *next = c->hash_next;
			fn(c, data);
			c = next;
		}
	}
}
