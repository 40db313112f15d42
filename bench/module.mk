# benchmark helpers (built on demand, never installed)
PROGRAMS += bench/agent-wait bench/boot-to-agent
bench/agent-wait_SRCS = bench/helpers/agent-wait.c $(VSOCK_DIAL_SRCS) $(COMMON_SRCS)
bench/boot-to-agent_SRCS = bench/helpers/boot-to-agent.c $(SHIM_LIB_SRCS) $(QEMU_SRCS) \
	$(TTRPC_SRCS) $(VSOCK_DIAL_SRCS) $(COMMON_SRCS)
bench/boot-to-agent_LIBS = -ljson-c $(PROTOBUF_LIBS)

.PHONY: bench
bench: all $(BUILD)/bench/boot-to-agent vsock-test-image
	bench/coldstart.sh
	bench/vsock.sh
