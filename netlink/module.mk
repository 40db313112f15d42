# netlink: rtnetlink messages (build, parse, request, dump), for the host's side of a pod's
# network and the agent's
NETLINK_SRCS := netlink/nlmsg.c
