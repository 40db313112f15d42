#include "nlmsg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/fs.h"

void nl_msg_init(struct nl_msg *m, uint16_t type, uint16_t flags)
{
	memset(m, 0, sizeof(*m));
	m->hdr.nlmsg_len = NLMSG_HDRLEN;
	m->hdr.nlmsg_type = type;
	m->hdr.nlmsg_flags = NLM_F_REQUEST | flags;
}

void *nl_msg_put(struct nl_msg *m, size_t len)
{
	size_t at = NLMSG_ALIGN(m->hdr.nlmsg_len);
	if (m->overflow || len > sizeof(m->buf) || at + NLMSG_ALIGN(len) > sizeof(m->buf)) {
		m->overflow = 1;
		return NULL;
	}
	m->hdr.nlmsg_len = (uint32_t)(at + NLMSG_ALIGN(len));
	return memset(m->buf + at, 0, NLMSG_ALIGN(len));
}

void nl_msg_attr(struct nl_msg *m, uint16_t type, const void *data, size_t len)
{
	if (len > UINT16_MAX - RTA_LENGTH(0)) {
		m->overflow = 1;
		return;
	}
	struct rtattr *a = nl_msg_put(m, RTA_LENGTH(len));
	if (!a)
		return;
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
}

void nl_msg_attr_u32(struct nl_msg *m, uint16_t type, uint32_t v)
{
	nl_msg_attr(m, type, &v, sizeof(v));
}

void nl_msg_attr_str(struct nl_msg *m, uint16_t type, const char *s)
{
	nl_msg_attr(m, type, s, strlen(s) + 1);
}

void nl_msg_nest_start(struct nl_msg *m, uint16_t type)
{
	size_t at = NLMSG_ALIGN(m->hdr.nlmsg_len);
	if (m->nnests == NL_NEST_MAX) {
		m->overflow = 1;
		return;
	}
	nl_msg_attr(m, type | NLA_F_NESTED, NULL, 0);
	m->nests[m->nnests++] = at;
}

void nl_msg_nest_end(struct nl_msg *m)
{
	if (m->overflow || m->nnests == 0) {
		m->overflow = 1;
		return;
	}
	size_t at = m->nests[--m->nnests];
	size_t len = m->hdr.nlmsg_len - at;
	if (len > UINT16_MAX) {
		m->overflow = 1;
		return;
	}
	((struct rtattr *)(void *)(m->buf + at))->rta_len = (unsigned short)len;
}

int nl_attrs_parse(const void *data, size_t len, const struct rtattr **tb, size_t max,
                   husk_err *err)
{
	const uint8_t *p = data;
	memset(tb, 0, (max + 1) * sizeof(*tb));
	while (len >= RTA_LENGTH(0)) {
		const struct rtattr *a = (const void *)p;
		if (a->rta_len < RTA_LENGTH(0) || a->rta_len > len)
			return husk_error_set(err, 0, "netlink: attribute %u: length %u of %zu",
			                      a->rta_type, a->rta_len, len);
		unsigned type = a->rta_type & NLA_TYPE_MASK;
		if (type <= max)
			tb[type] = a;
		size_t step = RTA_ALIGN(a->rta_len);
		if (step >= len)
			return 0;
		p += step;
		len -= step;
	}
	return 0;
}

int nl_msg_attrs(const struct nlmsghdr *h, size_t hdrlen, const struct rtattr **tb, size_t max,
                 husk_err *err)
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen);
	if (h->nlmsg_len < NLMSG_HDRLEN + hdrlen)
		return husk_error_set(err, 0, "netlink: message %u: %u bytes, header needs %zu",
		                      h->nlmsg_type, h->nlmsg_len, NLMSG_HDRLEN + hdrlen);
	if (h->nlmsg_len <= off) {
		memset(tb, 0, (max + 1) * sizeof(*tb));
		return 0;
	}
	return nl_attrs_parse((const uint8_t *)h + off, h->nlmsg_len - off, tb, max, err);
}

const void *nl_attr_data(const struct rtattr *a)
{
	return RTA_DATA(a);
}

size_t nl_attr_len(const struct rtattr *a)
{
	return RTA_PAYLOAD(a);
}

int nl_attr_u32(const struct rtattr *a, uint32_t *out)
{
	if (!a || RTA_PAYLOAD(a) < sizeof(*out))
		return -1;
	memcpy(out, RTA_DATA(a), sizeof(*out));
	return 0;
}

const char *nl_attr_str(const struct rtattr *a)
{
	if (!a || RTA_PAYLOAD(a) == 0 || ((const char *)RTA_DATA(a))[RTA_PAYLOAD(a) - 1] != '\0')
		return NULL;
	return RTA_DATA(a);
}

static int error_message(const struct nlmsghdr *h, husk_err *err)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return husk_error_set(err, 0, "netlink: short error message");
	if (e->error == 0)
		return 1;
	int code = e->error < 0 && e->error > -4096 ? -e->error : EPROTO;
	return husk_error_set(err, code, "netlink");
}

int nl_walk(const void *buf, size_t len, uint32_t seq, nl_msg_cb cb, void *data, husk_err *err)
{
	const uint8_t *p = buf;
	while (len >= NLMSG_HDRLEN) {
		const struct nlmsghdr *h = (const void *)p;
		if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len)
			return husk_error_set(err, 0, "netlink: message length %u of %zu",
			                      h->nlmsg_len, len);
		if (h->nlmsg_seq != seq)
			return husk_error_set(err, 0, "netlink: reply to %u, not %u", h->nlmsg_seq,
			                      seq);
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			int r = error_message(h, err);
			if (r != 0)
				return r;
		} else if (h->nlmsg_type >= NLMSG_MIN_TYPE && cb(h, data, err) < 0) {
			return -1;
		}
		size_t step = NLMSG_ALIGN(h->nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

int nl_open(struct nl_sock *s, husk_err *err)
{
	s->seq = 0;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s->fd < 0)
		return husk_error_set(err, errno, "netlink socket");
	int one = 1;
	/* errors name what failed without the request echoed back */
	setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return 0;
}

void nl_close(struct nl_sock *s)
{
	close_fd(&s->fd);
}

static int send_msg(struct nl_sock *s, struct nl_msg *m, uint16_t flags, husk_err *err)
{
	if (m->overflow || m->nnests)
		return husk_error_set(err, EMSGSIZE, "netlink: request");
	m->hdr.nlmsg_flags |= flags;
	m->hdr.nlmsg_seq = ++s->seq;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t n;
	do
		n = sendto(s->fd, m->buf, m->hdr.nlmsg_len, 0, (struct sockaddr *)&kernel,
		           sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return husk_error_set(err, errno, "netlink: send");
	return 0;
}

/* Reads datagrams until nl_walk sees the end: an ack (NLMSG_ERROR 0) or NLMSG_DONE. */
static int receive(struct nl_sock *s, nl_msg_cb cb, void *data, husk_err *err)
{
	static uint8_t buf[NL_RECV_MAX];
	for (;;) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_error_set(err, errno, "netlink: receive");
		if ((size_t)n > sizeof(buf))
			return husk_error_set(err, EMSGSIZE, "netlink: reply of %zd bytes", n);
		int r = nl_walk(buf, (size_t)n, s->seq, cb, data, err);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
}

static int no_message_expected(const struct nlmsghdr *h, void *data, husk_err *err)
{
	return husk_error_set(err, 0, "netlink: unexpected message %u", h->nlmsg_type);
}

int nl_request(struct nl_sock *s, struct nl_msg *m, husk_err *err)
{
	if (send_msg(s, m, NLM_F_ACK, err) < 0)
		return -1;
	return receive(s, no_message_expected, NULL, err);
}

int nl_dump(struct nl_sock *s, struct nl_msg *m, nl_msg_cb cb, void *data, husk_err *err)
{
	if (send_msg(s, m, NLM_F_DUMP, err) < 0)
		return -1;
	return receive(s, cb, data, err);
}

int nl_dump_all(struct nl_sock *s, uint16_t type, size_t hdrlen, nl_msg_cb cb, void *data,
                husk_err *err)
{
	struct nl_msg m;
	nl_msg_init(&m, type, 0);
	nl_msg_put(&m, hdrlen);
	return nl_dump(s, &m, cb, data, err);
}
