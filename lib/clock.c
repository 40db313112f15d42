#include "clock.h"

#include <limits.h>
#include <time.h>

int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t deadline_after(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
}

int deadline_left(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t left = deadline - monotonic_ms();
	return left < 0 ? 0 : (int)(left > INT_MAX ? INT_MAX : left);
}
