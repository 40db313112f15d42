/*
 * The guest's serial console, bounded. QEMU writes it into one end of a socketpair; the
 * sandbox's event loop reads the other into console.log, which keeps the first
 * CONSLOG_HEAD bytes and the latest output and never grows past CONSLOG_MAX: once a write
 * would pass it, everything after the head but the last CONSLOG_TAIL bytes (from a line
 * start) is replaced by one line saying how many bytes were dropped. A guest that writes
 * without end costs the host CONSLOG_MAX bytes of disk, not the host's /run. Every line also
 * goes to the host's log (guestlog.h).
 */
#ifndef HUSK_CONSLOG_H
#define HUSK_CONSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guestlog.h"
#include "lib/error.h"
#include "lib/loop.h"

#define CONSLOG_MAX  (1024 * 1024)
#define CONSLOG_HEAD (256 * 1024)
#define CONSLOG_TAIL (256 * 1024)
/* a read from the socket, and the most conslog_append writes before cutting */
#define CONSLOG_CHUNK (64 * 1024)

struct conslog {
	struct husk_loop *loop;
	int sock;   /* our end of QEMU's console socket; -1: none */
	int fd;     /* console.log; -1: none */
	off_t size; /* console.log's length */
	off_t tail; /* where the latest output starts: CONSLOG_HEAD, after the marker once cut */
	uint64_t dropped; /* bytes of output not in the file */
	bool failed;      /* writing the file failed once (warned): output is dropped */
	struct guestlog guest;
};

/* Sets c to "nothing open": conslog_close on it is a no-op. */
void conslog_init(struct conslog *c);
/*
 * Creates path (truncated, 0600, not following a symlink) and a socketpair, and reads the
 * socket from loop; its lines also go to the log naming the sandbox id (kept, not copied;
 * NULL: they do not). *qemu_end is the end to hand to QEMU (close-on-exec; the caller
 * closes its copy once QEMU has it).
 */
int conslog_open(struct conslog *c, struct husk_loop *loop, const char *path, const char *id,
                 int *qemu_end, husk_err *err);
/* Appends output to the file (c->fd), cutting it as described above. */
int conslog_append(struct conslog *c, const char *buf, size_t len, husk_err *err);
/* Reads what is waiting on the socket into the file, e.g. before the file's tail is quoted. */
void conslog_drain(struct conslog *c);
/* Drains, stops reading and closes both fds. */
void conslog_close(struct conslog *c);

#endif
