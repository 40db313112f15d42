/*
 * Host-wide admission of guest boots. A boot holds one of n slots, an exclusive flock on a file
 * of a directory every husk process shares, from QEMU's start until the agent answers, so that
 * boots started at once on a busy host run one batch after another instead of all timing out
 * (under TCG a boot is CPU-bound). The kernel drops the lock of a process that dies, so a
 * crashed boot frees its slot.
 */
#ifndef HUSK_SHIM_BOOTSLOT_H
#define HUSK_SHIM_BOOTSLOT_H

#include "lib/error.h"
#include "lib/loop.h"

#define BOOT_SLOT_DIR     "/run/husk-boot-slots"
#define BOOT_SLOT_MAX     256
#define BOOT_SLOT_POLL_MS 20

/*
 * The fd holding a free slot of dir's first n (made as needed), waiting at most max_wait_ms
 * while loop serves its other fds (a callback's error ends the wait); -1 with *err set.
 * *waited_ms gets how long it waited.
 */
int boot_slot_take(struct husk_loop *loop, const char *dir, unsigned n, unsigned max_wait_ms,
                   unsigned *waited_ms, husk_err *err);
/* The number of slots the config's 0 stands for: the online CPUs. */
unsigned boot_slots_default(void);

#endif
