/* Fixed-window rate limits: see ratelimit.h. */
#include "ratelimit.h"

static void roll(struct rate_limit *rl, int64_t now_ms)
{
	if (!rl->window_start || now_ms - rl->window_start >= rl->interval_ms) {
		rl->window_start = now_ms;
		rl->used = 0;
	}
}

bool rate_limit_allow(struct rate_limit *rl, int64_t now_ms)
{
	roll(rl, now_ms);
	if (rl->used < rl->burst) {
		rl->used++;
		return true;
	}
	rl->suppressed++;
	return false;
}

int rate_limit_wait_ms(const struct rate_limit *rl, int64_t now_ms)
{
	if (!rl->window_start || now_ms - rl->window_start >= rl->interval_ms ||
	    rl->used < rl->burst)
		return 0;
	return (int)(rl->interval_ms - (now_ms - rl->window_start));
}
