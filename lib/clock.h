/* CLOCK_MONOTONIC in milliseconds, and deadlines on it for bounded waits. */
#ifndef HUSK_CLOCK_H
#define HUSK_CLOCK_H

#include <stdint.h>

int64_t monotonic_ms(void);
int64_t monotonic_us(void);
/* The deadline timeout_ms from now; -1 (no deadline) for a negative timeout. */
int64_t deadline_after(int timeout_ms);
/* Milliseconds left (>= 0), or -1 for no deadline: ready for poll(). */
int deadline_left(int64_t deadline);

#endif
