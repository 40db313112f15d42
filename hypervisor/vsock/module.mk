# husk-vsockd: the vhost-user-vsock back-end (device layer, hybrid vsock front, CLI) and the
# host-side dial library, over the vhost-user/virtqueue layer (VRING_SRCS).
VSOCK_DEV_SRCS := hypervisor/vsock/vsock_pkt.c hypervisor/vsock/conn.c hypervisor/vsock/hybrid.c \
	hypervisor/vsock/vsock_dev.c
VRING_SRCS := hypervisor/vsock/vring.c hypervisor/vsock/vhost_user.c
VSOCK_DIAL_SRCS := hypervisor/vsock/dial.c

BINS += $(BUILD)/bin/husk-vsockd
$(BUILD)/bin/husk-vsockd: $(call objs,hypervisor/vsock/main.c $(VSOCK_DEV_SRCS) $(VRING_SRCS) \
		$(COMMON_SRCS))
	@mkdir -p $(@D)
	$(CC) -o $@ $^

UNIT_TESTS += test_vsock_conn test_vsock_dev test_dial test_vsock_daemon
# runs the daemon binary itself (order-only: not linked in)
test_vsock_daemon_SRCS = tests/unit/test_vsock_daemon.c
$(BUILD)/tests/test_vsock_daemon: | $(BUILD)/bin/husk-vsockd
test_vsock_conn_SRCS = tests/unit/test_vsock_conn.c $(VSOCK_DEV_SRCS) $(VRING_SRCS) $(COMMON_SRCS)
test_vsock_dev_SRCS = tests/unit/test_vsock_dev.c $(VSOCK_DEV_SRCS) $(VRING_SRCS) $(COMMON_SRCS)
test_dial_SRCS = tests/unit/test_dial.c $(VSOCK_DIAL_SRCS) hypervisor/vsock/hybrid.c \
	$(COMMON_SRCS)

FUZZERS += fuzz_vsock_tx fuzz_hybrid_connect_line
fuzz_vsock_tx_SRCS = tests/fuzz/fuzz_vsock_tx.c $(VSOCK_DEV_SRCS) $(VRING_SRCS) $(COMMON_SRCS)
fuzz_hybrid_connect_line_SRCS = tests/fuzz/fuzz_hybrid_connect_line.c hypervisor/vsock/hybrid.c \
	$(COMMON_SRCS)
