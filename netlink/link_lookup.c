#include "link_lookup.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/cleanup.h"
#include "lib/clock.h"

int nl_link_by_mac(struct nl_sock *s, const uint8_t mac[NL_MAC_LEN], int *index, husk_err *err)
{
	struct nl_links links;
	if (nl_links_dump(s, &links, err) < 0)
		return -1;
	*index = 0;
	for (size_t i = 0; i < links.n && !*index; i++)
		if (links.v[i].mac_len == NL_MAC_LEN &&
		    memcmp(links.v[i].mac, mac, NL_MAC_LEN) == 0)
			*index = (int)links.v[i].index;
	return 0;
}

static int open_link_monitor(husk_err *err)
{
	struct sockaddr_nl local = {.nl_family = AF_NETLINK, .nl_groups = 1u << (RTNLGRP_LINK - 1)};
	cleanup_close int fd =
	    socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (fd < 0)
		return husk_error_set(err, errno, "netlink socket");
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0)
		return husk_error_set(err, errno, "netlink: subscribe to link events");
	return move_fd(fd);
}

/* Waits for a notification and discards them all: the next lookup reads the links afresh. */
static int wait_link_event(int fd, int64_t deadline, husk_err *err)
{
	static uint8_t buf[NL_RECV_MAX];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n = poll(&p, 1, deadline_left(deadline));
	if (n < 0 && errno != EINTR)
		return husk_error_set(err, errno, "netlink: wait for link events");
	while (recv(fd, buf, sizeof(buf), 0) > 0 || errno == ENOBUFS)
		;
	return 0;
}

int nl_link_wait_mac(struct nl_sock *s, const uint8_t mac[NL_MAC_LEN], int64_t deadline, int *index,
                     husk_err *err)
{
	/* subscribed before the first lookup, so a link that appears in between is not missed */
	cleanup_close int fd = open_link_monitor(err);
	if (fd < 0)
		return -1;
	for (;;) {
		if (nl_link_by_mac(s, mac, index, err) < 0)
			return -1;
		if (*index)
			return 0;
		if (deadline_left(deadline) == 0)
			return husk_error_set(err, ETIMEDOUT, "no link with that MAC");
		if (wait_link_event(fd, deadline, err) < 0)
			return -1;
	}
}
