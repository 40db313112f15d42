#include "vsock_dev.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "vsock_pkt.h"

static void conn_destroy(struct vsock_dev *d, struct vsock_conn *c);
static void conn_reset(struct vsock_dev *d, struct vsock_conn *c);
static void conn_watch(struct vsock_dev *d, struct vsock_conn *c);
static void fill_rx(struct vsock_dev *d);

/* out[] gets the part [off, off+len) of iov; returns the number of entries. */
static unsigned iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len,
                          struct iovec *out)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n && len > 0; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off;
		if (take > len)
			take = len;
		out[k++] = (struct iovec){(uint8_t *)iov[i].iov_base + off, take};
		len -= take;
		off = 0;
	}
	return k;
}

static void rxq_push(struct vsock_dev *d, struct vsock_conn *c)
{
	if (c->in_rxq)
		return;
	c->in_rxq = true;
	c->rxq_next = NULL;
	if (d->rxq_tail)
		d->rxq_tail->rxq_next = c;
	else
		d->rxq_head = c;
	d->rxq_tail = c;
}

static struct vsock_conn *rxq_pop(struct vsock_dev *d)
{
	struct vsock_conn *c = d->rxq_head;
	if (!c)
		return NULL;
	d->rxq_head = c->rxq_next;
	if (!d->rxq_head)
		d->rxq_tail = NULL;
	c->in_rxq = false;
	return c;
}

static void rxq_remove(struct vsock_dev *d, struct vsock_conn *c)
{
	if (!c->in_rxq)
		return;
	struct vsock_conn *prev = NULL;
	for (struct vsock_conn *p = d->rxq_head; p; prev = p, p = p->rxq_next) {
		if (p != c)
			continue;
		if (prev)
			prev->rxq_next = c->rxq_next;
		else
			d->rxq_head = c->rxq_next;
		if (d->rxq_tail == c)
			d->rxq_tail = prev;
		break;
	}
	c->in_rxq = false;
}

static void owe(struct vsock_dev *d, struct vsock_conn *c, uint32_t what)
{
	c->pending |= what;
	rxq_push(d, c);
}

static void owe_orphan_rst(struct vsock_dev *d, const struct vsock_hdr *h)
{
	if (d->rst_len == VSOCK_ORPHAN_RST_MAX) {
		log_debug("rx side queue full: dropping an RST to guest port %u", h->src_port);
		return;
	}
	unsigned i = (d->rst_head + d->rst_len++) % VSOCK_ORPHAN_RST_MAX;
	d->rst_ring[i] = (struct orphan_rst){.src_port = h->dst_port, .dst_port = h->src_port};
}

/* ---- host socket side ---- */

static bool conn_wants_read(const struct vsock_conn *c)
{
	return c->state == CONN_ESTABLISHED && c->fd >= 0 && !c->host_eof &&
	       !(c->peer_shutdown & VSOCK_SHUTDOWN_RCV) && !(c->pending & PEND_RW) &&
	       conn_peer_credit(c) > 0;
}

static void close_host_fd(struct vsock_dev *d, struct vsock_conn *c)
{
	if (c->fd < 0)
		return;
	if (c->watched)
		husk_loop_del(d->loop, c->fd);
	c->watched = false;
	close_fd(&c->fd);
}

/* Guest asked for both directions closed, or the host hung up: finish once drained. */
static void conn_check_close(struct vsock_dev *d, struct vsock_conn *c)
{
	if (c->state != CONN_ESTABLISHED || c->buf_len > 0)
		return;
	if ((c->peer_shutdown & VSOCK_SHUTDOWN_SEND) && !c->host_wr_shut && c->fd >= 0) {
		shutdown(c->fd, SHUT_WR);
		c->host_wr_shut = true;
	}
	if (c->peer_shutdown == VSOCK_SHUTDOWN_BOTH) {
		log_debug("conn %u:%u closed by the guest", c->local_port, c->peer_port);
		conn_reset(d, c);
	}
}

static void flush_to_host(struct vsock_dev *d, struct vsock_conn *c)
{
	while (c->buf_len > 0) {
		struct iovec iov[2];
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = conn_buf_peek(c, iov)};
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			log_debug("conn %u:%u host write: %s", c->local_port, c->peer_port,
			          strerror(errno));
			conn_reset(d, c);
			return;
		}
		conn_buf_consume(c, (size_t)n);
	}
	if (conn_credit_update_due(c))
		owe(d, c, PEND_CREDIT_UPDATE);
	conn_check_close(d, c);
	if (c->state != CONN_DEAD)
		conn_watch(d, c);
}

static void host_hung_up(struct vsock_dev *d, struct vsock_conn *c)
{
	close_host_fd(d, c);
	c->shutdown_send_flags = VSOCK_SHUTDOWN_BOTH;
	owe(d, c, PEND_SHUTDOWN);
}

static int on_host_fd(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct vsock_conn *c = data;
	struct vsock_dev *d = c->owner;
	if (c->buf_len > 0 && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		flush_to_host(d, c);
		if (c->fd < 0)
			goto out;
	}
	if (conn_wants_read(c) && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
		owe(d, c, PEND_RW);
		conn_watch(d, c);
	} else if (c->host_eof && c->state == CONN_ESTABLISHED &&
	           (events & (EPOLLERR | EPOLLHUP))) {
		host_hung_up(d, c);
	}
out:
	fill_rx(d);
	return 0;
}

/*
 * Registers the host fd for what the connection can use now. After EOF it
 * stays registered with no events so that the peer's final hang-up is seen;
 * otherwise an fd we do not want to read is not watched at all, since epoll
 * reports a hang-up regardless of the event mask.
 */
static void conn_watch(struct vsock_dev *d, struct vsock_conn *c)
{
	if (c->fd < 0)
		return;
	uint32_t ev = 0;
	if (conn_wants_read(c))
		ev |= EPOLLIN;
	if (c->buf_len > 0)
		ev |= EPOLLOUT;
	bool keep = ev != 0 || (c->host_eof && c->state == CONN_ESTABLISHED);
	cleanup_error husk_err err = NULL;
	if (!keep) {
		if (c->watched)
			husk_loop_del(d->loop, c->fd);
		c->watched = false;
		return;
	}
	if (c->watched && ev == c->watch_events)
		return;
	int r = c->watched ? husk_loop_mod(d->loop, c->fd, ev, &err)
	                   : husk_loop_add(d->loop, c->fd, ev, on_host_fd, c, &err);
	if (r < 0) {
		log_warn("conn %u:%u: %s", c->local_port, c->peer_port, husk_error_msg(err));
		conn_reset(d, c);
		return;
	}
	c->watched = true;
	c->watch_events = ev;
}

static void conn_destroy(struct vsock_dev *d, struct vsock_conn *c)
{
	close_host_fd(d, c);
	rxq_remove(d, c);
	conn_free(&d->conns, c);
}

/* Drops the host side and owes the guest an RST (nothing, if the device is down). */
static void conn_reset(struct vsock_dev *d, struct vsock_conn *c)
{
	close_host_fd(d, c);
	conn_buf_release(c);
	c->state = CONN_DEAD;
	c->deadline_ms = 0;
	if (!d->running) {
		conn_destroy(d, c);
		return;
	}
	c->pending = 0;
	owe(d, c, PEND_RST);
}

/* ---- guest packets (tx) ---- */

static void guest_connect(struct vsock_dev *d, const struct vsock_hdr *h)
{
	int fd = hybrid_connect_port(d->uds_path, h->dst_port);
	if (fd < 0) {
		log_debug("guest port %u -> host port %u: %s", h->src_port, h->dst_port,
		          strerror(errno));
		owe_orphan_rst(d, h);
		return;
	}
	struct vsock_conn *c = conn_new(&d->conns, h->dst_port, h->src_port, d->buf_alloc);
	if (!c) {
		log_warn("connection limit reached: refusing guest port %u -> host port %u",
		         h->src_port, h->dst_port);
		close(fd);
		owe_orphan_rst(d, h);
		return;
	}
	c->owner = d;
	c->fd = fd;
	c->state = CONN_ESTABLISHED;
	conn_update_peer_credit(c, h->buf_alloc, h->fwd_cnt);
	owe(d, c, PEND_RESPONSE);
	conn_watch(d, c);
}

static void guest_response(struct vsock_dev *d, struct vsock_conn *c)
{
	if (c->state != CONN_LOCAL_INIT) {
		conn_reset(d, c);
		return;
	}
	char line[32];
	int n = snprintf(line, sizeof(line), "OK %u\n", c->local_port);
	if (send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
		conn_reset(d, c);
		return;
	}
	c->state = CONN_ESTABLISHED;
	c->deadline_ms = 0;
	conn_watch(d, c);
}

static void guest_rw(struct vsock_dev *d, struct vsock_conn *c, const struct vring_chain *chain,
                     uint32_t len)
{
	if (c->state == CONN_LOCAL_CLOSED)
		return; /* in flight before our SHUTDOWN reached the guest */
	if (c->state != CONN_ESTABLISHED || (c->peer_shutdown & VSOCK_SHUTDOWN_SEND)) {
		conn_reset(d, c);
		return;
	}
	size_t done = 0;
	if (c->buf_len == 0 && len > 0) {
		struct iovec iov[VRING_MAX_IOV];
		struct msghdr mh = {.msg_iov = iov};
		mh.msg_iovlen = iov_slice(chain->out, chain->n_out, VSOCK_PKT_HDR_SIZE, len, iov);
		ssize_t n;
		do
			n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN) {
			conn_reset(d, c);
			return;
		}
		if (n > 0) {
			done = (size_t)n;
			c->fwd_cnt += (uint32_t)n;
		}
	}
	if (conn_buf_append(c, chain->out, chain->n_out, VSOCK_PKT_HDR_SIZE + done, len - done) <
	    0) {
		log_warn("conn %u:%u: guest sent beyond its credit; resetting", c->local_port,
		         c->peer_port);
		conn_reset(d, c);
		return;
	}
	if (conn_credit_update_due(c))
		owe(d, c, PEND_CREDIT_UPDATE);
	conn_watch(d, c);
}

static void guest_shutdown(struct vsock_dev *d, struct vsock_conn *c, uint32_t flags)
{
	if (c->state == CONN_LOCAL_CLOSED)
		return;
	if (c->state != CONN_ESTABLISHED) {
		conn_reset(d, c);
		return;
	}
	c->peer_shutdown |= flags & VSOCK_SHUTDOWN_BOTH;
	if (c->peer_shutdown == VSOCK_SHUTDOWN_BOTH && c->buf_len > 0)
		c->deadline_ms = monotonic_ms() + VSOCK_CLOSE_TIMEOUT_MS;
	conn_check_close(d, c);
	conn_watch(d, c);
}

static void guest_packet(struct vsock_dev *d, const struct vsock_hdr *h,
                         const struct vring_chain *chain)
{
	struct vsock_conn *c = conn_find(&d->conns, h->dst_port, h->src_port);
	if (c && c->state == CONN_DEAD) {
		if (h->op != VSOCK_OP_REQUEST)
			return; /* our RST is on its way */
		conn_destroy(d, c);
		c = NULL;
	}
	if (!c) {
		if (h->op == VSOCK_OP_REQUEST)
			guest_connect(d, h);
		else if (h->op != VSOCK_OP_RST)
			owe_orphan_rst(d, h);
		return;
	}
	conn_update_peer_credit(c, h->buf_alloc, h->fwd_cnt);
	switch (h->op) {
	case VSOCK_OP_RST:
		log_debug("conn %u:%u reset by the guest", c->local_port, c->peer_port);
		conn_destroy(d, c);
		return;
	case VSOCK_OP_RESPONSE:
		guest_response(d, c);
		return;
	case VSOCK_OP_RW:
		guest_rw(d, c, chain, h->len);
		return;
	case VSOCK_OP_SHUTDOWN:
		guest_shutdown(d, c, h->flags);
		return;
	case VSOCK_OP_CREDIT_REQUEST:
		owe(d, c, PEND_CREDIT_UPDATE);
		break;
	case VSOCK_OP_CREDIT_UPDATE:
		break;
	default: /* REQUEST on an existing flow */
		conn_reset(d, c);
		return;
	}
	conn_watch(d, c); /* the new credit may let us read again */
}

static void handle_tx_chain(struct vsock_dev *d, const struct vring_chain *chain)
{
	uint8_t raw[VSOCK_PKT_HDR_SIZE];
	size_t got = iov_to_buf(chain->out, chain->n_out, 0, raw, sizeof(raw));
	struct vsock_hdr h;
	switch (vsock_pkt_check(raw, got < sizeof(raw) ? got : chain->out_len, d->guest_cid, &h)) {
	case VSOCK_PKT_OK:
		guest_packet(d, &h, chain);
		break;
	case VSOCK_PKT_RST:
		log_debug("guest sent an invalid packet (op %u type %u dst_cid %llu); RST", h.op,
		          h.type, (unsigned long long)h.dst_cid);
		owe_orphan_rst(d, &h);
		break;
	case VSOCK_PKT_DROP:
		log_debug("guest sent a malformed packet; dropped");
		break;
	}
}

/* Takes guest packets off tx, then sends what they caused (and anything else owed) on rx. */
static void process_tx(struct vsock_dev *d)
{
	struct vring *vq = &d->vu->vq[VSOCK_TX_QUEUE];
	if (d->running && vring_ready(vq)) {
		unsigned done = 0;
		while (done < VSOCK_TX_BUDGET) {
			if (vring_pop(vq, &d->vu->mem, &d->tx_chain) <= 0)
				break;
			handle_tx_chain(d, &d->tx_chain);
			vring_push(vq, d->tx_chain.head, 0);
			done++;
		}
		vring_notify(vq);
		if (done == VSOCK_TX_BUDGET)
			eventfd_write(d->resume_fd, 1);
	}
	fill_rx(d);
}

/* ---- packets to the guest (rx) ---- */

static uint32_t put_hdr(struct vsock_dev *d, struct vring_chain *ch, uint32_t src_port,
                        uint32_t dst_port, uint16_t op, uint32_t flags, uint32_t len,
                        struct vsock_conn *c)
{
	struct vsock_hdr h = {
	    .src_cid = VSOCK_CID_HOST,
	    .dst_cid = d->guest_cid,
	    .src_port = src_port,
	    .dst_port = dst_port,
	    .len = len,
	    .type = VSOCK_TYPE_STREAM,
	    .op = op,
	    .flags = flags,
	    .buf_alloc = d->buf_alloc,
	    .fwd_cnt = c ? c->fwd_cnt : 0,
	};
	if (c) {
		c->last_fwd_cnt_sent = c->fwd_cnt;
		c->pending &= ~(uint32_t)PEND_CREDIT_UPDATE;
	}
	uint8_t raw[VSOCK_PKT_HDR_SIZE];
	vsock_hdr_encode(&h, raw);
	iov_from_buf(ch->in, ch->n_in, 0, raw, sizeof(raw));
	return VSOCK_PKT_HDR_SIZE + len;
}

static uint32_t put_ctl(struct vsock_dev *d, struct vring_chain *ch, struct vsock_conn *c,
                        uint16_t op, uint32_t flags)
{
	return put_hdr(d, ch, c->local_port, c->peer_port, op, flags, 0, c);
}

/* Reads the host socket straight into the rx buffer, within the guest's credit. */
static uint32_t put_rw(struct vsock_dev *d, struct vring_chain *ch, struct vsock_conn *c)
{
	c->pending &= ~(uint32_t)PEND_RW;
	if (c->state != CONN_ESTABLISHED || c->fd < 0)
		return 0;
	uint32_t credit = conn_peer_credit(c);
	if (credit == 0) {
		c->pending |= PEND_CREDIT_REQUEST;
		return 0;
	}
	size_t room = ch->in_len - VSOCK_PKT_HDR_SIZE;
	if (room > VSOCK_PKT_MAX_LEN)
		room = VSOCK_PKT_MAX_LEN;
	if (room > credit)
		room = credit;
	if (room == 0)
		return 0;
	struct iovec iov[VRING_MAX_IOV];
	unsigned n = iov_slice(ch->in, ch->n_in, VSOCK_PKT_HDR_SIZE, room, iov);
	ssize_t got;
	do
		got = readv(c->fd, iov, (int)n);
	while (got < 0 && errno == EINTR);
	if (got > 0) {
		c->tx_cnt += (uint32_t)got;
		if (conn_peer_credit(c) == 0)
			c->pending |=
			    PEND_CREDIT_REQUEST; /* resumed by the guest's CREDIT_UPDATE */
		conn_watch(d, c);
		return put_hdr(d, ch, c->local_port, c->peer_port, VSOCK_OP_RW, 0, (uint32_t)got,
		               c);
	}
	if (got < 0 && errno == EAGAIN) {
		conn_watch(d, c);
		return 0;
	}
	if (got < 0) {
		conn_reset(d, c);
		return 0;
	}
	c->host_eof = true;
	struct pollfd p = {.fd = c->fd};
	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR))) {
		host_hung_up(d, c);
	} else {
		c->shutdown_send_flags = VSOCK_SHUTDOWN_SEND;
		c->pending |= PEND_SHUTDOWN;
		conn_watch(d, c);
	}
	return 0;
}

/* One packet for a live c into ch, highest priority first; 0 if it had nothing after all. */
static uint32_t put_live_conn_packet(struct vsock_dev *d, struct vring_chain *ch,
                                     struct vsock_conn *c)
{
	if (c->pending & PEND_REQUEST) {
		c->pending &= ~(uint32_t)PEND_REQUEST;
		return put_ctl(d, ch, c, VSOCK_OP_REQUEST, 0);
	}
	if (c->pending & PEND_RESPONSE) {
		c->pending &= ~(uint32_t)PEND_RESPONSE;
		return put_ctl(d, ch, c, VSOCK_OP_RESPONSE, 0);
	}
	if (c->pending & PEND_CREDIT_UPDATE)
		return put_ctl(d, ch, c, VSOCK_OP_CREDIT_UPDATE, 0);
	if (c->pending & PEND_CREDIT_REQUEST) {
		c->pending &= ~(uint32_t)PEND_CREDIT_REQUEST;
		return put_ctl(d, ch, c, VSOCK_OP_CREDIT_REQUEST, 0);
	}
	if (c->pending & PEND_RW)
		return put_rw(d, ch, c);
	if (c->pending & PEND_SHUTDOWN) {
		c->pending &= ~(uint32_t)PEND_SHUTDOWN;
		if (c->shutdown_send_flags == VSOCK_SHUTDOWN_BOTH) {
			c->state = CONN_LOCAL_CLOSED;
			c->deadline_ms = monotonic_ms() + VSOCK_CLOSE_TIMEOUT_MS;
		}
		return put_ctl(d, ch, c, VSOCK_OP_SHUTDOWN, c->shutdown_send_flags);
	}
	return 0;
}

static uint32_t put_next_packet(struct vsock_dev *d, struct vring_chain *ch)
{
	if (d->rst_len > 0) {
		struct orphan_rst r = d->rst_ring[d->rst_head];
		d->rst_head = (d->rst_head + 1) % VSOCK_ORPHAN_RST_MAX;
		d->rst_len--;
		return put_hdr(d, ch, r.src_port, r.dst_port, VSOCK_OP_RST, 0, 0, NULL);
	}
	struct vsock_conn *c = rxq_pop(d);
	if (c->pending & PEND_RST) {
		uint32_t n = put_ctl(d, ch, c, VSOCK_OP_RST, 0);
		conn_destroy(d, c);
		return n;
	}
	uint32_t n = put_live_conn_packet(d, ch, c);
	if (c->pending)
		rxq_push(d, c); /* to the tail: round-robin */
	return n;
}

static void fill_rx(struct vsock_dev *d)
{
	struct vring *vq = &d->vu->vq[VSOCK_RX_QUEUE];
	if (!d->running || !vring_ready(vq))
		return;
	for (unsigned round = 0; d->rst_len > 0 || d->rxq_head; round++) {
		if (round == VSOCK_RX_BUDGET) {
			eventfd_write(d->resume_fd, 1);
			break;
		}
		struct vring_chain *ch = &d->rx_chain;
		if (vring_pop(vq, &d->vu->mem, ch) <= 0)
			break;
		if (ch->in_len < VSOCK_PKT_HDR_SIZE) {
			vring_push(vq, ch->head, 0); /* useless buffer: give it back */
			continue;
		}
		uint32_t n = put_next_packet(d, ch);
		if (n == 0)
			vring_unpop(vq);
		else
			vring_push(vq, ch->head, n);
	}
	vring_notify(vq);
}

/* ---- host-initiated connections, timeouts, lifecycle ---- */

void vsock_dev_connect_host(void *dev, int fd, uint32_t port)
{
	struct vsock_dev *d = dev;
	if (!d->running) {
		log_debug("CONNECT %u while the guest driver is not running; closing", port);
		close(fd);
		return;
	}
	uint32_t local = conn_alloc_local_port(&d->conns, port);
	struct vsock_conn *c = local ? conn_new(&d->conns, local, port, d->buf_alloc) : NULL;
	if (!c) {
		log_warn("connection limit reached: refusing CONNECT %u", port);
		close(fd);
		return;
	}
	c->owner = d;
	c->fd = fd;
	c->host_initiated = true;
	c->state = CONN_LOCAL_INIT;
	c->deadline_ms = monotonic_ms() + VSOCK_REQUEST_TIMEOUT_MS;
	owe(d, c, PEND_REQUEST);
	fill_rx(d);
}

static void expire_conn(struct vsock_conn *c, void *data)
{
	int64_t now = *(int64_t *)data;
	if (c->deadline_ms == 0 || now < c->deadline_ms)
		return;
	log_debug("conn %u:%u timed out in state %d", c->local_port, c->peer_port, c->state);
	conn_reset(c->owner, c);
}

void vsock_dev_expire(struct vsock_dev *d, int64_t now_ms)
{
	conn_for_each(&d->conns, expire_conn, &now_ms);
	fill_rx(d);
}

static void destroy_conn(struct vsock_conn *c, void *data)
{
	conn_destroy(data, c);
}

static void drop_everything(struct vsock_dev *d)
{
	conn_for_each(&d->conns, destroy_conn, d);
	d->rxq_head = d->rxq_tail = NULL;
	d->rst_head = d->rst_len = 0;
}

static void on_started(void *data)
{
	struct vsock_dev *d = data;
	log_info("guest vsock driver started (CID %llu)", (unsigned long long)d->guest_cid);
	d->running = true; /* vhost_user.c kicks both queues right after this */
}

static void on_stopped(void *data)
{
	struct vsock_dev *d = data;
	if (d->running)
		log_info("guest vsock driver stopped: closing %u connections", d->conns.count);
	d->running = false;
	drop_everything(d);
}

static void on_disconnected(void *data)
{
	struct vsock_dev *d = data;
	on_stopped(d);
	log_info("front-end disconnected");
	husk_loop_stop(d->loop, 0);
}

static void on_queue_kick(void *data, unsigned q)
{
	struct vsock_dev *d = data;
	if (q == VSOCK_TX_QUEUE)
		process_tx(d);
	else if (q == VSOCK_RX_QUEUE)
		fill_rx(d);
}

const struct vu_device_ops vsock_dev_ops = {
    .queue_kick = on_queue_kick,
    .started = on_started,
    .stopped = on_stopped,
    .disconnected = on_disconnected,
};

static int on_resume(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	eventfd_t v;
	eventfd_read(fd, &v);
	process_tx(data);
	return 0;
}

int vsock_dev_init(struct vsock_dev *d, struct husk_loop *loop, struct vu_dev *vu,
                   uint64_t guest_cid, const char *uds_path, uint32_t buf_alloc, husk_err *err)
{
	memset(d, 0, sizeof(*d));
	d->loop = loop;
	d->vu = vu;
	d->guest_cid = guest_cid;
	d->uds_path = uds_path;
	d->buf_alloc = buf_alloc;
	conn_table_init(&d->conns);
	d->resume_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->resume_fd < 0)
		return husk_error_set(err, errno, "eventfd");
	if (husk_loop_add(loop, d->resume_fd, EPOLLIN, on_resume, d, err) < 0) {
		close_fd(&d->resume_fd);
		return -1;
	}
	return 0;
}

void vsock_dev_fini(struct vsock_dev *d)
{
	d->running = false;
	drop_everything(d);
	if (d->resume_fd >= 0)
		husk_loop_del(d->loop, d->resume_fd);
	close_fd(&d->resume_fd);
}
