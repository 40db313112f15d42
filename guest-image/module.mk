# Guest kernel and modules from Debian's linux-image-cloud-amd64 and the debug
# console's busybox from busybox-static (downloaded, never installed on the
# host), and the guest initrd around husk-agent.
GUEST_DIR := $(BUILD)/guest

$(GUEST_DIR)/vmlinuz: guest-image/fetch-kernel guest-image/modules.list guest-image/modules.ondemand
	guest-image/fetch-kernel $(GUEST_DIR)

$(GUEST_DIR)/busybox: guest-image/fetch-busybox
	guest-image/fetch-busybox $(GUEST_DIR)

$(GUEST_DIR)/initrd.img: $(BUILD)/bin/husk-agent $(GUEST_DIR)/vmlinuz $(GUEST_DIR)/busybox \
		guest-image/build-initrd guest-image/modules.ondemand
	guest-image/build-initrd -m $(GUEST_DIR) -b $(GUEST_DIR)/busybox -o $< $@

GUEST += $(GUEST_DIR)/vmlinuz $(GUEST_DIR)/initrd.img
