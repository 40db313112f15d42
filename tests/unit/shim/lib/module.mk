# unit tests of shim/lib/, the host library
UNIT_TESTS += test_config test_bundle test_relay test_statedir test_ocistate test_execproc \
	test_tty test_resources test_podnet test_hostcg test_agent_client
test_config_SRCS := tests/unit/shim/lib/test_config.c shim/lib/config.c $(QEMU_SRCS) $(LIB_SRCS) \
	$(LIB_JSON_SRCS)
test_config_LIBS := $(QEMU_LIBS)
test_bundle_SRCS := tests/unit/shim/lib/test_bundle.c $(BUNDLE_SRCS) $(LIB_SRCS)
test_bundle_LIBS := $(OCI_LIBS)
test_relay_SRCS := tests/unit/shim/lib/test_relay.c shim/lib/relay.c shim/lib/agent_client.c \
	$(TTRPC_SRCS) $(LIB_SRCS)
test_relay_LIBS := $(PROTOBUF_LIBS)
test_statedir_SRCS := tests/unit/shim/lib/test_statedir.c shim/lib/statedir.c shim/lib/metricsdir.c $(LIB_SRCS)
test_ocistate_SRCS := tests/unit/shim/lib/test_ocistate.c shim/lib/ocistate.c \
	shim/lib/control.c shim/lib/statedir.c shim/lib/metricsdir.c $(BUNDLE_SRCS) $(LIB_SRCS)
test_ocistate_LIBS := $(OCI_LIBS)
test_execproc_SRCS := tests/unit/shim/lib/test_execproc.c shim/lib/execproc.c $(BUNDLE_SRCS) \
	$(LIB_SRCS)
test_execproc_LIBS := $(OCI_LIBS)
test_tty_SRCS := tests/unit/shim/lib/test_tty.c shim/lib/tty.c shim/lib/agent_client.c \
	$(TTRPC_SRCS) $(LIB_SRCS)
test_tty_LIBS := $(PROTOBUF_LIBS)
test_resources_SRCS := tests/unit/shim/lib/test_resources.c shim/lib/resources.c $(OCI_SRCS) \
	$(LIB_SRCS)
test_resources_LIBS := $(OCI_LIBS)
test_podnet_SRCS := tests/unit/shim/lib/test_podnet.c shim/lib/podnet.c shim/lib/podnet_msg.c \
	hypervisor/qemu/accel.c $(NETLINK_HOST_SRCS) $(PROTO_SRCS) $(LIB_SRCS)
test_podnet_LIBS := $(PROTOBUF_LIBS)
# the DNS relay's two ends: the agent's API over a socketpair and the host's forwarder
UNIT_TESTS += test_dnsforward
test_dnsforward_SRCS := tests/unit/shim/lib/test_dnsforward.c shim/lib/dnsforward.c \
	shim/lib/agent_client.c $(filter-out agent/main.c,$(AGENT_SRCS))
test_dnsforward_LIBS := $(PROTOBUF_LIBS) $(OCI_LIBS) $(MODLOAD_LIBS)
UNIT_TESTS += test_bootslot
test_bootslot_SRCS := tests/unit/shim/lib/test_bootslot.c shim/lib/bootslot.c $(LIB_SRCS)
test_hostcg_SRCS := tests/unit/shim/lib/test_hostcg.c shim/lib/hostcg.c shim/lib/resources.c \
	$(BUNDLE_SRCS) $(LIB_SRCS)
test_hostcg_LIBS := $(OCI_LIBS)
test_agent_client_SRCS := tests/unit/shim/lib/test_agent_client.c shim/lib/agent_client.c \
	$(TTRPC_SRCS) $(LIB_SRCS)
test_agent_client_LIBS := $(PROTOBUF_LIBS)
UNIT_TESTS += test_conslog
test_conslog_SRCS := tests/unit/shim/lib/test_conslog.c shim/lib/conslog.c shim/lib/guestlog.c \
	shim/lib/ratelimit.c $(LIB_SRCS)
UNIT_TESTS += test_guestlog
test_guestlog_SRCS := tests/unit/shim/lib/test_guestlog.c shim/lib/guestlog.c shim/lib/ratelimit.c \
	$(LIB_SRCS)
# the Prometheus text writer of the metrics
UNIT_TESTS += test_promtext
test_promtext_SRCS := tests/unit/shim/lib/test_promtext.c shim/lib/promtext.c $(LIB_SRCS)
# a host process's figures from /proc, with what it forked
UNIT_TESTS += test_procfig
test_procfig_SRCS := tests/unit/shim/lib/test_procfig.c shim/lib/procfig.c $(LIB_SRCS)
