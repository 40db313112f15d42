# husk: the host CLI (shim/*.c) over the sandbox manager library (shim/lib)
SPEC_SRCS := shim/lib/spec.c
SHIM_LIB_SRCS := $(SPEC_SRCS) shim/lib/agent.c shim/lib/relay.c shim/lib/statedir.c \
	shim/lib/sandbox.c shim/lib/ocistate.c shim/lib/control.c shim/lib/attach.c shim/lib/tty.c \
	shim/lib/detach.c shim/lib/execproc.c shim/lib/procwatch.c shim/lib/hooks.c \
	shim/lib/resources.c
HUSK_SRCS := shim/main.c shim/run.c shim/check.c shim/create.c shim/owner.c shim/lifecycle.c \
	shim/state.c shim/spec_cmd.c shim/exec.c shim/ps.c shim/pause.c shim/update.c \
	shim/events.c $(SHIM_LIB_SRCS) $(QEMU_SRCS) $(TTRPC_SRCS) \
	$(VSOCK_DIAL_SRCS) $(COMMON_SRCS)

BINS += $(BUILD)/bin/husk
$(BUILD)/bin/husk: $(call objs,$(HUSK_SRCS))
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(QEMU_LIBS) $(PROTOBUF_LIBS)

UNIT_TESTS += test_spec test_relay test_statedir test_ocistate test_execproc test_hooks test_tty \
	test_resources
test_spec_SRCS := tests/unit/test_spec.c $(SPEC_SRCS) $(COMMON_SRCS)
test_spec_LIBS := -ljson-c
test_relay_SRCS := tests/unit/test_relay.c shim/lib/relay.c shim/lib/agent.c $(TTRPC_SRCS) \
	$(COMMON_SRCS)
test_relay_LIBS := $(PROTOBUF_LIBS)
test_statedir_SRCS := tests/unit/test_statedir.c shim/lib/statedir.c $(COMMON_SRCS)
test_ocistate_SRCS := tests/unit/test_ocistate.c shim/lib/ocistate.c shim/lib/control.c \
	shim/lib/spec.c shim/lib/proc.c $(COMMON_SRCS)
test_ocistate_LIBS := -ljson-c
test_execproc_SRCS := tests/unit/test_execproc.c shim/lib/execproc.c $(SPEC_SRCS) $(COMMON_SRCS)
test_execproc_LIBS := -ljson-c
test_tty_SRCS := tests/unit/test_tty.c shim/lib/tty.c shim/lib/agent.c $(TTRPC_SRCS) $(COMMON_SRCS)
test_tty_LIBS := $(PROTOBUF_LIBS)

test_hooks_SRCS := tests/unit/test_hooks.c shim/lib/hooks.c $(COMMON_SRCS)
test_hooks_LIBS := -ljson-c

FUZZERS += fuzz_hooks
fuzz_hooks_SRCS := tests/fuzz/fuzz_hooks.c shim/lib/hooks.c $(COMMON_SRCS)
fuzz_hooks_LIBS := -ljson-c

test_resources_SRCS := tests/unit/test_resources.c shim/lib/resources.c $(COMMON_SRCS)
test_resources_LIBS := -ljson-c

FUZZERS += fuzz_spec
fuzz_spec_SRCS := tests/fuzz/fuzz_spec.c $(SPEC_SRCS) $(COMMON_SRCS)
fuzz_spec_LIBS := -ljson-c

FUZZERS += fuzz_resources
fuzz_resources_SRCS := tests/fuzz/fuzz_resources.c shim/lib/resources.c $(COMMON_SRCS)
fuzz_resources_LIBS := -ljson-c
