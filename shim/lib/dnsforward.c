#include "dnsforward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"

#define DNS_MESSAGE_MIN 12   /* the header */
#define DNS_MESSAGE_MAX 4096 /* what the agent takes */
#define RESOLV_CONF_MAX (64 << 10)

struct dns_slot {
	struct dns_forward *relay;
	int fd; /* connected to the server, -1 when free */
	uint32_t tag;
	uint64_t seq; /* when it was asked: the smallest is the oldest */
};

struct dns_forward {
	struct husk_loop *loop;
	struct agent_client *agent;
	struct sockaddr_in server;
	uint64_t seq;
	struct dns_slot slots[DNS_FORWARD_SLOTS];
};

int dns_forward_nameserver(const char *path, struct in_addr *server)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	char line[256];
	size_t read = 0;
	while (f && read < RESOLV_CONF_MAX && fgets(line, sizeof(line), f)) {
		char addr[64];
		read += strlen(line);
		if (sscanf(line, " nameserver %63s", addr) == 1)
			return inet_pton(AF_INET, addr, server) == 1 &&
			       (ntohl(server->s_addr) >> 24) == 127;
	}
	return 0;
}

static void free_slot(struct dns_slot *s)
{
	if (s->fd < 0)
		return;
	husk_loop_del(s->relay->loop, s->fd);
	close_fd(&s->fd);
}

/* A free slot, else the oldest, whose query is given up. */
static struct dns_slot *take_slot(struct dns_forward *r)
{
	struct dns_slot *s = &r->slots[0];
	for (size_t i = 0; i < DNS_FORWARD_SLOTS; i++) {
		if (r->slots[i].fd < 0)
			return &r->slots[i];
		if (r->slots[i].seq < s->seq)
			s = &r->slots[i];
	}
	free_slot(s);
	return s;
}

static void on_answer_written(ProtobufCMessage *resp, husk_err error, void *data)
{
	if (error)
		log_debug("dns relay: %s", husk_error_msg(error));
}

static int on_answer(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct dns_slot *s = data;
	uint8_t buf[DNS_MESSAGE_MAX];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n >= DNS_MESSAGE_MIN && (size_t)n <= sizeof(buf)) {
		Husk__Agent__V1__DnsMessage m = HUSK__AGENT__V1__DNS_MESSAGE__INIT;
		cleanup_error husk_err error = NULL;
		m.tag = s->tag;
		m.data = (ProtobufCBinaryData){.len = (size_t)n, .data = buf};
		if (agent_client_call(s->relay->agent, "WriteDnsAnswer", &m.base,
		                      &husk__agent__v1__empty__descriptor, 0, on_answer_written,
		                      s->relay, &error) < 0)
			log_debug("dns relay: %s", husk_error_msg(error));
	} else {
		log_debug("dns relay: answer %u: %zd bytes dropped (%s)", s->tag, n,
		          n < 0 ? strerror(errno) : "size");
	}
	free_slot(s);
	return 0;
}

/* Sends the guest's query, as it is, to the server from a socket of its own. */
static void ask(struct dns_forward *r, uint32_t tag, const uint8_t *query, size_t len)
{
	cleanup_error husk_err err = NULL;
	struct dns_slot *s = take_slot(r);
	cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&r->server, sizeof(r->server)) < 0 ||
	    send(fd, query, len, 0) < 0) {
		log_debug("dns relay: query %u: %s", tag, strerror(errno));
		return;
	}
	if (husk_loop_add(r->loop, fd, EPOLLIN, on_answer, s, &err) < 0) {
		log_debug("dns relay: query %u: %s", tag, husk_error_msg(err));
		return;
	}
	*s = (struct dns_slot){.relay = r, .fd = move_fd(fd), .tag = tag, .seq = ++r->seq};
}

static void read_next(struct dns_forward *r);

static void on_query(ProtobufCMessage *resp, husk_err error, void *data)
{
	struct dns_forward *r = data;
	const Husk__Agent__V1__DnsMessage *m = (const void *)resp;
	if (error) {
		log_debug("dns relay stops: %s", husk_error_msg(error));
		return;
	}
	if (m->data.len < DNS_MESSAGE_MIN || m->data.len > DNS_MESSAGE_MAX)
		log_debug("dns relay: query of %zu bytes dropped", m->data.len);
	else
		ask(r, m->tag, m->data.data, m->data.len);
	read_next(r);
}

static void read_next(struct dns_forward *r)
{
	Husk__Agent__V1__Empty req = HUSK__AGENT__V1__EMPTY__INIT;
	cleanup_error husk_err err = NULL;
	if (agent_client_call(r->agent, "ReadDnsQuery", &req.base,
	                      &husk__agent__v1__dns_message__descriptor, AGENT_CALL_LONG_POLL,
	                      on_query, r, &err) < 0)
		log_debug("dns relay stops: %s", husk_error_msg(err));
}

struct dns_forward *dns_forward_start(struct husk_loop *loop, struct agent_client *agent,
                                      struct in_addr server, int timeout_ms, husk_err *err)
{
	Husk__Agent__V1__StartDnsRelayRequest req = HUSK__AGENT__V1__START_DNS_RELAY_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	struct dns_forward *r = calloc(1, sizeof(*r));
	if (!r) {
		husk_error_set(err, ENOMEM, "dns relay");
		return NULL;
	}
	*r = (struct dns_forward){.loop = loop, .agent = agent};
	r->server =
	    (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(53), .sin_addr = server};
	for (size_t i = 0; i < DNS_FORWARD_SLOTS; i++)
		r->slots[i] = (struct dns_slot){.relay = r, .fd = -1};
	req.address = (ProtobufCBinaryData){.len = 4, .data = (uint8_t *)&server.s_addr};
	if (agent_client_call_sync(agent, "StartDnsRelay", &req.base,
	                           &husk__agent__v1__empty__descriptor, timeout_ms, &resp,
	                           err) < 0) {
		husk_error_prefix(err, "StartDnsRelay");
		free(r);
		return NULL;
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	read_next(r);
	return r;
}

void dns_forward_free(struct dns_forward *r)
{
	if (!r)
		return;
	agent_client_forget(r->agent, r);
	for (size_t i = 0; i < DNS_FORWARD_SLOTS; i++)
		free_slot(&r->slots[i]);
	free(r);
}
