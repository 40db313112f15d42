/*
 * The guest's console lines into the host's log: any bytes, in reads of any size, at any log
 * level and format, end in lines of at most one log record each (no newline of the guest's
 * inside one), and the rate limit holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"
#include "shim/lib/guestlog.h"

static int log_fd = -1;

/* Records in the log since the start, each ended by exactly one newline. */
static size_t records(void)
{
	static char buf[1 << 20];
	ssize_t n = pread(log_fd, buf, sizeof(buf), 0);
	size_t lines = 0;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\n')
			lines++;
	if (n > 0 && buf[n - 1] != '\n')
		abort();
	return lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (log_fd < 0)
		log_fd = memfd_create("log", MFD_CLOEXEC);
	/* the log writes at the fd's offset: back to 0 with the size, or the file grows holes */
	if (ftruncate(log_fd, 0) < 0 || lseek(log_fd, 0, SEEK_SET) < 0)
		abort();
	log_set_output(log_fd, data[0] & 1);
	log_set_level((enum husk_log_level)(data[0] >> 1 & 3));
	size_t chunk = data[1] % 64 + 1;
	data += 2;
	size -= 2;
	struct guestlog g;
	guestlog_init(&g, "fuzz");
	size_t newlines = 0;
	for (size_t i = 0; i < size; i++)
		newlines += data[i] == '\n';
	/* all within one second: the burst and one count line at the most */
	for (size_t at = 0; at < size; at += chunk)
		guestlog_feed(&g, (const char *)data + at, size - at < chunk ? size - at : chunk,
		              1000);
	size_t got = records();
	if (got > GUESTLOG_BURST || got > newlines + size / (GUESTLOG_LINE_MAX - 1))
		abort();
	return 0;
}
