# host-side test drivers: agent-client (agent.bats) and vsock-peer (vsock.bats, the peer of
# tests/guest/vsock-test); built by `make all` so that `make integration` finds them
PROGRAMS += tests/bin/agent-client tests/bin/vsock-peer
tests/bin/agent-client_SRCS = tests/integration/helpers/agent-client.c \
	tests/integration/helpers/netargs.c $(TTRPC_SRCS) \
	$(VSOCK_DIAL_SRCS) $(LIB_SRCS)
tests/bin/agent-client_LIBS = $(PROTOBUF_LIBS)
tests/bin/vsock-peer_SRCS = tests/integration/helpers/vsock-peer.c $(VSOCK_DIAL_SRCS) \
	$(TEST_PATTERN_SRCS) $(LIB_SRCS)
BINS += $(BUILD)/tests/bin/vsock-peer
