/*
 * A fixed-window rate limit for what the guest makes the host do (events it
 * reports): at most burst occurrences per interval_ms; the rest are counted.
 */
#ifndef HUSK_RATELIMIT_H
#define HUSK_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct rate_limit {
	int interval_ms;
	unsigned burst;
	int64_t window_start; /* monotonic ms */
	unsigned used;
	uint64_t suppressed; /* refused since the last allowed one */
};

#define RATE_LIMIT_INIT(interval, n)                                                               \
	{                                                                                          \
		.interval_ms = (interval), .burst = (n)                                            \
	}

/* Whether one more is allowed at now_ms (monotonic); counts refusals in rl->suppressed. */
bool rate_limit_allow(struct rate_limit *rl, int64_t now_ms);
/* Milliseconds until the current window ends (0 when one more is allowed now). */
int rate_limit_wait_ms(const struct rate_limit *rl, int64_t now_ms);

#endif
