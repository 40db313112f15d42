# containerd-shim-husk-v2: containerd's runtime v2 front over the sandbox library
SHIMV2_SRCS := shim/v2/main.c shim/v2/service.c shim/v2/request.c shim/v2/rpc.c \
	shim/v2/task.c shim/v2/podspec.c shim/v2/stdio.c shim/v2/rootfs.c shim/v2/publish.c shim/v2/bootstrap.c \
	proto/common/sha256.c $(CONTAINERD_PROTO_SRCS) $(SHIM_LIB_SRCS) $(QEMU_SRCS) \
	$(TTRPC_SRCS) $(VSOCK_DIAL_SRCS) $(COMMON_SRCS)

BINS += $(BUILD)/bin/containerd-shim-husk-v2
$(BUILD)/bin/containerd-shim-husk-v2: $(call objs,$(SHIMV2_SRCS))
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(QEMU_LIBS) $(PROTOBUF_LIBS)

# Task requests come from whoever reaches the shim's socket
FUZZERS += fuzz_task_request
fuzz_task_request_SRCS := tests/fuzz/fuzz_task_request.c shim/v2/request.c $(SPEC_SRCS) \
	$(CONTAINERD_PROTO_SRCS) $(COMMON_SRCS)
fuzz_task_request_LIBS := -ljson-c $(PROTOBUF_LIBS)
