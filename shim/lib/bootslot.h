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
/*
 * The lock of the first free slot of first..first+n-1 in dir (the same files): its fd, with
 * *number; -1 when all are held, -2 with *err set.
 */
int slot_try(const char *dir, unsigned first, unsigned n, unsigned *number, husk_err *err);

/*
 * With the kernel's vhost-vsock every VM needs a CID of its own: a sandbox holds the slot of
 * its CID in CID_SLOT_DIR for its life, the first free from the config's guest_cid on.
 */
#define CID_SLOT_DIR "/run/husk-cids"
#define CID_RANGE    4096

/*
 * QEMU runs as a user of its own per sandbox (uid = gid = QEMU_UID_BASE + slot), so one VMM
 * escaped from its guest owns no file and can signal no other sandbox's processes.
 */
#define QEMU_UID_SLOT_DIR "/run/husk-uids"
#define QEMU_UID_BASE     2100000000u
#define QEMU_UID_RANGE    65536
/* husk-vsockd likewise, as the same slot's user of the next range */
#define VSOCKD_UID_BASE (QEMU_UID_BASE + QEMU_UID_RANGE)

#endif
