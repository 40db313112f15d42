#include "services.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pattern.h"

int write_all(int fd, const void *buf, size_t len, husk_err *err)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_error_set(err, errno, "write");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int read_line(int fd, char *buf, size_t size, husk_err *err)
{
	size_t len = 0;

	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_error_set(err, errno, "read line");
		if (n == 0)
			return husk_error_set(err, 0, "read line: end of stream");
		if (c == '\n')
			break;
		if (len + 1 >= size)
			return husk_error_set(err, 0, "read line: longer than %zu bytes", size - 1);
		buf[len++] = c;
	}
	buf[len] = '\0';
	return 0;
}

int write_pattern(int fd, uint64_t seed, uint64_t len, uint64_t *fnv, husk_err *err)
{
	static char buf[SERVICE_CHUNK];
	uint64_t off = 0;

	while (off < len) {
		size_t n = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);

		pattern_fill(seed, off, buf, n);
		if (fnv)
			*fnv = fnv_update(*fnv, buf, n);
		if (write_all(fd, buf, n, err) < 0)
			return -1;
		off += n;
	}
	return 0;
}

int service_echo(int fd, husk_err *err)
{
	static char buf[SERVICE_CHUNK];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_error_set(err, errno, "echo: read");
		if (n == 0)
			break;
		if (write_all(fd, buf, (size_t)n, err) < 0)
			return husk_error_prefix(err, "echo");
	}
	shutdown(fd, SHUT_WR);
	return 0;
}

int service_source(int fd, husk_err *err)
{
	char line[SERVICE_LINE_MAX];
	uint64_t bytes, seed;

	if (read_line(fd, line, sizeof(line), err) < 0)
		return husk_error_prefix(err, "source");
	if (sscanf(line, "%" SCNu64 " %" SCNu64, &bytes, &seed) != 2 || bytes > SERVICE_MAX_BYTES)
		return husk_error_set(err, 0, "source: bad request '%.40s'", line);
	if (write_pattern(fd, seed, bytes, NULL, err) < 0)
		return husk_error_prefix(err, "source");
	shutdown(fd, SHUT_WR);
	return 0;
}

int service_sink(int fd, int checksum, husk_err *err)
{
	static char buf[SERVICE_CHUNK];
	uint64_t count = 0, fnv = FNV_INIT;
	char reply[SERVICE_LINE_MAX];
	int n;

	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return husk_error_set(err, errno, "sink: read");
		if (r == 0)
			break;
		if (checksum)
			fnv = fnv_update(fnv, buf, (size_t)r);
		count += (uint64_t)r;
	}
	if (checksum)
		n = snprintf(reply, sizeof(reply), "%" PRIu64 " %016" PRIx64 "\n", count, fnv);
	else
		n = snprintf(reply, sizeof(reply), "%" PRIu64 "\n", count);
	if (write_all(fd, reply, (size_t)n, err) < 0)
		return husk_error_prefix(err, "sink");
	return 0;
}

int service_run(unsigned port, int fd, husk_err *err)
{
	switch (port) {
	case PORT_ECHO:
		return service_echo(fd, err);
	case PORT_SOURCE:
		return service_source(fd, err);
	case PORT_SINK:
		return service_sink(fd, 1, err);
	case PORT_DISCARD:
		return service_sink(fd, 0, err);
	default:
		return husk_error_set(err, 0, "no service on port %u", port);
	}
}
