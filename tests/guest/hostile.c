#include "hostile.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "services.h"
#include "ttrpc/ttrpc.h"

#define AGENT_PORT     1024
#define TTRPC_RESPONSE 2
#define SHARE          "/mnt"
#define DEEP_LEVELS    2000
#define AMPLIFY_BYTES  (TTRPC_MAX_DATA - 16)
#define FLOOD_FIRST_ID 1000001u

static int accept_host(husk_err *err)
{
	struct sockaddr_vm addr = {
	    .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = AGENT_PORT};
	cleanup_close int lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return husk_error_set(err, errno, "vsock socket");
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 1) < 0)
		return husk_error_set(err, errno, "listen on vsock port %d", AGENT_PORT);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	return fd < 0 ? husk_error_set(err, errno, "accept") : fd;
}

static int read_full(int fd, void *buf, size_t len, husk_err *err)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return husk_error_set(err, n < 0 ? errno : EPIPE, "read from the host");
		got += (size_t)n;
	}
	return 0;
}

/* The host's first request: its stream id, its payload skipped. */
static int read_request(int fd, uint32_t *stream, husk_err *err)
{
	uint8_t head[TTRPC_HEADER_LEN], chunk[4096];
	struct ttrpc_header h;
	if (read_full(fd, head, sizeof(head), err) < 0 || ttrpc_header_decode(head, &h, err) < 0)
		return -1;
	for (uint32_t left = h.length; left;) {
		size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
		if (read_full(fd, chunk, n, err) < 0)
			return -1;
		left -= (uint32_t)n;
	}
	*stream = h.stream_id;
	return 0;
}

static int send_frame(int fd, uint32_t stream, const void *data, uint32_t len, husk_err *err)
{
	uint8_t head[TTRPC_HEADER_LEN];
	struct ttrpc_header h = {.length = len, .stream_id = stream, .type = TTRPC_RESPONSE};
	ttrpc_header_encode(&h, head);
	if (write_all(fd, head, sizeof(head), err) < 0)
		return -1;
	return write_all(fd, data, len, err);
}

/* A ttrpc Response of nothing but empty unknown fields (field 3, varint 0): 2 bytes each. */
static int send_amplifying(int fd, uint32_t stream, husk_err *err)
{
	static uint8_t body[AMPLIFY_BYTES];
	for (size_t i = 0; i + 1 < sizeof(body); i += 2) {
		body[i] = 3 << 3;
		body[i + 1] = 0;
	}
	return send_frame(fd, stream, body, sizeof(body), err);
}

/* Responses to streams the host never opened, until it hangs up. */
static int send_flood(int fd, husk_err *err)
{
	static const uint8_t empty_response[] = {0x12, 0x00}; /* payload: empty */
	for (uint32_t id = FLOOD_FIRST_ID;; id += 2)
		if (send_frame(fd, id, empty_response, sizeof(empty_response), err) < 0)
			return -1;
}

static int answer_badly(const char *mode, husk_err *err)
{
	static const uint8_t garbage[] = "\xff\xff\xff\xff no ttrpc frame \x07\x1b[2J";
	static const uint8_t huge[TTRPC_HEADER_LEN] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 2, 0};
	char token_line[SERVICE_LINE_MAX];
	uint32_t stream;
	cleanup_close int fd = accept_host(err);
	/* the host's "HUSK-TOKEN <hex>" first, whatever it holds */
	if (fd < 0 || read_line(fd, token_line, sizeof(token_line), err) < 0 ||
	    read_request(fd, &stream, err) < 0)
		return -1;
	say("%s: the host's request on stream %u", mode, stream);
	if (!strcmp(mode, "silent"))
		for (;;)
			pause();
	if (!strcmp(mode, "garbage") && write_all(fd, garbage, sizeof(garbage) - 1, err) < 0)
		return -1;
	if (!strcmp(mode, "huge") && write_all(fd, huge, sizeof(huge), err) < 0)
		return -1;
	if (!strcmp(mode, "amplify") && send_amplifying(fd, stream, err) < 0)
		return -1;
	if (!strcmp(mode, "flood") && send_flood(fd, err) < 0)
		return husk_error_prefix(err, "flood ended");
	say("%s: sent; waiting for the host to hang up", mode);
	char c;
	while (read(fd, &c, 1) > 0)
		;
	return 0;
}

/* Writes chunks to path until the share refuses: the bytes it took. */
static size_t fill_bytes(const char *path, int *why)
{
	static const char chunk[65536];
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	size_t total = 0;
	ssize_t n = 1;
	while (fd >= 0 && (n = write(fd, chunk, sizeof(chunk))) > 0)
		total += (size_t)n;
	*why = fd < 0 || n < 0 ? errno : 0;
	return total;
}

static unsigned fill_inodes(int *why)
{
	char name[32];
	unsigned n = 0;
	for (;; n++) {
		snprintf(name, sizeof(name), SHARE "/i%u", n);
		int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			break;
		close(fd);
	}
	*why = errno;
	return n;
}

static unsigned deep_tree(void)
{
	unsigned depth = 0;
	if (chdir(SHARE) < 0)
		return 0;
	while (depth < DEEP_LEVELS && mkdir("d", 0755) == 0 && chdir("d") == 0)
		depth++;
	(void)!chdir("/");
	return depth;
}

/* No agent: what guest root can do to the share and the console, then the console without end. */
static int vandalise(husk_err *err)
{
	int why;
	if (mkdir(SHARE, 0755) < 0 && errno != EEXIST)
		return husk_error_set(err, errno, "mkdir %s", SHARE);
	if (mount("husk", SHARE, "virtiofs", 0, NULL) < 0)
		return husk_error_set(err, errno, "mount the share");
	say("vandal: a tree %u deep", deep_tree());
	cleanup_close int suid = open(SHARE "/suid", O_WRONLY | O_CREAT | O_CLOEXEC, 04755);
	say("vandal: setuid file: %s",
	    suid >= 0 && fchmod(suid, 04755) == 0 ? "made" : strerror(errno));
	size_t bytes = fill_bytes(SHARE "/fill", &why);
	say("vandal: the share took %zu bytes (%s)", bytes, strerror(why));
	unsigned files = fill_inodes(&why);
	say("vandal: the share took %u files (%s)", files, strerror(why));
	say("vandal: the console without end");
	static char line[4096];
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (;;)
		(void)!write(STDOUT_FILENO, line, sizeof(line));
}

int hostile_agent(const char *mode, husk_err *err)
{
	static const char *const modes[] = {"silent", "garbage", "huge", "amplify", "flood"};
	if (!strcmp(mode, "vandal"))
		return vandalise(err);
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (!strcmp(mode, modes[i]))
			return answer_badly(mode, err);
	return husk_error_set(err, EINVAL, "unknown hostile mode '%s'", mode);
}
