# benchmark helpers (built on demand, never installed)
PROGRAMS += bench/boot-to-agent
bench/boot-to-agent_SRCS = bench/helpers/boot-to-agent.c $(HOST_ALL_SRCS)
bench/boot-to-agent_LIBS = $(HOST_LIBS)

.PHONY: bench
bench: all $(BUILD)/bench/boot-to-agent vsock-test-image
	bench/coldstart.sh
	bench/vsock.sh
	bench/net.sh
