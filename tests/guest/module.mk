# Guest-side vsock test program (static /init of build/tests/vsock-initrd.img)
# and the host-side peer that drives it (build/tests/bin/vsock-peer).
TEST_PATTERN_SRCS := tests/guest/pattern.c tests/guest/services.c
VSOCK_TEST_SRCS := tests/guest/vsock-test.c agent/modload.c $(TEST_PATTERN_SRCS) \
	proto/common/error.c
VSOCK_PEER_SRCS := tests/integration/helpers/vsock-peer.c $(VSOCK_DIAL_SRCS) \
	$(TEST_PATTERN_SRCS) $(COMMON_SRCS)

$(call objs,tests/guest/vsock-test.c tests/integration/helpers/vsock-peer.c $(TEST_PATTERN_SRCS)): \
	ALL_CFLAGS += -Itests/guest

$(BUILD)/tests/guest/vsock-test: $(call objs,$(VSOCK_TEST_SRCS))
	@mkdir -p $(@D)
	$(CC) -static -o $@ $^

$(BUILD)/tests/vsock-initrd.img: $(BUILD)/tests/guest/vsock-test $(GUEST_DIR)/vmlinuz \
		guest-image/build-initrd
	guest-image/build-initrd -m $(GUEST_DIR) $< $@

$(BUILD)/tests/bin/vsock-peer: $(call objs,$(VSOCK_PEER_SRCS))
	@mkdir -p $(@D)
	$(CC) -o $@ $^

.PHONY: vsock-test-image
vsock-test-image: $(BUILD)/tests/vsock-initrd.img $(GUEST_DIR)/vmlinuz $(BUILD)/tests/bin/vsock-peer

# built by `make all` so that `make integration` finds them
BINS += $(BUILD)/tests/bin/vsock-peer
GUEST += $(BUILD)/tests/vsock-initrd.img

UNIT_TESTS += test_guest_helpers
test_guest_helpers_SRCS := tests/guest/test_guest_helpers.c agent/modload.c tests/guest/pattern.c \
	proto/common/error.c
