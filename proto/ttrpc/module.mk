# ttrpc framing, server and client (host shim and guest agent both link it)
TTRPC_SRCS := proto/ttrpc.c $(PROTO_SRCS)
