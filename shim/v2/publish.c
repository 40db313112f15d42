/*
 * Task events to containerd (1.6): ttrpc Events/Forward on $TTRPC_ADDRESS,
 * one at a time and in order (TaskStart must reach containerd before
 * TaskExit), each retried a few times on a fresh connection.
 *
 * Events the guest causes (TaskOOM, published with publish_guest) hold at most
 * MAX_GUEST_QUEUED places of the queue and are dropped beyond that, so a guest
 * flooding them cannot crowd out the lifecycle events (TaskExit above all),
 * whose number only the host's own activity sets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "proto/containerd/events.pb-c.h"
#include "lib/log.h"
#include "shim.h"

#define EVENTS_SERVICE   "containerd.services.events.ttrpc.v1.Events"
#define FORWARD_NS       (5LL * 1000000000)
#define RETRY_MS         200
#define MAX_ATTEMPTS     10
#define MAX_QUEUED       1024
#define MAX_GUEST_QUEUED 64

struct event {
	char *topic;
	uint8_t *data; /* the packed ForwardRequest */
	size_t len;
	bool guest; /* caused by the guest: may be dropped */
	struct event *next;
};

struct publisher {
	struct husk_loop *loop;
	char *address, *ns;
	struct ttrpc_conn *conn;
	struct event *head, **tail;
	size_t queued, guest_queued;
	bool inflight;
	int attempts;
	int retry_timer;
};

static int dial(struct publisher *p, husk_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = p->address;
	if (!strncmp(path, "unix://", 7))
		path += 7;
	if (strlen(path) >= sizeof(sa.sun_path))
		return husk_error_set(err, ENAMETOOLONG, "events address %s", path);
	strcpy(sa.sun_path, path);
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return husk_error_set(err, errno, "events address %s", path);
	p->conn = ttrpc_client_new(p->loop, move_fd(fd), err);
	return p->conn ? 0 : -1;
}

static void send_head(struct publisher *p);

static void drop_head(struct publisher *p)
{
	struct event *e = p->head;
	p->head = e->next;
	if (!p->head)
		p->tail = &p->head;
	p->queued--;
	p->guest_queued -= e->guest;
	free(e->topic);
	free(e->data);
	free(e);
	p->attempts = 0;
}

static void retry_later(struct publisher *p, const char *why)
{
	if (++p->attempts >= MAX_ATTEMPTS) {
		log_warn("event %s dropped after %d attempts: %s", p->head->topic, p->attempts,
		         why);
		drop_head(p);
		send_head(p);
		return;
	}
	log_debug("event %s: %s; retrying", p->head->topic, why);
	ttrpc_client_free(p->conn);
	p->conn = NULL;
	struct itimerspec its = {.it_value = {0, RETRY_MS * 1000000L}};
	if (timerfd_settime(p->retry_timer, 0, &its, NULL) < 0)
		log_warn("event retry timer: %s", strerror(errno));
}

static void on_forwarded(enum ttrpc_code code, const char *message, const uint8_t *payload,
                         size_t len, void *data)
{
	struct publisher *p = data;
	p->inflight = false;
	if (code != TTRPC_OK) {
		retry_later(p, message);
		return;
	}
	log_debug("event %s sent", p->head->topic);
	drop_head(p);
	send_head(p);
}

static void send_head(struct publisher *p)
{
	cleanup_error husk_err err = NULL;
	if (!p->head || p->inflight)
		return;
	if (p->conn && !ttrpc_client_alive(p->conn)) {
		ttrpc_client_free(p->conn);
		p->conn = NULL;
	}
	if (!p->conn && dial(p, &err) < 0) {
		retry_later(p, husk_error_msg(err));
		return;
	}
	if (ttrpc_client_call(p->conn, EVENTS_SERVICE, "Forward", p->head->data, p->head->len,
	                      FORWARD_NS, on_forwarded, p, &err) < 0) {
		retry_later(p, husk_error_msg(err));
		return;
	}
	p->inflight = true;
}

static int on_retry(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	uint64_t ticks;
	if (read(fd, &ticks, sizeof(ticks)) < 0)
		return 0;
	send_head(data);
	return 0;
}

struct publisher *publisher_new(struct husk_loop *loop, const char *address, const char *ns,
                                husk_err *err)
{
	struct publisher *p = calloc(1, sizeof(*p));
	if (!p) {
		husk_error_set(err, ENOMEM, "publisher");
		return NULL;
	}
	p->loop = loop;
	p->tail = &p->head;
	p->retry_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	p->ns = strdup(ns);
	p->address = address ? strdup(address) : NULL;
	if (p->retry_timer < 0 || !p->ns || (address && !p->address) ||
	    husk_loop_add(loop, p->retry_timer, EPOLLIN, on_retry, p, err) < 0) {
		if (!*err)
			husk_error_set(err, errno ? errno : ENOMEM, "publisher");
		publisher_free(p);
		return NULL;
	}
	return p;
}

static uint8_t *pack_forward(struct publisher *p, const char *topic, const ProtobufCMessage *event,
                             size_t *len)
{
	Containerd__Types__Timestamp ts = CONTAINERD__TYPES__TIMESTAMP__INIT;
	Containerd__Types__Any any = CONTAINERD__TYPES__ANY__INIT;
	Containerd__Events__Envelope env = CONTAINERD__EVENTS__ENVELOPE__INIT;
	Containerd__Events__ForwardRequest req = CONTAINERD__EVENTS__FORWARD_REQUEST__INIT;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	cleanup_free uint8_t *value = malloc(protobuf_c_message_get_packed_size(event) + 1);
	if (!value)
		return NULL;
	any.type_url = (char *)event->descriptor->name;
	any.value.data = value;
	any.value.len = protobuf_c_message_pack(event, value);
	env.timestamp = &ts;
	env.namespace_ = p->ns;
	env.topic = (char *)topic;
	env.event = &any;
	req.envelope = &env;
	*len = containerd__events__forward_request__get_packed_size(&req);
	uint8_t *out = malloc(*len + 1);
	if (out)
		containerd__events__forward_request__pack(&req, out);
	return out;
}

static void enqueue(struct publisher *p, const char *topic, const ProtobufCMessage *event,
                    bool guest)
{
	if (!p->address) {
		log_debug("event %s not sent: no TTRPC_ADDRESS", topic);
		return;
	}
	if (guest && p->guest_queued >= MAX_GUEST_QUEUED) {
		log_debug("event %s dropped: %zu of the guest's events queued", topic,
		          p->guest_queued);
		return;
	}
	/* the guest's events do not count here: they never take a lifecycle event's place */
	if (!guest && p->queued - p->guest_queued >= MAX_QUEUED) {
		log_warn("event %s dropped: %zu events queued", topic, p->queued - p->guest_queued);
		return;
	}
	struct event *e = calloc(1, sizeof(*e));
	if (!e || !(e->topic = strdup(topic)) ||
	    !(e->data = pack_forward(p, topic, event, &e->len))) {
		log_warn("event %s dropped: out of memory", topic);
		if (e)
			free(e->topic);
		free(e);
		return;
	}
	e->guest = guest;
	*p->tail = e;
	p->tail = &e->next;
	p->queued++;
	p->guest_queued += guest;
	send_head(p);
}

void publish(struct publisher *p, const char *topic, const ProtobufCMessage *event)
{
	enqueue(p, topic, event, false);
}

void publish_guest(struct publisher *p, const char *topic, const ProtobufCMessage *event)
{
	enqueue(p, topic, event, true);
}

void publisher_flush(struct publisher *p, int timeout_ms)
{
	cleanup_error husk_err err = NULL;
	int64_t deadline = monotonic_ms() + timeout_ms;
	while (p->head && monotonic_ms() < deadline) {
		if (husk_loop_run_once(p->loop, (int)(deadline - monotonic_ms()), &err) < 0) {
			log_debug("flushing events: %s", husk_error_msg(err));
			husk_error_free(&err);
		}
	}
	if (p->head)
		log_warn("%zu events not sent within %d ms", p->queued, timeout_ms);
}

void publisher_free(struct publisher *p)
{
	if (!p)
		return;
	while (p->head)
		drop_head(p);
	ttrpc_client_free(p->conn);
	if (p->retry_timer >= 0) {
		husk_loop_del(p->loop, p->retry_timer);
		close(p->retry_timer);
	}
	free(p->address);
	free(p->ns);
	free(p);
}
