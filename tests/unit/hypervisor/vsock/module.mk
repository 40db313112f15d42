# unit tests of hypervisor/vsock/: the virtqueue and vhost-user layer, the device, the dial
# library, and the husk-vsockd binary itself
UNIT_TESTS += test_vring test_vhost_user test_vsock_conn test_vsock_dev test_dial test_vsock_daemon
test_vring_SRCS := tests/unit/hypervisor/vsock/test_vring.c $(VRING_SRCS) $(LIB_SRCS)
test_vhost_user_SRCS := tests/unit/hypervisor/vsock/test_vhost_user.c $(VRING_SRCS) $(LIB_SRCS)
test_vsock_conn_SRCS := tests/unit/hypervisor/vsock/test_vsock_conn.c $(VSOCK_DEV_SRCS) \
	$(VRING_SRCS) $(LIB_SRCS)
test_vsock_dev_SRCS := tests/unit/hypervisor/vsock/test_vsock_dev.c $(VSOCK_DEV_SRCS) \
	$(VRING_SRCS) $(LIB_SRCS)
test_dial_SRCS := tests/unit/hypervisor/vsock/test_dial.c $(VSOCK_DIAL_SRCS) \
	hypervisor/vsock/hybrid.c $(LIB_SRCS)
# runs the daemon binary itself (order-only: not linked in)
test_vsock_daemon_SRCS := tests/unit/hypervisor/vsock/test_vsock_daemon.c
$(BUILD)/tests/test_vsock_daemon: | $(BUILD)/bin/husk-vsockd
