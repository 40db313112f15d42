/*
 * rtnetlink messages, built and parsed with every length checked: the host reads links,
 * addresses and routes of a network namespace its caller made, the agent applies what the
 * host sends. Replies are parsed as untrusted bytes (tests/fuzz/fuzz_netlink.c).
 */
#ifndef HUSK_NETLINK_NLMSG_H
#define HUSK_NETLINK_NLMSG_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define NL_MSG_MAX   4096  /* one request */
#define NL_RECV_MAX  32768 /* one datagram of a reply */
#define NL_NEST_MAX  4     /* nested attributes open at once */
#define NL_ATTRS_MAX 64    /* attribute types a table holds */

/* One request in a fixed buffer; a full buffer makes nl_msg_send fail, never overflows. */
struct nl_msg {
	union {
		struct nlmsghdr hdr;
		uint8_t buf[NL_MSG_MAX];
	};
	size_t nests[NL_NEST_MAX];
	size_t nnests;
	int overflow;
};

/* Starts a request of type with flags (NLM_F_REQUEST is added). */
void nl_msg_init(struct nl_msg *m, uint16_t type, uint16_t flags);
/* Appends len zeroed bytes (the family header: ifinfomsg, ifaddrmsg, ...); NULL when full. */
void *nl_msg_put(struct nl_msg *m, size_t len);
void nl_msg_attr(struct nl_msg *m, uint16_t type, const void *data, size_t len);
void nl_msg_attr_u32(struct nl_msg *m, uint16_t type, uint32_t v);
void nl_msg_attr_str(struct nl_msg *m, uint16_t type, const char *s);
void nl_msg_nest_start(struct nl_msg *m, uint16_t type);
void nl_msg_nest_end(struct nl_msg *m);

/*
 * Fills tb[0..max] with the attributes of the len bytes at data (later ones of a type win);
 * types above max are skipped. Fails on an attribute whose length runs past the data.
 */
int nl_attrs_parse(const void *data, size_t len, const struct rtattr **tb, size_t max,
                   husk_err *err);
/* The attributes after a message's family header of hdrlen bytes. */
int nl_msg_attrs(const struct nlmsghdr *h, size_t hdrlen, const struct rtattr **tb, size_t max,
                 husk_err *err);
/* An attribute's payload, or its payload as a u32 / a NUL-terminated string (-1 if it is not). */
const void *nl_attr_data(const struct rtattr *a);
size_t nl_attr_len(const struct rtattr *a);
int nl_attr_u32(const struct rtattr *a, uint32_t *out);
const char *nl_attr_str(const struct rtattr *a);

/*
 * One datagram of replies: calls cb for each message that is not NLMSG_DONE or an error, in
 * order. Returns 1 after NLMSG_DONE, 0 when more datagrams follow, -1 on a malformed message
 * or an error message (*err carries the kernel's errno).
 */
typedef int (*nl_msg_cb)(const struct nlmsghdr *h, void *data, husk_err *err);
int nl_walk(const void *buf, size_t len, uint32_t seq, nl_msg_cb cb, void *data, husk_err *err);

/* A NETLINK_ROUTE socket of the current network namespace, with its sequence counter. */
struct nl_sock {
	int fd;
	uint32_t seq;
};
int nl_open(struct nl_sock *s, husk_err *err);
void nl_close(struct nl_sock *s);
/* Sends m with NLM_F_ACK and waits for its acknowledgement; the kernel's refusal is *err. */
int nl_request(struct nl_sock *s, struct nl_msg *m, husk_err *err);
/* Sends m as a dump (NLM_F_DUMP) and calls cb for every message of the reply. */
int nl_dump(struct nl_sock *s, struct nl_msg *m, nl_msg_cb cb, void *data, husk_err *err);
/* Dumps every object of a type (RTM_GETLINK, ...) whose family header has hdrlen bytes. */
int nl_dump_all(struct nl_sock *s, uint16_t type, size_t hdrlen, nl_msg_cb cb, void *data,
                husk_err *err);

#endif
