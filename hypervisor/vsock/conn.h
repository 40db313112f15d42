/*
 * One vsock stream between a guest port and a host Unix socket: its state,
 * credit accounting in both directions, the bounded guest->host byte buffer
 * and the control packets still owed to the guest. Nothing here touches the
 * virtqueues or the event loop; vsock_dev.c drives it.
 */
#ifndef HUSK_VSOCK_CONN_H
#define HUSK_VSOCK_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VSOCK_MAX_CONNS     1024
#define VSOCK_LOCAL_PORT_LO (1u << 30)
#define VSOCK_LOCAL_PORT_HI (1u << 31) /* exclusive */

enum conn_state {
	CONN_LOCAL_INIT,   /* host client sent CONNECT; our REQUEST awaits the guest's RESPONSE */
	CONN_ESTABLISHED,  /* data flows (possibly half-closed, see the shutdown flags) */
	CONN_LOCAL_CLOSED, /* we sent SHUTDOWN(both) and await the guest's RST */
	CONN_DEAD,         /* owes the guest nothing but an RST (or nothing at all) */
};

/* Control packets owed to the guest, sent in this order of priority. */
enum {
	PEND_RST = 1u << 0,
	PEND_REQUEST = 1u << 1,
	PEND_RESPONSE = 1u << 2,
	PEND_CREDIT_UPDATE = 1u << 3,
	PEND_CREDIT_REQUEST = 1u << 4,
	PEND_RW = 1u << 5, /* the host fd was readable: read it into an rx buffer */
	PEND_SHUTDOWN = 1u << 6,
};

struct vsock_conn {
	uint32_t local_port; /* host side of the flow (our src_port in rx packets) */
	uint32_t peer_port;  /* guest side */
	int fd;              /* host Unix socket, -1 once closed */
	enum conn_state state;
	bool host_initiated;
	uint32_t pending;
	uint32_t shutdown_send_flags; /* SHUTDOWN flags owed to the guest */

	/* host -> guest: what the guest told us and what we sent */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	uint32_t peer_shutdown; /* sticky VSOCK_SHUTDOWN_* flags received from the guest */
	bool host_eof;          /* reading the host socket returned 0 */

	/* guest -> host */
	uint32_t buf_alloc;         /* what we advertise: the size of buf */
	uint32_t fwd_cnt;           /* bytes written to the host socket */
	uint32_t last_fwd_cnt_sent; /* fwd_cnt the guest last heard of */
	uint8_t *buf;               /* ring of buf_alloc bytes, allocated while in use */
	uint32_t buf_head, buf_len;
	bool host_wr_shut; /* shutdown(SHUT_WR) done on the host socket */

	int64_t deadline_ms; /* 0 = none; else a monotonic time limit for the current state */
	bool watched;        /* fd registered in the event loop */
	uint32_t watch_events;

	void *owner; /* the device, for event-loop callbacks */
	bool in_rxq;
	struct vsock_conn *rxq_next;
	struct vsock_conn *hash_next;
};

/* Bytes the guest can still take (peer_buf_alloc - in flight, u32 wrapping, clamped at 0). */
uint32_t conn_peer_credit(const struct vsock_conn *c);
/* Folds buf_alloc/fwd_cnt of any guest packet into the connection. */
void conn_update_peer_credit(struct vsock_conn *c, uint32_t buf_alloc, uint32_t fwd_cnt);
/* True once enough of our buffer was freed that the guest should hear about it. */
bool conn_credit_update_due(const struct vsock_conn *c);

/*
 * Guest -> host bytes: stores what the host socket could not take. Returns 0,
 * or -1 when the guest sent beyond the credit we gave it (or out of memory).
 */
int conn_buf_append(struct vsock_conn *c, const struct iovec *iov, unsigned n, size_t offset,
                    size_t len);
/* Up to two iovecs covering the buffered bytes in order; returns how many. */
unsigned conn_buf_peek(const struct vsock_conn *c, struct iovec out[2]);
/* Drops n buffered bytes that were written to the host and counts them as forwarded. */
void conn_buf_consume(struct vsock_conn *c, size_t n);
void conn_buf_release(struct vsock_conn *c);

struct conn_table {
	struct vsock_conn *buckets[256];
	unsigned count;
	uint32_t next_local_port;
};

void conn_table_init(struct conn_table *t);
struct vsock_conn *conn_find(const struct conn_table *t, uint32_t local_port, uint32_t peer_port);
/* New connection with fd -1, or NULL when the table is full or memory runs out. */
struct vsock_conn *conn_new(struct conn_table *t, uint32_t local_port, uint32_t peer_port,
                            uint32_t buf_alloc);
/* Unlinks and frees c (the caller closed its fd). */
void conn_free(struct conn_table *t, struct vsock_conn *c);
/* Round-robin local port in [1<<30, 1<<31) not used with peer_port; 0 if none. */
uint32_t conn_alloc_local_port(struct conn_table *t, uint32_t peer_port);
/* Calls fn on every connection; fn may free the connection it is given. */
void conn_for_each(struct conn_table *t, void (*fn)(struct vsock_conn *c, void *data), void *data);

#endif
