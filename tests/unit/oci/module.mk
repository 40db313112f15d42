# unit tests of oci/
UNIT_TESTS += test_hooks
test_hooks_SRCS := tests/unit/oci/test_hooks.c oci/hooks.c $(LIB_SRCS)
test_hooks_LIBS := -ljson-c
