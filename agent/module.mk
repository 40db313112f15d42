# husk-agent: the guest's PID 1, a static binary
AGENT_LIB_SRCS := agent/ocispec.c agent/ocispec_linux.c agent/request.c agent/cgstat.c \
	agent/proclist.c shim/lib/hooks.c
AGENT_SRCS := agent/main.c agent/rpc.c agent/sandbox.c agent/spawn.c agent/process.c agent/container.c \
	agent/isolation.c agent/cgroup.c agent/copyup.c \
	agent/modload.c $(AGENT_LIB_SRCS) $(TTRPC_SRCS) $(COMMON_SRCS)

BINS += $(BUILD)/bin/husk-agent
$(BUILD)/bin/husk-agent: $(call objs,$(AGENT_SRCS))
	@mkdir -p $(@D)
	$(CC) -static -o $@ $^ -l:libprotobuf-c.a -l:libjson-c.a -l:libseccomp.a

UNIT_TESTS += test_agent_spec test_proclist
test_proclist_SRCS = tests/unit/test_proclist.c agent/proclist.c $(PROTO_SRCS) $(COMMON_SRCS)
test_proclist_LIBS = $(PROTOBUF_LIBS)
test_agent_spec_SRCS = tests/unit/test_agent_spec.c $(AGENT_LIB_SRCS) $(PROTO_SRCS) $(COMMON_SRCS)
test_agent_spec_LIBS = $(PROTOBUF_LIBS) -ljson-c -lseccomp

FUZZERS += fuzz_agent_request fuzz_proclist
fuzz_proclist_SRCS = tests/fuzz/fuzz_proclist.c agent/proclist.c $(PROTO_SRCS) $(COMMON_SRCS)
fuzz_proclist_LIBS = $(PROTOBUF_LIBS)
fuzz_agent_request_SRCS = tests/fuzz/fuzz_agent_request.c $(AGENT_LIB_SRCS) $(PROTO_SRCS) \
	$(COMMON_SRCS)
fuzz_agent_request_LIBS = $(PROTOBUF_LIBS) -ljson-c -lseccomp

# host-side test driver for the agent (tests/integration/agent.bats); the dial
# library's sources come from a later fragment, hence PROGRAMS' deferred rule
PROGRAMS += tests/bin/agent-client
tests/bin/agent-client_SRCS = tests/integration/helpers/agent-client.c $(TTRPC_SRCS) \
	$(VSOCK_DIAL_SRCS) $(COMMON_SRCS)
tests/bin/agent-client_LIBS = $(PROTOBUF_LIBS)

# the agent with ASan+UBSan (dynamic), for the --listen-unix integration tests
$(BUILD)/tests/bin/husk-agent-asan: $(call asan_objs,$(AGENT_SRCS))
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(PROTOBUF_LIBS) -ljson-c -lseccomp

UNIT_TESTS += test_copyup
test_copyup_SRCS = tests/unit/test_copyup.c agent/copyup.c $(COMMON_SRCS)
