# netlink: rtnetlink messages (build, parse, request, dump), for the host's side of a pod's
# network and the agent's
NETLINK_SRCS := netlink/nlmsg.c
# the host's reads of a network namespace (links, addresses, routes, permanent neighbours),
# its taps and tc redirects
NETLINK_HOST_SRCS := netlink/links.c netlink/addrs.c netlink/routes.c netlink/neighs.c \
	netlink/tap.c netlink/tc.c $(NETLINK_SRCS)
# what the agent applies to its links: find one by MAC, rename/MTU/flags, addresses, routes,
# neighbours
NETLINK_CONFIG_SRCS := netlink/link_lookup.c netlink/link_config.c netlink/addr_add.c \
	netlink/route_add.c netlink/neigh_add.c netlink/links.c $(NETLINK_SRCS)
