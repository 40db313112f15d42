# lib: the base library under every program, host and guest: error object, cleanup macros,
# logging, event loop and signalfd, SCM_RIGHTS, process spawning, SHA-256
LIB_SRCS := lib/error.c lib/log.c lib/loop.c lib/cmsg.c lib/proc.c lib/sha256.c
