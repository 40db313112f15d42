# benchmark helpers (not installed)
$(BUILD)/bench/agent-wait: $(call objs,bench/helpers/agent-wait.c hypervisor/vsock/dial.c $(COMMON_SRCS))
	@mkdir -p $(@D)
	$(CC) -o $@ $^

.PHONY: bench
bench: all $(BUILD)/bench/agent-wait vsock-test-image
	bench/coldstart.sh
	bench/vsock.sh
