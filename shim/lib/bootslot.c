#include "bootslot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/log.h"

unsigned boot_slots_default(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > BOOT_SLOT_MAX ? BOOT_SLOT_MAX : (unsigned)n;
}

int slot_try(const char *dir, unsigned first, unsigned n, unsigned *number, husk_err *err)
{
	for (unsigned i = first; i - first < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%u", dir, i);
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			husk_error_set(err, errno, "slot %s", path);
			return -2;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*number = i;
			return fd;
		}
		close(fd);
		if (errno != EWOULDBLOCK) {
			husk_error_set(err, errno, "slot %s: flock", path);
			return -2;
		}
	}
	return -1;
}

int boot_slot_take(struct husk_loop *loop, const char *dir, unsigned n, unsigned max_wait_ms,
                   unsigned *waited_ms, husk_err *err)
{
	int64_t start = monotonic_ms(), deadline = start + max_wait_ms;
	if (mkdir_p(dir, 0700, err) < 0)
		return husk_error_prefix(err, "boot slots");
	for (bool told = false;; told = true) {
		unsigned slot;
		int fd = slot_try(dir, 0, n, &slot, err);
		*waited_ms = (unsigned)(monotonic_ms() - start);
		if (fd >= 0 || fd == -2)
			return fd == -2 ? -1 : fd;
		if (!told)
			log_debug("boot: waiting for one of %u boot slots (%s)", n, dir);
		if (monotonic_ms() >= deadline)
			return husk_error_set(err, ETIMEDOUT,
			                      "no boot slot free within %u ms (%u boots at once at "
			                      "most: \"boot_concurrency\")",
			                      max_wait_ms, n);
		if (husk_loop_run_once(loop, BOOT_SLOT_POLL_MS, err) < 0)
			return -1;
	}
}
