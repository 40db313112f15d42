# unit tests of lib/
UNIT_TESTS += test_common test_sha256 test_proc
test_common_SRCS := tests/unit/lib/test_common.c $(LIB_SRCS)
test_sha256_SRCS := tests/unit/lib/test_sha256.c $(LIB_SRCS)
test_proc_SRCS := tests/unit/lib/test_proc.c $(LIB_SRCS)
