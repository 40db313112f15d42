/*
 * METRICS_DIR, what husk metrics reads: each live sandbox's socket (sbmetrics.h),
 * named after its state directory, and the host-wide counts of sandbox failures
 * by cause, a small text file ("boot: 3" lines) kept until reboot (/run) and
 * updated under flock by every front.
 */
#ifndef HUSK_METRICSDIR_H
#define HUSK_METRICSDIR_H

#include <stdint.h>

#include "lib/error.h"

/* Where the per-sandbox metrics sockets and the failure counts live. */
#define METRICS_DIR "/run/husk-metrics"

enum fail_cause {
	FAIL_BUNDLE,    /* the bundle or spec was refused before any VM started */
	FAIL_BOOT,      /* the VM did not come up: a helper, QEMU, the agent's answer */
	FAIL_CONTAINER, /* the agent refused to create or start a container */
	FAIL_HELPER,    /* a helper or QEMU died under a running sandbox */
	FAIL_CAUSES,
};

const char *failcount_name(enum fail_cause c);
/* Counts one failure; a problem with the file is logged (the failure itself is the news). */
void failcount_add(enum fail_cause c);
/* Every cause's count (0 when the file is absent). */
int failcount_read(uint64_t counts[FAIL_CAUSES], husk_err *err);
/* Makes METRICS_DIR (0700) if missing. */
int failcount_dir(husk_err *err);

/* METRICS_DIR/<dev>-<ino>.sock, at most this long with the NUL */
#define METRICS_SOCK_PATH_MAX 64
/* The metrics socket of the sandbox whose state directory is open at dirfd. */
int metrics_sock_path(int dirfd, char out[METRICS_SOCK_PATH_MAX], husk_err *err);
/* Removes the socket of the state directory dir (its owner died without doing so). */
void metrics_sock_remove(const char *dir);

#endif
