# ttrpc: framing, server and client (the host's shim and CLI and the guest agent all link it)
TTRPC_SRCS := ttrpc/ttrpc.c ttrpc/pbunpack.c $(PROTO_SRCS)
