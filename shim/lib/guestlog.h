/*
 * The guest's console lines in the host's log (the CLI's --log, the shim's log that containerd
 * keeps): each whole line becomes one log line "guest ID: ..." at the level the agent gave it
 * (husk-agent's and the guest modprobe's own lines) or info (the kernel's: on a quiet console
 * only its errors, and "reboot: Power down" at every poweroff), escaped (lib/text.h), cut at
 * GUESTLOG_LINE_MAX bytes, and at most GUESTLOG_BURST a second: a guest that floods its
 * console costs the host's log one line counting what it dropped.
 */
#ifndef HUSK_GUESTLOG_H
#define HUSK_GUESTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ratelimit.h"

#define GUESTLOG_LINE_MAX 1024
#define GUESTLOG_BURST    100

struct guestlog {
	const char *id; /* the sandbox's; not owned */
	char line[GUESTLOG_LINE_MAX];
	size_t len;
	bool cut; /* the current line passed GUESTLOG_LINE_MAX: its rest is skipped */
	struct rate_limit rl;
};

void guestlog_init(struct guestlog *g, const char *id);
/* Takes len more bytes of console output at now_ms (monotonic), logging every line it ends. */
void guestlog_feed(struct guestlog *g, const char *buf, size_t len, int64_t now_ms);

#endif
