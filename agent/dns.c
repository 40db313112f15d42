#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "process.h"
#include "proto/agent.pb-c.h"

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_SENT };

struct dns_slot {
	enum slot_state state;
	uint32_t tag; /* increasing: the oldest slot has the smallest */
	struct sockaddr_in client;
	size_t len;
	uint8_t data[DNS_MESSAGE_MAX];
};

struct dns_relay {
	int fd;
	struct husk_loop *loop;
	struct ttrpc_call *reader; /* a ReadDnsQuery waiting for a query */
	uint32_t last_tag;
	struct dns_slot slots[DNS_SLOTS];
};

static struct dns_slot *oldest(struct dns_relay *r, enum slot_state state)
{
	struct dns_slot *found = NULL;
	for (size_t i = 0; i < DNS_SLOTS; i++)
		if (r->slots[i].state == state && (!found || r->slots[i].tag < found->tag))
			found = &r->slots[i];
	return found;
}

static void send_query(struct ttrpc_call *call, struct dns_slot *s)
{
	Husk__Agent__V1__DnsMessage m = HUSK__AGENT__V1__DNS_MESSAGE__INIT;
	m.tag = s->tag;
	m.data = (ProtobufCBinaryData){.len = s->len, .data = s->data};
	s->state = SLOT_SENT;
	ttrpc_reply_pb(call, &m.base);
}

/*
 * A free slot, else the one whose answer has waited longest (a late answer to it is dropped);
 * NULL when every slot still waits for the host to read it.
 */
static struct dns_slot *slot_for_query(struct dns_relay *r)
{
	struct dns_slot *s = oldest(r, SLOT_FREE);
	return s ? s : oldest(r, SLOT_SENT);
}

static void receive_queries(struct dns_relay *r)
{
	for (;;) {
		uint8_t buf[DNS_MESSAGE_MAX];
		struct sockaddr_in from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(r->fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from,
		                     &fromlen);
		if (n < 0)
			return;
		struct dns_slot *s = slot_for_query(r);
		if (n < DNS_MESSAGE_MIN || (size_t)n > sizeof(buf) || !s) {
			log_debug("dns relay: query of %zd bytes dropped", n);
			continue;
		}
		*s = (struct dns_slot){
		    .state = SLOT_QUEUED, .tag = ++r->last_tag, .client = from, .len = (size_t)n};
		memcpy(s->data, buf, (size_t)n);
		struct ttrpc_call *call = call_take(&r->reader);
		if (call)
			send_query(call, s);
	}
}

static int on_readable(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	receive_queries(data);
	return 0;
}

int dns_relay_start(struct agent *ag, const uint8_t addr[4], husk_err *err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
	char name[INET_ADDRSTRLEN] = "?";
	memcpy(&sa.sin_addr, addr, 4);
	inet_ntop(AF_INET, &sa.sin_addr, name, sizeof(name));
	if (ag->dns)
		return husk_error_set(err, EEXIST, "dns relay: already started");
	cleanup_free struct dns_relay *r = calloc(1, sizeof(*r));
	if (!r)
		return husk_error_set(err, ENOMEM, "dns relay");
	r->loop = ag->loop;
	r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return husk_error_set(err, errno, "dns relay: socket");
	if (bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		husk_error_set(err, errno, "dns relay: bind %s:53", name);
		close(r->fd);
		return -1;
	}
	if (husk_loop_add(ag->loop, r->fd, EPOLLIN, on_readable, r, err) < 0) {
		close(r->fd);
		return -1;
	}
	log_info("dns relay on %s:53", name);
	ag->dns = move_ptr(r);
	return 0;
}

void dns_relay_free(struct dns_relay *r)
{
	if (!r)
		return;
	struct ttrpc_call *call = call_take(&r->reader);
	if (call)
		ttrpc_reply(call, TTRPC_NOT_FOUND, "dns relay stopped", NULL, 0);
	husk_loop_del(r->loop, r->fd);
	close(r->fd);
	free(r);
}

void dns_relay_read(struct agent *ag, struct ttrpc_call *call)
{
	struct dns_relay *r = ag->dns;
	if (!r) {
		ttrpc_reply(call, TTRPC_FAILED_PRECONDITION, "ReadDnsQuery: no dns relay", NULL, 0);
		return;
	}
	if (r->reader) {
		ttrpc_reply(call, TTRPC_RESOURCE_EXHAUSTED, "ReadDnsQuery: one reader at a time",
		            NULL, 0);
		return;
	}
	struct dns_slot *s = oldest(r, SLOT_QUEUED);
	if (s)
		send_query(call, s);
	else
		call_hold(&r->reader, call);
}

int dns_relay_answer(struct agent *ag, uint32_t tag, const uint8_t *data, size_t len, husk_err *err)
{
	struct dns_relay *r = ag->dns;
	if (!r)
		return husk_error_set(err, 0, "no dns relay");
	for (size_t i = 0; i < DNS_SLOTS; i++) {
		struct dns_slot *s = &r->slots[i];
		if (s->state != SLOT_SENT || s->tag != tag)
			continue;
		s->state = SLOT_FREE;
		if (sendto(r->fd, data, len, 0, (struct sockaddr *)&s->client, sizeof(s->client)) <
		    0)
			log_debug("dns relay: answer %u: %s", tag, strerror(errno));
		return 0;
	}
	return husk_error_set(err, 0, "no query with tag %u waits for an answer", tag);
}
