#include "conslog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/log.h"

void conslog_init(struct conslog *c)
{
	*c = (struct conslog){.sock = -1, .fd = -1, .tail = CONSLOG_HEAD};
}

static int pwrite_all(int fd, const char *buf, size_t len, off_t at)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
		at += n;
	}
	return 0;
}

/*
 * The file is the head, then (once cut) the marker, then the latest output: keeps the last
 * CONSLOG_TAIL bytes of that output plus buf, from the first line start among them.
 */
static int cut(struct conslog *c, const char *buf, size_t len, husk_err *err)
{
	off_t old = c->size - c->tail;
	size_t from_file = CONSLOG_TAIL - len;
	if ((off_t)from_file > old)
		from_file = (size_t)old;
	cleanup_free char *kept = malloc(from_file + len);
	if (!kept)
		return husk_error_set(err, ENOMEM, "console log");
	ssize_t got = pread(c->fd, kept, from_file, c->size - (off_t)from_file);
	if (got != (ssize_t)from_file)
		return husk_error_set(err, got < 0 ? errno : EIO, "console log: read");
	memcpy(kept + from_file, buf, len);
	size_t n = from_file + len, skip = 0;
	char *nl = memchr(kept, '\n', n);
	if (nl && nl + 1 < kept + n)
		skip = (size_t)(nl + 1 - kept);
	c->dropped += (uint64_t)(old - (off_t)from_file) + skip;
	char marker[96];
	int m =
	    snprintf(marker, sizeof(marker),
	             "\n[husk: %" PRIu64 " bytes of console output dropped here]\n", c->dropped);
	if (pwrite_all(c->fd, marker, (size_t)m, CONSLOG_HEAD) < 0 ||
	    pwrite_all(c->fd, kept + skip, n - skip, CONSLOG_HEAD + m) < 0 ||
	    ftruncate(c->fd, CONSLOG_HEAD + m + (off_t)(n - skip)) < 0)
		return husk_error_set(err, errno, "console log: write");
	c->tail = CONSLOG_HEAD + m;
	c->size = c->tail + (off_t)(n - skip);
	return 0;
}

int conslog_append(struct conslog *c, const char *buf, size_t len, husk_err *err)
{
	while (len) {
		size_t n = len < CONSLOG_CHUNK ? len : CONSLOG_CHUNK;
		if (c->size + (off_t)n > CONSLOG_MAX) {
			if (cut(c, buf, n, err) < 0)
				return -1;
		} else {
			if (pwrite_all(c->fd, buf, n, c->size) < 0)
				return husk_error_set(err, errno, "console log: write");
			c->size += (off_t)n;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* One read into the file: 1 if more may follow, 0 at EAGAIN, -1 at EOF or an error (closed). */
static int read_once(struct conslog *c)
{
	char buf[CONSLOG_CHUNK];
	ssize_t n = read(c->sock, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		husk_loop_del(c->loop, c->sock);
		close_fd(&c->sock);
		return -1;
	}
	cleanup_error husk_err err = NULL;
	if (c->guest.id)
		guestlog_feed(&c->guest, buf, (size_t)n, monotonic_ms());
	if (c->failed) {
		c->dropped += (uint64_t)n;
	} else if (conslog_append(c, buf, (size_t)n, &err) < 0) {
		log_warn("%s; dropping the guest's further console output", husk_error_msg(err));
		c->failed = true;
	}
	return 1;
}

/* The console is not vital to the sandbox: nothing here stops the loop. */
static int on_readable(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	read_once(data);
	return 0;
}

int conslog_open(struct conslog *c, struct husk_loop *loop, const char *path, const char *id,
                 int *qemu_end, husk_err *err)
{
	int sv[2];
	conslog_init(c);
	guestlog_init(&c->guest, id);
	/* read too: a cut moves the latest output back behind the head */
	c->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->fd < 0)
		return husk_error_set(err, errno, "%s", path);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		husk_error_set(err, errno, "console socket");
		close_fd(&c->fd);
		return -1;
	}
	c->loop = loop;
	c->sock = sv[0];
	if (fcntl(c->sock, F_SETFL, O_NONBLOCK) < 0 ||
	    husk_loop_add(loop, c->sock, EPOLLIN, on_readable, c, err) < 0) {
		if (!*err)
			husk_error_set(err, errno, "console socket");
		close(sv[1]);
		close_fd(&c->sock);
		close_fd(&c->fd);
		return -1;
	}
	*qemu_end = sv[1];
	return 0;
}

void conslog_drain(struct conslog *c)
{
	/* bounded: a guest writing on meanwhile cannot keep us here */
	for (size_t i = 0; c->sock >= 0 && i < CONSLOG_MAX / CONSLOG_CHUNK; i++)
		if (read_once(c) <= 0)
			break;
}

void conslog_close(struct conslog *c)
{
	conslog_drain(c);
	if (c->sock >= 0)
		husk_loop_del(c->loop, c->sock);
	close_fd(&c->sock);
	close_fd(&c->fd);
}
