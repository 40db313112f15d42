/* The capped console log: head kept, latest output kept, never more than CONSLOG_MAX bytes. */
#include "tests/unit/harness/test.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/loop.h"
#include "shim/lib/conslog.h"

/* A console log opened as the sandbox opens it, at a fresh path; *qemu_end is QEMU's end. */
static struct husk_loop *open_log(struct conslog *c, char *path, size_t len, int *qemu_end)
{
	static int n;
	cleanup_error husk_err err = NULL;
	struct husk_loop *loop = husk_loop_new(&err);
	snprintf(path, len, "/tmp/husk-test-conslog-%d-%d.log", (int)getpid(), n++);
	if (!loop || conslog_open(c, loop, path, "t1", qemu_end, &err) < 0) {
		fprintf(stderr, "  %s\n", husk_error_msg(err));
		husk_loop_free(loop);
		return NULL;
	}
	return loop;
}

/* Closes everything open_log made, and the file. */
static void close_log(struct conslog *c, struct husk_loop *loop, const char *path, int qemu_end)
{
	close(qemu_end);
	conslog_close(c);
	husk_loop_free(loop);
	unlink(path);
}

static off_t file_size(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

/* Line i of the guest's endless output: numbered, so any line shows where it was in the stream. */
static size_t line(char *buf, size_t len, uint64_t i)
{
	return (size_t)snprintf(buf, len,
	                        "guest line %08" PRIu64 " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", i);
}

TEST(short_output_is_kept_whole)
{
	cleanup_error husk_err err = NULL;
	struct conslog c;
	char path[64], got[16] = "";
	int qemu_end;
	struct husk_loop *loop = open_log(&c, path, sizeof(path), &qemu_end);
	CHECK(loop);
	CHECK_INT(conslog_append(&c, "boot ok\n", 8, &err), ==, 0);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK_INT(read(fd, got, sizeof(got) - 1), ==, 8);
	CHECK_STR(got, "boot ok\n");
	close_log(&c, loop, path, qemu_end);
}

/* 8 MiB in reads of every size up to a chunk: the file stays under the cap all along. */
TEST(endless_output_keeps_the_head_and_the_latest_lines)
{
	cleanup_error husk_err err = NULL;
	struct conslog c;
	char path[64];
	int qemu_end;
	struct husk_loop *loop = open_log(&c, path, sizeof(path), &qemu_end);
	CHECK(loop);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	static char stream[CONSLOG_CHUNK * 2];
	uint64_t total = 0, next = 0, cuts = 0;
	size_t have = 0, step = 1;
	off_t biggest = 0;
	while (total < 8u << 20) {
		while (have < CONSLOG_CHUNK)
			have += line(stream + have, sizeof(stream) - have, next++);
		size_t n = step % CONSLOG_CHUNK + 1;
		step = step * 7 + 13;
		CHECK_INT(conslog_append(&c, stream, n, &err), ==, 0);
		memmove(stream, stream + n, have - n);
		have -= n;
		total += n;
		off_t size = file_size(fd);
		if (size < biggest)
			cuts++;
		biggest = size > biggest ? size : biggest;
		CHECK_INT(size, <=, CONSLOG_MAX);
	}
	CHECK_INT(cuts, >=, 10);
	CHECK_INT(conslog_append(&c, "the end\n", 8, &err), ==, 0);
	total += 8;
	/* the head is the stream's start */
	char want[128], got[128];
	size_t l = line(want, sizeof(want), 0);
	CHECK_INT(pread(fd, got, l, 0), ==, (ssize_t)l);
	CHECK(memcmp(got, want, l) == 0);
	/* the marker counts what is missing: head + dropped + the rest == everything written */
	off_t size = file_size(fd);
	cleanup_free char *all = malloc((size_t)size + 1);
	CHECK(all && pread(fd, all, (size_t)size, 0) == size);
	all[size] = '\0';
	const char *marker = strstr(all + CONSLOG_HEAD, "[husk: ");
	CHECK(marker && marker == all + CONSLOG_HEAD + 1);
	uint64_t dropped = strtoull(marker + 7, NULL, 10);
	const char *rest = strchr(marker, '\n') + 1;
	CHECK_INT(CONSLOG_HEAD + dropped + (uint64_t)(all + size - rest), ==, total);
	CHECK_INT(dropped, ==, c.dropped);
	/* the latest output: starts at a line and ends where the stream stopped */
	CHECK(strncmp(rest, "guest line ", 11) == 0);
	CHECK_INT((uint64_t)(all + size - rest), >=, CONSLOG_TAIL / 2);
	uint64_t first = strtoull(rest + 11, NULL, 10);
	CHECK_INT(first, >, 0);
	CHECK_INT(first, <, next);
	CHECK_STR(all + size - 8, "the end\n");
	close_log(&c, loop, path, qemu_end);
}

/* Through the loop: what QEMU writes to its end lands in the file, and drain reads it all. */
TEST(socket_output_reaches_the_file)
{
	cleanup_error husk_err err = NULL;
	struct conslog c;
	char path[64], got[64] = "";
	int qemu_end;
	struct husk_loop *loop = open_log(&c, path, sizeof(path), &qemu_end);
	CHECK(loop);
	CHECK_INT(write(qemu_end, "[    0.000000] Linux version\n", 29), ==, 29);
	CHECK_INT(husk_loop_run_once(loop, 1000, &err), ==, 0);
	CHECK_INT(write(qemu_end, "reboot: Power down\n", 19), ==, 19);
	close(qemu_end);
	conslog_drain(&c);
	CHECK_INT(c.sock, ==, -1); /* EOF: QEMU is gone */
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, got, sizeof(got) - 1) == 48);
	CHECK_STR(got, "[    0.000000] Linux version\nreboot: Power down\n");
	close_log(&c, loop, path, -1);
}
