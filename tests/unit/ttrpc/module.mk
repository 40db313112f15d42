# unit tests of ttrpc/
UNIT_TESTS += test_ttrpc
test_ttrpc_SRCS := tests/unit/ttrpc/test_ttrpc.c $(TTRPC_SRCS) $(LIB_SRCS)
test_ttrpc_LIBS := $(PROTOBUF_LIBS)
UNIT_TESTS += test_pbunpack
test_pbunpack_SRCS := tests/unit/ttrpc/test_pbunpack.c $(TTRPC_SRCS) $(LIB_SRCS)
test_pbunpack_LIBS := $(PROTOBUF_LIBS)
