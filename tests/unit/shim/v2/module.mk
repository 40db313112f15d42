# unit tests of shim/v2/, containerd-shim-husk-v2
UNIT_TESTS += test_publish
test_publish_SRCS := tests/unit/shim/v2/test_publish.c shim/v2/publish.c shim/lib/ratelimit.c \
	$(TTRPC_SRCS) $(CONTAINERD_PROTO_SRCS) $(LIB_SRCS)
test_publish_LIBS := $(PROTOBUF_LIBS)
