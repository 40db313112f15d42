# proto: schemas only. protoc-c generates their C code into build/gen/proto/, included as
# "proto/agent.pb-c.h"; imports name the path from the repository root.
PROTOS := proto/agent.proto proto/ttrpc.proto
PROTO_SRCS := $(patsubst %.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
CONTAINERD_PROTOS := $(wildcard proto/containerd/*.proto)
CONTAINERD_PROTO_SRCS := $(patsubst %.proto,$(BUILD)/gen/%.pb-c.c,$(CONTAINERD_PROTOS))
GEN_HEADERS += $(patsubst %.proto,$(BUILD)/gen/%.pb-c.h,$(PROTOS) $(CONTAINERD_PROTOS))

$(BUILD)/gen/proto/%.pb-c.c $(BUILD)/gen/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(@D)
	protoc-c --proto_path=. --c_out=$(BUILD)/gen $<

# generated sources compile from build/gen and see only their own kind
GEN_CFLAGS = -I$(BUILD)/gen -Wno-unused-parameter
$(BUILD)/obj/$(BUILD)/gen/%.o: $(BUILD)/gen/%.c $(GEN_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(GEN_CFLAGS) -c -o $@ $<
$(BUILD)/asan/$(BUILD)/gen/%.o: $(BUILD)/gen/%.c $(GEN_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) $(GEN_CFLAGS) -c -o $@ $<
$(BUILD)/fuzzobj/$(BUILD)/gen/%.o: $(BUILD)/gen/%.c $(GEN_HEADERS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(GEN_CFLAGS) -c -o $@ $<

PROTOBUF_LIBS := $(shell pkg-config --libs libprotobuf-c 2>/dev/null || echo -lprotobuf-c)
