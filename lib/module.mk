# lib: the base library under every program, host and guest: error object, cleanup macros,
# logging, event loop and signalfd, SCM_RIGHTS, process spawning, SHA-256, clock and deadlines,
# mkdir -p and fd helpers, escaping of untrusted text, the agent token, one bounded JSON parse
LIB_SRCS := lib/error.c lib/log.c lib/loop.c lib/cmsg.c lib/proc.c lib/sha256.c lib/clock.c \
	lib/fs.c lib/text.c lib/token.c
# with json-c
LIB_JSON_SRCS := lib/json.c
