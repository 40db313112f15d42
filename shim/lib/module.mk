# shim/lib: the host library under both fronts (husk CLI, containerd-shim-husk-v2): the sandbox
# owner, bundle checks, configuration, agent client, stdio relay, state directories, terminals
# the bundle check alone: the host's facts and the agent's parser (tests and fuzzers link it)
BUNDLE_SRCS := shim/lib/bundle.c $(OCI_SRCS) $(LIB_JSON_SRCS)
HOST_SRCS := shim/lib/bundle.c shim/lib/agent_client.c shim/lib/relay.c shim/lib/statedir.c \
	shim/lib/sandbox.c shim/lib/ocistate.c shim/lib/control.c shim/lib/attach.c shim/lib/tty.c \
	shim/lib/detach.c shim/lib/execproc.c shim/lib/procwatch.c shim/lib/resources.c \
	shim/lib/config.c shim/lib/podnet.c shim/lib/podnet_msg.c shim/lib/dnsforward.c \
	shim/lib/bootslot.c shim/lib/hostcg.c shim/lib/ratelimit.c shim/lib/conslog.c \
	shim/lib/guestlog.c shim/lib/promtext.c shim/lib/metricsdir.c shim/lib/sbmetrics.c \
	shim/lib/prommerge.c shim/lib/procfig.c
# everything a front links below itself
HOST_ALL_SRCS := $(HOST_SRCS) $(QEMU_SRCS) $(VSOCK_DIAL_SRCS) $(OCI_SRCS) $(TTRPC_SRCS) \
	$(NETLINK_HOST_SRCS) $(LIB_JSON_SRCS) $(LIB_SRCS)
HOST_LIBS := $(QEMU_LIBS) $(PROTOBUF_LIBS) $(OCI_LIBS)
