# vhost-user back-end and split-virtqueue layer of husk-vsockd (hypervisor/vsock/{vring,vhost_user}.c):
# its unit tests and fuzzers. This fragment is included after hypervisor/vsock/module.mk, so
# VRING_SRCS is only usable there in deferred contexts (recursive variables, recipes).
VRING_SRCS := hypervisor/vsock/vring.c hypervisor/vsock/vhost_user.c

UNIT_TESTS += test_vring test_vhost_user
test_vring_SRCS := tests/unit/test_vring.c $(VRING_SRCS) $(COMMON_SRCS)
test_vhost_user_SRCS := tests/unit/test_vhost_user.c $(VRING_SRCS) $(COMMON_SRCS)


FUZZERS += fuzz_vhost_user
fuzz_vhost_user_SRCS := tests/fuzz/fuzz_vhost_user.c $(VRING_SRCS) $(COMMON_SRCS)

FUZZERS += fuzz_vring
fuzz_vring_SRCS := tests/fuzz/fuzz_vring.c hypervisor/vsock/vring.c $(COMMON_SRCS)
