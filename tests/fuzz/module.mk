# unit tests and fuzzers of husk-vsockd's vhost-user/virtqueue layer (VRING_SRCS, defined in
# hypervisor/vsock/module.mk)

UNIT_TESTS += test_vring test_vhost_user
test_vring_SRCS := tests/unit/test_vring.c $(VRING_SRCS) $(COMMON_SRCS)
test_vhost_user_SRCS := tests/unit/test_vhost_user.c $(VRING_SRCS) $(COMMON_SRCS)


FUZZERS += fuzz_vhost_user
fuzz_vhost_user_SRCS := tests/fuzz/fuzz_vhost_user.c $(VRING_SRCS) $(COMMON_SRCS)

FUZZERS += fuzz_vring
fuzz_vring_SRCS := tests/fuzz/fuzz_vring.c hypervisor/vsock/vring.c $(COMMON_SRCS)
