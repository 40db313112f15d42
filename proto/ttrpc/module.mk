# ttrpc framing, server and client (host shim and guest agent both link it)
TTRPC_SRCS := proto/ttrpc.c $(PROTO_SRCS)

UNIT_TESTS += test_ttrpc
test_ttrpc_SRCS := tests/unit/test_ttrpc.c $(TTRPC_SRCS) $(COMMON_SRCS)
test_ttrpc_LIBS := $(PROTOBUF_LIBS)

# hostile bytes on a connection (both roles), and hostile envelopes in valid frames
FUZZ_TTRPC_SRCS := tests/fuzz/fuzz_ttrpc_peer.c $(TTRPC_SRCS) $(COMMON_SRCS)
FUZZERS += fuzz_ttrpc_frame fuzz_ttrpc_envelope
fuzz_ttrpc_frame_SRCS := tests/fuzz/fuzz_ttrpc_frame.c $(FUZZ_TTRPC_SRCS)
fuzz_ttrpc_frame_LIBS := $(PROTOBUF_LIBS)
fuzz_ttrpc_envelope_SRCS := tests/fuzz/fuzz_ttrpc_envelope.c $(FUZZ_TTRPC_SRCS)
fuzz_ttrpc_envelope_LIBS := $(PROTOBUF_LIBS)
