# unit tests of netlink/ (in a network namespace of their own)
UNIT_TESTS += test_nlmsg
test_nlmsg_SRCS := tests/unit/netlink/test_nlmsg.c $(NETLINK_SRCS) $(LIB_SRCS)
