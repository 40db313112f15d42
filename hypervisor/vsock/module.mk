# husk-vsockd: the vhost-user-vsock back-end (device layer, hybrid vsock front, CLI) over the
# vhost-user/virtqueue layer (VRING_SRCS); and the host-side dial library (VSOCK_DIAL_SRCS)
VSOCK_DEV_SRCS := hypervisor/vsock/vsock_pkt.c hypervisor/vsock/conn.c hypervisor/vsock/hybrid.c \
	hypervisor/vsock/vsock_dev.c
VRING_SRCS := hypervisor/vsock/vring.c hypervisor/vsock/vhost_user.c
VSOCK_DIAL_SRCS := hypervisor/vsock/dial.c

BINS += $(BUILD)/bin/husk-vsockd
$(BUILD)/bin/husk-vsockd: $(call objs,hypervisor/vsock/main.c hypervisor/vsock/confine.c \
		$(VSOCK_DEV_SRCS) $(VRING_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(CC) -o $@ $^ -lseccomp
