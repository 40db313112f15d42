# husk: the OCI command line, one file per verb, over the host library (shim/lib)
HUSK_SRCS := shim/main.c shim/run.c shim/check.c shim/create.c shim/owner.c shim/lifecycle.c \
	shim/state.c shim/spec_cmd.c shim/exec.c shim/ps.c shim/pause.c shim/update.c \
	shim/events.c shim/debugcon.c shim/metrics.c shim/metrics_http.c $(HOST_ALL_SRCS)

BINS += $(BUILD)/bin/husk
$(BUILD)/bin/husk: $(call objs,$(HUSK_SRCS))
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)
