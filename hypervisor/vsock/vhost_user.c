#include "vhost_user.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"

enum vu_request {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_GET_CONFIG = 24,
};

#define VU_VERSION              1
#define VU_FLAG_VERSION_MASK    3u
#define VU_FLAG_REPLY           (1u << 2)
#define VU_FLAG_NEED_REPLY      (1u << 3)
#define VU_F_PROTOCOL_FEATURES  (1ULL << 30)
#define VU_PROTOCOL_F_REPLY_ACK (1ULL << 3)
#define VU_VRING_INDEX_MASK     0xffULL
#define VU_VRING_NOFD           (1ULL << 8)
#define VU_MAX_CONFIG           256
#define VU_SIZE_VARIES          (-1)

/* Handler results besides -1 (protocol violation). */
enum { VU_DONE = 0, VU_REPLY = 1, VU_UNSUPPORTED = 2 };

struct vu_state {
	uint32_t index, num;
};

struct vu_addr {
	uint32_t index, flags;
	uint64_t desc, used, avail, log;
};

struct vu_mem_hdr {
	uint32_t nregions, padding;
};

struct vu_region {
	uint64_t gpa, size, uva, mmap_offset;
};

struct vu_config_hdr {
	uint32_t offset, size, flags;
};

_Static_assert(offsetof(struct vu_msg, payload) == VU_HDR_SIZE, "vhost-user header layout");
_Static_assert(sizeof(struct vu_addr) == 40, "vring address layout");
_Static_assert(sizeof(struct vu_region) == 32, "memory region layout");

/* ---- device lifecycle ---- */

/* Configured well enough to run: what started()/stopped() track (broken rings don't flap it). */
static bool ring_live(const struct vring *vq)
{
	return vq->desc && vq->started && vq->enabled;
}

static void device_stop(struct vu_dev *dev)
{
	if (!dev->running)
		return;
	dev->running = false;
	log_debug("vhost-user: device stopped");
	if (dev->ops->stopped)
		dev->ops->stopped(dev->ops_data);
}

static void device_kick(struct vu_dev *dev, unsigned q)
{
	if (dev->running && !dev->vq[q].broken)
		dev->ops->queue_kick(dev->ops_data, q);
}

/* Starts or stops the device to match the rings' state. */
static void device_update(struct vu_dev *dev)
{
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++) {
		if (!ring_live(&dev->vq[q])) {
			device_stop(dev);
			return;
		}
	}
	if (dev->running)
		return;
	dev->running = true;
	log_debug("vhost-user: device started");
	if (dev->ops->started)
		dev->ops->started(dev->ops_data);
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++)
		device_kick(dev, q);
}

static void ring_unwatch_kick(struct vu_dev *dev, struct vring *vq)
{
	if (vq->kick_fd < 0)
		return;
	if (dev->loop)
		husk_loop_del(dev->loop, vq->kick_fd);
	close_fd(&vq->kick_fd);
}

static void ring_reset(struct vu_dev *dev, struct vring *vq)
{
	ring_unwatch_kick(dev, vq);
	if (vq->call_fd >= 0)
		close(vq->call_fd);
	vring_init(vq);
}

static void ring_remap(struct vu_dev *dev, unsigned q)
{
	struct vring *vq = &dev->vq[q];
	if (!vq->has_addr)
		return;
	if (vring_map(vq, &dev->mem) < 0)
		log_warn("vhost-user: vring %u (num %u) does not fit guest memory or is misaligned",
		         q, vq->num);
}

static void device_reset(struct vu_dev *dev)
{
	device_stop(dev);
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++)
		ring_reset(dev, &dev->vq[q]);
	guest_mem_unmap(&dev->mem);
	dev->features = 0;
}

void vu_dev_init(struct vu_dev *dev, struct husk_loop *loop, uint64_t guest_cid,
                 const struct vu_device_ops *ops, void *ops_data)
{
	memset(dev, 0, sizeof(*dev));
	dev->loop = loop;
	dev->conn_fd = -1;
	dev->ops = ops;
	dev->ops_data = ops_data;
	uint64_t cid = htole64(guest_cid);
	memcpy(dev->config, &cid, sizeof(cid));
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++)
		vring_init(&dev->vq[q]);
}

/* ---- replies ---- */

static int reply_bytes(struct vu_msg *reply, const struct vu_msg *msg, const void *p, size_t n)
{
	reply->request = msg->request;
	reply->flags = VU_VERSION | VU_FLAG_REPLY;
	reply->size = n;
	if (n)
		memcpy(reply->payload, p, n);
	return VU_REPLY;
}

static int reply_u64(struct vu_msg *reply, const struct vu_msg *msg, uint64_t v)
{
	return reply_bytes(reply, msg, &v, sizeof(v));
}

/* ---- message handlers: fds[] entries they keep are set to -1, the rest are closed ---- */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static uint64_t payload_u64(const struct vu_msg *msg)
{
	uint64_t v;
	memcpy(&v, msg->payload, sizeof(v));
	return v;
}

/* Ring index of a vring-state message, or -1. */
static int payload_state(const struct vu_msg *msg, struct vu_state *st)
{
	memcpy(st, msg->payload, sizeof(*st));
	return st->index < VU_NUM_QUEUES ? 0 : -1;
}

static int get_features(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                        struct vu_msg *reply)
{
	return reply_u64(reply, msg, VU_FEATURES);
}

static int set_features(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                        struct vu_msg *reply)
{
	uint64_t f = payload_u64(msg);
	if (f & ~VU_FEATURES)
		return -1;
	dev->features = f;
	return VU_DONE;
}

static int get_protocol_features(struct vu_dev *dev, const struct vu_msg *msg, int *fds,
                                 size_t nfds, struct vu_msg *reply)
{
	return reply_u64(reply, msg, VU_PROTOCOL_FEATURES);
}

static int set_protocol_features(struct vu_dev *dev, const struct vu_msg *msg, int *fds,
                                 size_t nfds, struct vu_msg *reply)
{
	uint64_t f = payload_u64(msg);
	if (f & ~VU_PROTOCOL_FEATURES)
		return -1;
	dev->protocol_features = f;
	return VU_DONE;
}

static int get_queue_num(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                         struct vu_msg *reply)
{
	return reply_u64(reply, msg, VU_NUM_QUEUES);
}

static int set_owner(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                     struct vu_msg *reply)
{
	return VU_DONE;
}

static int reset_owner(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                       struct vu_msg *reply)
{
	device_reset(dev);
	return VU_DONE;
}

static int map_region(const struct vu_region *r, int fd, struct guest_mem_region *out)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct stat st;

	if (!r->size || r->gpa + r->size < r->gpa || r->uva + r->size < r->uva ||
	    r->mmap_offset + r->size < r->mmap_offset)
		return -1;
	/* the file must really hold the region: touching a page past EOF is SIGBUS */
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < r->mmap_offset + r->size)
		return -1;
	uint64_t skip = r->mmap_offset % page;
	if (r->size > SIZE_MAX - skip)
		return -1;
	size_t len = skip + r->size;
	void *base =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(r->mmap_offset - skip));
	if (base == MAP_FAILED) {
		log_warn("vhost-user: mmap guest memory (%zu bytes): %s", len, strerror(errno));
		return -1;
	}
	*out = (struct guest_mem_region){.gpa = r->gpa,
	                                 .size = r->size,
	                                 .uva = r->uva,
	                                 .host = (uint8_t *)base + skip,
	                                 .map_base = base,
	                                 .map_len = len};
	return 0;
}

static int set_mem_table(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                         struct vu_msg *reply)
{
	struct vu_mem_hdr hdr;
	struct guest_mem mem = {0};

	if (msg->size < sizeof(hdr))
		return -1;
	memcpy(&hdr, msg->payload, sizeof(hdr));
	if (!hdr.nregions || hdr.nregions > GUEST_MEM_MAX_REGIONS || nfds != hdr.nregions ||
	    msg->size != sizeof(hdr) + hdr.nregions * sizeof(struct vu_region))
		return -1;
	for (unsigned i = 0; i < hdr.nregions; i++) {
		struct vu_region r;
		memcpy(&r, msg->payload + sizeof(hdr) + i * sizeof(r), sizeof(r));
		if (map_region(&r, fds[i], &mem.regions[i]) < 0) {
			guest_mem_unmap(&mem);
			return -1;
		}
		mem.nregions++;
		log_debug("vhost-user: region %u gpa 0x%llx size 0x%llx", i,
		          (unsigned long long)r.gpa, (unsigned long long)r.size);
	}
	/* chains popped from the old mapping must not outlive it */
	device_stop(dev);
	guest_mem_unmap(&dev->mem);
	dev->mem = mem;
	for (unsigned q = 0; q < VU_NUM_QUEUES; q++)
		ring_remap(dev, q);
	device_update(dev);
	return VU_DONE;
}

static int set_vring_num(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                         struct vu_msg *reply)
{
	struct vu_state st;
	if (payload_state(msg, &st) < 0 || !st.num || st.num > VRING_MAX_NUM ||
	    (st.num & (st.num - 1)))
		return -1;
	device_stop(dev);
	dev->vq[st.index].num = st.num;
	ring_remap(dev, st.index);
	device_update(dev);
	return VU_DONE;
}

static int set_vring_addr(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                          struct vu_msg *reply)
{
	struct vu_addr a;
	memcpy(&a, msg->payload, sizeof(a));
	if (a.index >= VU_NUM_QUEUES)
		return -1;
	struct vring *vq = &dev->vq[a.index];
	device_stop(dev);
	vq->desc_uva = a.desc;
	vq->avail_uva = a.avail;
	vq->used_uva = a.used;
	vq->has_addr = true;
	vq->broken = false;
	ring_remap(dev, a.index);
	device_update(dev);
	return VU_DONE;
}

static int set_vring_base(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                          struct vu_msg *reply)
{
	struct vu_state st;
	if (payload_state(msg, &st) < 0 || st.num > UINT16_MAX)
		return -1;
	device_stop(dev);
	dev->vq[st.index].last_avail_idx = st.num;
	device_update(dev);
	return VU_DONE;
}

static int get_vring_base(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                          struct vu_msg *reply)
{
	struct vu_state st;
	if (payload_state(msg, &st) < 0)
		return -1;
	struct vring *vq = &dev->vq[st.index];
	ring_unwatch_kick(dev, vq);
	vq->started = false;
	vq->enabled = false;
	device_update(dev);
	st.num = vq->last_avail_idx;
	return reply_bytes(reply, msg, &st, sizeof(st));
}

/* Index of a KICK/CALL/ERR message after checking its fd count, or -1. */
static int vring_file_index(const struct vu_msg *msg, size_t nfds, bool *nofd)
{
	uint64_t v = payload_u64(msg);
	if (v & ~(VU_VRING_INDEX_MASK | VU_VRING_NOFD))
		return -1;
	*nofd = v & VU_VRING_NOFD;
	if (nfds != (*nofd ? 0 : 1) || (v & VU_VRING_INDEX_MASK) >= VU_NUM_QUEUES)
		return -1;
	return (int)(v & VU_VRING_INDEX_MASK);
}

static int on_kick(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err);

static int set_vring_kick(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                          struct vu_msg *reply)
{
	bool nofd;
	int q = vring_file_index(msg, nfds, &nofd);
	if (q < 0)
		return -1;
	if (nofd) {
		log_warn("vhost-user: vring %d without kick fd (polling) is not supported", q);
		return -1;
	}
	struct vring *vq = &dev->vq[q];
	if (set_nonblock(fds[0]) < 0)
		return -1;
	if (dev->loop) {
		cleanup_error husk_err err = NULL;
		if (husk_loop_add(dev->loop, fds[0], EPOLLIN, on_kick, dev, &err) < 0) {
			log_warn("vhost-user: vring %d kick fd: %s", q, husk_error_msg(err));
			return -1;
		}
	}
	ring_unwatch_kick(dev, vq);
	vq->kick_fd = move_fd(fds[0]);
	vq->started = true;
	/* with protocol features a ring starts disabled until SET_VRING_ENABLE */
	if (!(dev->features & VU_F_PROTOCOL_FEATURES))
		vq->enabled = true;
	device_update(dev);
	return VU_DONE;
}

static int set_vring_call(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                          struct vu_msg *reply)
{
	bool nofd;
	int q = vring_file_index(msg, nfds, &nofd);
	if (q < 0)
		return -1;
	if (!nofd && set_nonblock(fds[0]) < 0)
		return -1;
	struct vring *vq = &dev->vq[q];
	if (vq->call_fd >= 0)
		close(vq->call_fd);
	vq->call_fd = nofd ? -1 : move_fd(fds[0]);
	return VU_DONE;
}

static int set_vring_err(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                         struct vu_msg *reply)
{
	bool nofd;
	/* we never report ring errors: the fd is just closed */
	return vring_file_index(msg, nfds, &nofd) < 0 ? -1 : VU_DONE;
}

static int set_vring_enable(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                            struct vu_msg *reply)
{
	struct vu_state st;
	if (payload_state(msg, &st) < 0 || st.num > 1)
		return -1;
	dev->vq[st.index].enabled = st.num;
	device_update(dev);
	return VU_DONE;
}

static int get_config(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                      struct vu_msg *reply)
{
	struct vu_config_hdr hdr;
	uint8_t out[sizeof(hdr) + sizeof(dev->config)];

	if (msg->size < sizeof(hdr))
		return -1;
	memcpy(&hdr, msg->payload, sizeof(hdr));
	if (hdr.size > VU_MAX_CONFIG || msg->size != sizeof(hdr) + hdr.size)
		return -1;
	if (hdr.offset > sizeof(dev->config) || hdr.size > sizeof(dev->config) - hdr.offset)
		return reply_bytes(reply, msg, NULL, 0); /* empty payload = failure */
	memcpy(out, &hdr, sizeof(hdr));
	memcpy(out + sizeof(hdr), dev->config + hdr.offset, hdr.size);
	return reply_bytes(reply, msg, out, sizeof(hdr) + hdr.size);
}

typedef int vu_handler(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                       struct vu_msg *reply);

static const struct {
	int size;       /* exact payload size, or VU_SIZE_VARIES (the handler checks) */
	size_t max_fds; /* more fds than this is a violation */
	vu_handler *fn;
} handlers[] = {
    [VU_GET_FEATURES] = {0, 0, get_features},
    [VU_SET_FEATURES] = {8, 0, set_features},
    [VU_SET_OWNER] = {0, 0, set_owner},
    [VU_RESET_OWNER] = {0, 0, reset_owner},
    [VU_SET_MEM_TABLE] = {VU_SIZE_VARIES, GUEST_MEM_MAX_REGIONS, set_mem_table},
    [VU_SET_VRING_NUM] = {sizeof(struct vu_state), 0, set_vring_num},
    [VU_SET_VRING_ADDR] = {sizeof(struct vu_addr), 0, set_vring_addr},
    [VU_SET_VRING_BASE] = {sizeof(struct vu_state), 0, set_vring_base},
    [VU_GET_VRING_BASE] = {sizeof(struct vu_state), 0, get_vring_base},
    [VU_SET_VRING_KICK] = {8, 1, set_vring_kick},
    [VU_SET_VRING_CALL] = {8, 1, set_vring_call},
    [VU_SET_VRING_ERR] = {8, 1, set_vring_err},
    [VU_GET_PROTOCOL_FEATURES] = {0, 0, get_protocol_features},
    [VU_SET_PROTOCOL_FEATURES] = {8, 0, set_protocol_features},
    [VU_GET_QUEUE_NUM] = {0, 0, get_queue_num},
    [VU_SET_VRING_ENABLE] = {sizeof(struct vu_state), 0, set_vring_enable},
    [VU_GET_CONFIG] = {VU_SIZE_VARIES, 0, get_config},
};

static int dispatch(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                    struct vu_msg *reply)
{
	if ((msg->flags & VU_FLAG_VERSION_MASK) != VU_VERSION || (msg->flags & VU_FLAG_REPLY) ||
	    msg->size > VU_MAX_PAYLOAD)
		return -1;
	if (msg->request >= ARRAY_SIZE(handlers) || !handlers[msg->request].fn)
		return VU_UNSUPPORTED;
	if (handlers[msg->request].size != VU_SIZE_VARIES &&
	    msg->size != (uint32_t)handlers[msg->request].size)
		return -1;
	if (nfds > handlers[msg->request].max_fds)
		return -1;
	return handlers[msg->request].fn(dev, msg, fds, nfds, reply);
}

int vu_handle_msg(struct vu_dev *dev, const struct vu_msg *msg, int *fds, size_t nfds,
                  struct vu_msg *reply)
{
	log_debug("vhost-user: request %u flags 0x%x size %u fds %zu", msg->request, msg->flags,
	          msg->size, nfds);
	int r = dispatch(dev, msg, fds, nfds, reply);
	for (size_t i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (r < 0) {
		log_warn("vhost-user: bad request %u (size %u, %zu fds)", msg->request, msg->size,
		         nfds);
		return -1;
	}
	if (r == VU_REPLY)
		return 1;
	bool ack =
	    (dev->protocol_features & VU_PROTOCOL_F_REPLY_ACK) && (msg->flags & VU_FLAG_NEED_REPLY);
	if (r == VU_UNSUPPORTED)
		log_debug("vhost-user: ignoring unsupported request %u", msg->request);
	if (!ack)
		return 0;
	reply_u64(reply, msg, r == VU_UNSUPPORTED);
	return 1;
}

/* ---- the front-end connection ---- */

static int on_kick(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct vu_dev *dev = data;
	uint64_t count;
	ssize_t n = read(fd, &count, sizeof(count));

	for (unsigned q = 0; q < VU_NUM_QUEUES; q++) {
		if (dev->vq[q].kick_fd != fd)
			continue;
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			/* not a working eventfd: stop watching rather than spin */
			log_warn("vhost-user: vring %u kick fd unusable", q);
			husk_loop_del(loop, fd);
			return 0;
		}
		device_kick(dev, q);
	}
	return 0;
}

static void close_rx_fds(struct vu_dev *dev)
{
	for (size_t i = 0; i < dev->rx_nfds; i++)
		close(dev->rx_fds[i]);
	dev->rx_nfds = 0;
	dev->rx_have = 0;
}

void vu_dev_detach(struct vu_dev *dev)
{
	device_reset(dev);
	dev->protocol_features = 0;
	close_rx_fds(dev);
	if (dev->conn_fd >= 0 && dev->loop)
		husk_loop_del(dev->loop, dev->conn_fd);
	close_fd(&dev->conn_fd);
}

static void drop_frontend(struct vu_dev *dev, const char *why)
{
	log_info("vhost-user: front-end %s", why);
	vu_dev_detach(dev);
	if (dev->ops->disconnected)
		dev->ops->disconnected(dev->ops_data);
}

/*
 * Reads until one whole message is buffered (1) or the socket is drained (0).
 * -1 with *why set when the front-end is gone or sent something unacceptable.
 */
static int recv_msg(struct vu_dev *dev, const char **why)
{
	for (;;) {
		size_t want = VU_HDR_SIZE + (dev->rx_have >= VU_HDR_SIZE ? dev->rx.size : 0);
		if (dev->rx_have == want)
			return 1;
		size_t got_fds;
		ssize_t n =
		    cmsg_recv(dev->conn_fd, (uint8_t *)&dev->rx + dev->rx_have, want - dev->rx_have,
		              dev->rx_fds + dev->rx_nfds, HUSK_MAX_FDS - dev->rx_nfds, &got_fds);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			*why = errno == EMSGSIZE ? "sent too many fds" : "connection failed";
			return -1;
		}
		if (n == 0) {
			*why = dev->rx_have ? "hung up mid-message" : "disconnected";
			return -1;
		}
		dev->rx_nfds += got_fds;
		dev->rx_have += n;
		if (dev->rx_have == VU_HDR_SIZE && dev->rx.size > VU_MAX_PAYLOAD) {
			*why = "sent an oversized message";
			return -1;
		}
	}
}

/* Handles the buffered message and sends its reply; -1 if the connection must go. */
static int serve_msg(struct vu_dev *dev)
{
	struct vu_msg reply;
	int fds[HUSK_MAX_FDS];
	size_t nfds = dev->rx_nfds;
	int conn = dev->conn_fd;

	memcpy(fds, dev->rx_fds, sizeof(fds[0]) * nfds);
	dev->rx_nfds = 0;
	dev->rx_have = 0;
	int r = vu_handle_msg(dev, &dev->rx, fds, nfds, &reply);
	if (r <= 0 || dev->conn_fd != conn)
		return r;
	size_t len = VU_HDR_SIZE + reply.size;
	ssize_t n = send(conn, &reply, len, MSG_NOSIGNAL);
	return n == (ssize_t)len ? 0 : -1;
}

static int on_frontend(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct vu_dev *dev = data;

	/* bounded, so that a chatty front-end cannot starve the rings; epoll wakes us again */
	for (int i = 0; i < 64 && dev->conn_fd == fd; i++) {
		const char *why = NULL;
		int r = recv_msg(dev, &why);
		if (r == 0)
			return 0;
		if (r < 0) {
			drop_frontend(dev, why);
			return 0;
		}
		if (serve_msg(dev) < 0) {
			drop_frontend(dev, "broke the protocol");
			return 0;
		}
	}
	return 0;
}

int vu_dev_attach(struct vu_dev *dev, int conn_fd, husk_err *err)
{
	cleanup_close int fd = conn_fd;

	if (dev->conn_fd >= 0)
		return husk_error_set(err, EBUSY, "vhost-user front-end already attached");
	if (!dev->loop)
		return husk_error_set(err, EINVAL, "vhost-user device has no event loop");
	if (set_nonblock(fd) < 0)
		return husk_error_set(err, errno, "vhost-user socket");
	if (husk_loop_add(dev->loop, fd, EPOLLIN, on_frontend, dev, err) < 0)
		return husk_error_prefix(err, "vhost-user socket");
	dev->conn_fd = move_fd(fd);
	return 0;
}
