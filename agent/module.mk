# husk-agent: the guest's PID 1, a static binary
AGENT_CORE_SRCS := agent/request.c agent/cgstat.c agent/proclist.c agent/copyup.c agent/modload.c
AGENT_SRCS := agent/main.c agent/auth.c agent/rpc.c agent/containers.c agent/spawn.c agent/events.c \
	agent/process.c agent/container.c agent/isolation.c agent/cgroup.c agent/network.c agent/dns.c \
	$(AGENT_CORE_SRCS) $(NETLINK_CONFIG_SRCS) $(NETLINK_SRCS) $(OCI_SRCS) $(TTRPC_SRCS) \
	$(LIB_JSON_SRCS) $(LIB_SRCS)

# modload.c unpacks gzipped modules
MODLOAD_LIBS := -lz
MODLOAD_STATIC_LIBS := -l:libz.a

BINS += $(BUILD)/bin/husk-agent
$(BUILD)/bin/husk-agent: $(call objs,$(AGENT_SRCS))
	@mkdir -p $(@D)
	$(CC) -static -o $@ $^ -l:libprotobuf-c.a -l:libjson-c.a -l:libseccomp.a $(MODLOAD_STATIC_LIBS)

# the agent with ASan+UBSan (dynamic), for the --listen-unix integration tests
$(BUILD)/tests/bin/husk-agent-asan: $(call asan_objs,$(AGENT_SRCS))
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(PROTOBUF_LIBS) $(OCI_LIBS) $(MODLOAD_LIBS)
