# ttrpc framing, server and client (host shim and guest agent both link it)
TTRPC_SRCS := proto/ttrpc.c $(PROTO_SRCS)

UNIT_TESTS += test_ttrpc
test_ttrpc_SRCS := tests/unit/test_ttrpc.c $(TTRPC_SRCS) $(COMMON_SRCS)
test_ttrpc_LIBS := $(PROTOBUF_LIBS)
