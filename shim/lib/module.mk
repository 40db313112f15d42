# shim/lib: the host library under both fronts (husk CLI, containerd-shim-husk-v2): the sandbox
# owner, bundle checks, configuration, agent client, stdio relay, state directories, terminals
SPEC_SRCS := shim/lib/spec.c
HOST_SRCS := $(SPEC_SRCS) shim/lib/agent_client.c shim/lib/relay.c shim/lib/statedir.c \
	shim/lib/sandbox.c shim/lib/ocistate.c shim/lib/control.c shim/lib/attach.c shim/lib/tty.c \
	shim/lib/detach.c shim/lib/execproc.c shim/lib/procwatch.c shim/lib/resources.c \
	shim/lib/config.c
# everything a front links below itself
HOST_ALL_SRCS := $(HOST_SRCS) $(QEMU_SRCS) $(VSOCK_DIAL_SRCS) $(OCI_HOOKS_SRCS) $(TTRPC_SRCS) \
	$(LIB_SRCS) $(LIB_JSON_SRCS)
HOST_LIBS := $(QEMU_LIBS) $(PROTOBUF_LIBS)
