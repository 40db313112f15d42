# containerd-shim-husk-v2: containerd's runtime v2 front over the host library (shim/lib)
SHIMV2_SRCS := shim/v2/main.c shim/v2/service.c shim/v2/task_request.c shim/v2/rpc.c \
	shim/v2/task.c shim/v2/podspec.c shim/v2/stdio.c shim/v2/rootfs.c shim/v2/publish.c \
	shim/v2/bootstrap.c $(CONTAINERD_PROTO_SRCS) $(HOST_ALL_SRCS)

BINS += $(BUILD)/bin/containerd-shim-husk-v2
$(BUILD)/bin/containerd-shim-husk-v2: $(call objs,$(SHIMV2_SRCS))
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)
