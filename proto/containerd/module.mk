# containerd's shim v2 wire types (task service, events, cgroups v2 metrics),
# generated with protoc-c into build/gen/containerd
CONTAINERD_PROTOS := $(wildcard proto/containerd/*.proto)
CONTAINERD_PROTO_SRCS := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(CONTAINERD_PROTOS))
GEN_HEADERS += $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.h,$(CONTAINERD_PROTOS))
