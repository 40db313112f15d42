# unit tests of netlink/ (in a network namespace of their own)
UNIT_TESTS += test_nlmsg test_netdev
test_nlmsg_SRCS := tests/unit/netlink/test_nlmsg.c $(NETLINK_SRCS) $(LIB_SRCS)
test_netdev_SRCS := tests/unit/netlink/test_netdev.c $(NETLINK_HOST_SRCS) $(LIB_SRCS)
