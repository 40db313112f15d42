# shared by host and guest: error object, logging, event loop, fd passing
UNIT_TESTS += test_common
test_common_SRCS := tests/unit/test_common.c $(COMMON_SRCS)
