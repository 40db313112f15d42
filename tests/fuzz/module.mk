# libFuzzer targets, one per decoder of untrusted bytes (`make fuzz` runs each briefly)
FUZZERS += fuzz_ttrpc_frame fuzz_ttrpc_envelope
# hostile bytes on a connection (both roles), and hostile envelopes in valid frames
FUZZ_TTRPC_SRCS := tests/fuzz/fuzz_ttrpc_peer.c $(TTRPC_SRCS) $(LIB_SRCS)
fuzz_ttrpc_frame_SRCS := tests/fuzz/fuzz_ttrpc_frame.c $(FUZZ_TTRPC_SRCS)
fuzz_ttrpc_frame_LIBS := $(PROTOBUF_LIBS)
fuzz_ttrpc_envelope_SRCS := tests/fuzz/fuzz_ttrpc_envelope.c $(FUZZ_TTRPC_SRCS)
fuzz_ttrpc_envelope_LIBS := $(PROTOBUF_LIBS)

# the host's side of the agent channel: replies unpacked within their memory budget, guest text
FUZZERS += fuzz_agent_reply
fuzz_agent_reply_SRCS := tests/fuzz/fuzz_agent_reply.c $(TTRPC_SRCS) $(LIB_SRCS)
fuzz_agent_reply_LIBS := $(PROTOBUF_LIBS)

# the guest's side: agent requests and the host-supplied spec inside them
FUZZERS += fuzz_agent_request fuzz_proclist
fuzz_agent_request_SRCS := tests/fuzz/fuzz_agent_request.c agent/request.c $(OCI_SRCS) \
	$(PROTO_SRCS) $(LIB_JSON_SRCS) $(LIB_SRCS)
fuzz_agent_request_LIBS := $(PROTOBUF_LIBS) $(OCI_LIBS)
fuzz_proclist_SRCS := tests/fuzz/fuzz_proclist.c agent/proclist.c $(PROTO_SRCS) $(LIB_SRCS)
fuzz_proclist_LIBS := $(PROTOBUF_LIBS)

# husk-vsockd: guest rings and packets, vhost-user messages, the hybrid CONNECT line
FUZZERS += fuzz_vhost_user fuzz_vring fuzz_vsock_tx fuzz_hybrid_connect_line
fuzz_vhost_user_SRCS := tests/fuzz/fuzz_vhost_user.c $(VRING_SRCS) $(LIB_SRCS)
fuzz_vring_SRCS := tests/fuzz/fuzz_vring.c hypervisor/vsock/vring.c $(LIB_SRCS)
fuzz_vsock_tx_SRCS := tests/fuzz/fuzz_vsock_tx.c $(VSOCK_DEV_SRCS) $(VRING_SRCS) $(LIB_SRCS)
fuzz_hybrid_connect_line_SRCS := tests/fuzz/fuzz_hybrid_connect_line.c hypervisor/vsock/hybrid.c \
	$(LIB_SRCS)

# the guest's console lines into the host's log
FUZZERS += fuzz_guestlog
fuzz_guestlog_SRCS := tests/fuzz/fuzz_guestlog.c shim/lib/guestlog.c shim/lib/ratelimit.c \
	$(LIB_SRCS)

# the host's inputs: husk.json, bundles (spec, hooks, resources), Task requests
FUZZERS += fuzz_config fuzz_spec fuzz_hooks fuzz_resources fuzz_task_request
fuzz_config_SRCS := tests/fuzz/fuzz_config.c shim/lib/config.c $(QEMU_SRCS) $(LIB_SRCS) \
	$(LIB_JSON_SRCS)
fuzz_config_LIBS := $(QEMU_LIBS)
# the one spec contract: the host's bundle check and the agent's parser must agree on any input
fuzz_spec_SRCS := tests/fuzz/fuzz_spec.c $(BUNDLE_SRCS) $(LIB_SRCS)
fuzz_spec_LIBS := $(OCI_LIBS)
fuzz_hooks_SRCS := tests/fuzz/fuzz_hooks.c oci/hooks.c oci/specjson.c $(LIB_JSON_SRCS) $(LIB_SRCS)
fuzz_hooks_LIBS := -ljson-c
fuzz_resources_SRCS := tests/fuzz/fuzz_resources.c shim/lib/resources.c $(OCI_SRCS) \
	$(LIB_SRCS)
fuzz_resources_LIBS := $(OCI_LIBS)
fuzz_task_request_SRCS := tests/fuzz/fuzz_task_request.c shim/v2/task_request.c $(BUNDLE_SRCS) \
	$(CONTAINERD_PROTO_SRCS) $(LIB_SRCS)
fuzz_task_request_LIBS := $(OCI_LIBS) $(PROTOBUF_LIBS)

# netlink replies (the host reads a caller's network namespace)
FUZZERS += fuzz_netlink
fuzz_netlink_SRCS := tests/fuzz/fuzz_netlink.c $(NETLINK_HOST_SRCS) $(LIB_SRCS)

# husk metrics: an owner's exposition merged with the others'
FUZZERS += fuzz_prommerge
fuzz_prommerge_SRCS := tests/fuzz/fuzz_prommerge.c shim/lib/prommerge.c shim/lib/promtext.c \
	$(LIB_SRCS)
