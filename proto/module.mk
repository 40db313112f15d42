# protobuf-c code for the agent API and ttrpc envelopes, generated into build/gen
PROTOS      := proto/agent.proto proto/ttrpc.proto
PROTO_SRCS  := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
GEN_HEADERS += $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.h,$(PROTOS))

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(@D)
	protoc-c --proto_path=proto --c_out=$(BUILD)/gen $<

# generated sources compile from build/gen
$(BUILD)/obj/$(BUILD)/gen/%.o: $(BUILD)/gen/%.c $(GEN_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Wno-unused-parameter -c -o $@ $<
$(BUILD)/asan/$(BUILD)/gen/%.o: $(BUILD)/gen/%.c $(GEN_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) -c -o $@ $<
$(BUILD)/fuzzobj/$(BUILD)/gen/%.o: $(BUILD)/gen/%.c $(GEN_HEADERS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -c -o $@ $<

PROTOBUF_LIBS := $(shell pkg-config --libs libprotobuf-c 2>/dev/null || echo -lprotobuf-c)
