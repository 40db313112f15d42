# QEMU driver: argv and start, QMP client, acceleration detection, virtiofsd supervision
QEMU_SRCS := hypervisor/qemu/qemu.c hypervisor/qemu/qmp.c hypervisor/qemu/accel.c \
	hypervisor/qemu/virtiofsd.c
QEMU_LIBS := $(shell pkg-config --libs json-c)
