# shared by host and guest: error object, logging, event loop, fd passing
UNIT_TESTS += test_common
test_common_SRCS := tests/unit/test_common.c $(COMMON_SRCS)

UNIT_TESTS += test_sha256
test_sha256_SRCS := tests/unit/test_sha256.c proto/common/sha256.c $(COMMON_SRCS)
