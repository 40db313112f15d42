# Guest-side test programs and fixtures: the static /init of build/tests/vsock-initrd.img, the
# services it runs (shared with the host-side peer), and a simulated guest virtio driver
# (vsock_guest.h) for the vsock unit tests and fuzzers.
TEST_PATTERN_SRCS := tests/guest/pattern.c tests/guest/services.c
VSOCK_TEST_SRCS := tests/guest/vsock-test.c tests/guest/hostile.c agent/modload.c $(TEST_PATTERN_SRCS) \
	$(TTRPC_SRCS) $(LIB_SRCS)

$(BUILD)/tests/guest/vsock-test: $(call objs,$(VSOCK_TEST_SRCS))
	@mkdir -p $(@D)
	$(CC) -static -o $@ $^ -l:libprotobuf-c.a $(MODLOAD_STATIC_LIBS)

$(BUILD)/tests/vsock-initrd.img: $(BUILD)/tests/guest/vsock-test $(GUEST_DIR)/vmlinuz \
		guest-image/build-initrd
	guest-image/build-initrd -m $(GUEST_DIR) $< $@

.PHONY: vsock-test-image
vsock-test-image: $(BUILD)/tests/vsock-initrd.img $(GUEST_DIR)/vmlinuz $(BUILD)/tests/bin/vsock-peer

# built by `make all` so that `make integration` finds it
GUEST += $(BUILD)/tests/vsock-initrd.img

UNIT_TESTS += test_guest_helpers
test_guest_helpers_SRCS := tests/guest/test_guest_helpers.c agent/modload.c tests/guest/pattern.c \
	lib/error.c
test_guest_helpers_LIBS := $(MODLOAD_LIBS)
