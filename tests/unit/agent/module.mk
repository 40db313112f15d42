# unit tests of agent/
UNIT_TESTS += test_agent_spec test_proclist test_copyup test_cgroup test_events
test_agent_spec_SRCS := tests/unit/agent/test_agent_spec.c agent/request.c agent/cgstat.c \
	$(OCI_SRCS) $(PROTO_SRCS) $(LIB_JSON_SRCS) $(LIB_SRCS)
test_agent_spec_LIBS := $(PROTOBUF_LIBS) $(OCI_LIBS)
test_proclist_SRCS := tests/unit/agent/test_proclist.c agent/proclist.c $(PROTO_SRCS) $(LIB_SRCS)
test_proclist_LIBS := $(PROTOBUF_LIBS)
test_copyup_SRCS := tests/unit/agent/test_copyup.c agent/copyup.c $(LIB_SRCS)
test_cgroup_SRCS := tests/unit/agent/test_cgroup.c agent/cgroup.c agent/cgstat.c $(OCI_SRCS) \
	$(PROTO_SRCS) $(LIB_SRCS)
test_cgroup_LIBS := $(PROTOBUF_LIBS) $(OCI_LIBS)
test_events_SRCS := tests/unit/agent/test_events.c agent/events.c agent/cgroup.c agent/cgstat.c \
	agent/process.c $(TTRPC_SRCS) $(PROTO_SRCS) $(LIB_SRCS)
test_events_LIBS := $(PROTOBUF_LIBS)
# SetupNetwork, applied in a network namespace of the test's own
UNIT_TESTS += test_network
test_network_SRCS := tests/unit/agent/test_network.c agent/network.c agent/request.c \
	agent/cgstat.c $(NETLINK_CONFIG_SRCS) $(NETLINK_SRCS) $(OCI_SRCS) $(PROTO_SRCS) \
	$(LIB_JSON_SRCS) $(LIB_SRCS)
test_network_LIBS := $(PROTOBUF_LIBS) $(OCI_LIBS)
# the agent API's and the debug console's ports: what each server's calls reach
UNIT_TESTS += test_rpc_scope
test_rpc_scope_SRCS := tests/unit/agent/test_rpc_scope.c $(filter-out agent/main.c,$(AGENT_SRCS))
test_rpc_scope_LIBS := $(PROTOBUF_LIBS) $(OCI_LIBS) $(MODLOAD_LIBS)
