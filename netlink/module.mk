# netlink: rtnetlink messages (build, parse, request, dump), for the host's side of a pod's
# network and the agent's; the host's reads of a network namespace (links, addresses, routes,
# permanent neighbours), its taps and tc redirects
NETLINK_SRCS := netlink/nlmsg.c
NETLINK_HOST_SRCS := netlink/links.c netlink/addrs.c netlink/routes.c netlink/neighs.c \
	netlink/tap.c netlink/tc.c $(NETLINK_SRCS)
