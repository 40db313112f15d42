# QEMU driver, accel detection, virtiofsd supervision, process spawning, config file.
# E2 links $(QEMU_SRCS) with $(QEMU_LIBS) into build/bin/husk.
QEMU_SRCS := hypervisor/qemu/qemu.c hypervisor/qemu/qmp.c hypervisor/qemu/accel.c \
	hypervisor/qemu/virtiofsd.c shim/lib/proc.c shim/lib/config.c
QEMU_LIBS := $(shell pkg-config --libs json-c)

UNIT_TESTS += test_proc test_qemu_argv test_config test_accel
test_proc_SRCS := tests/unit/test_proc.c shim/lib/proc.c $(COMMON_SRCS)
test_qemu_argv_SRCS := tests/unit/test_qemu_argv.c $(QEMU_SRCS) $(COMMON_SRCS)
test_qemu_argv_LIBS := $(QEMU_LIBS)
test_config_SRCS := tests/unit/test_config.c $(QEMU_SRCS) $(COMMON_SRCS)
test_config_LIBS := $(QEMU_LIBS)
test_accel_SRCS := tests/unit/test_accel.c hypervisor/qemu/accel.c $(COMMON_SRCS)

FUZZERS += fuzz_config
fuzz_config_SRCS := tests/fuzz/fuzz_config.c $(QEMU_SRCS) $(COMMON_SRCS)
fuzz_config_LIBS := $(QEMU_LIBS)
