# unit tests of hypervisor/qemu/
UNIT_TESTS += test_qemu_argv test_accel
test_qemu_argv_SRCS := tests/unit/hypervisor/qemu/test_qemu_argv.c $(QEMU_SRCS) $(LIB_SRCS) \
	$(LIB_JSON_SRCS)
test_qemu_argv_LIBS := $(QEMU_LIBS)
test_accel_SRCS := tests/unit/hypervisor/qemu/test_accel.c hypervisor/qemu/accel.c $(LIB_SRCS)
