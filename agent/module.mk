# husk-agent: the guest's PID 1, a static binary
AGENT_LIB_SRCS := agent/ocispec.c agent/ocispec_linux.c agent/request.c agent/cgstat.c
# proto/module.mk and proto/ttrpc/module.mk are read after this file, so the
# link rule (expanded now) spells out their sources; the test variables below
# are expanded late and use theirs.
AGENT_SRCS := agent/main.c agent/rpc.c agent/sandbox.c agent/spawn.c agent/process.c agent/container.c \
	agent/isolation.c agent/cgroup.c \
	agent/modload.c $(AGENT_LIB_SRCS) proto/ttrpc.c $(BUILD)/gen/agent.pb-c.c \
	$(BUILD)/gen/ttrpc.pb-c.c $(COMMON_SRCS)

BINS += $(BUILD)/bin/husk-agent
$(BUILD)/bin/husk-agent: $(call objs,$(AGENT_SRCS))
	@mkdir -p $(@D)
	$(CC) -static -o $@ $^ -l:libprotobuf-c.a -l:libjson-c.a -l:libseccomp.a

UNIT_TESTS += test_agent_spec
test_agent_spec_SRCS = tests/unit/test_agent_spec.c $(AGENT_LIB_SRCS) $(PROTO_SRCS) $(COMMON_SRCS)
test_agent_spec_LIBS = $(PROTOBUF_LIBS) -ljson-c -lseccomp

FUZZERS += fuzz_agent_request
fuzz_agent_request_SRCS = tests/fuzz/fuzz_agent_request.c $(AGENT_LIB_SRCS) $(PROTO_SRCS) \
	$(COMMON_SRCS)
fuzz_agent_request_LIBS = $(PROTOBUF_LIBS) -ljson-c -lseccomp

# host-side test driver for the agent (tests/integration/agent.bats)
$(BUILD)/tests/bin/agent-client: $(call objs,tests/integration/helpers/agent-client.c \
		proto/ttrpc.c hypervisor/vsock/dial.c $(BUILD)/gen/agent.pb-c.c \
		$(BUILD)/gen/ttrpc.pb-c.c $(COMMON_SRCS))
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(PROTOBUF_LIBS)

# the agent with ASan+UBSan (dynamic), for the --listen-unix integration tests
$(BUILD)/tests/bin/husk-agent-asan: $(call asan_objs,$(AGENT_SRCS))
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(PROTOBUF_LIBS) -ljson-c -lseccomp
