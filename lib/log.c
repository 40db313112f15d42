#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static struct {
	const char *progname;
	enum husk_log_level level;
	int fd;
	int json;
} logger = {"husk", LOG_LEVEL_WARN, STDERR_FILENO, 0};

void log_init(const char *progname)
{
	logger.progname = progname;
}

void log_set_level(enum husk_log_level level)
{
	logger.level = level;
}

enum husk_log_level log_get_level(void)
{
	return logger.level;
}

int log_parse_level(const char *s, enum husk_log_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum husk_log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = LOG_LEVEL_WARN;
		return 0;
	}
	return -1;
}

void log_set_output(int fd, int json)
{
	logger.fd = fd;
	logger.json = json;
}

static size_t json_escape(char *dst, size_t cap, const char *src)
{
	size_t n = 0;
	for (; *src && n + 7 < cap; src++) {
		unsigned char c = (unsigned char)*src;
		if (c == '"' || c == '\\') {
			dst[n++] = '\\';
			dst[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(dst + n, cap - n, "\\u%04x", c);
		} else {
			dst[n++] = (char)c;
		}
	}
	dst[n] = '\0';
	return n;
}

void log_msg(enum husk_log_level level, const char *fmt, ...)
{
	char msg[2048], line[4608];
	struct timespec ts;
	va_list ap;
	int saved = errno, n;

	if (level > logger.level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);

	if (logger.json) {
		char esc[4200];
		struct tm tm;
		char when[64];
		json_escape(esc, sizeof(esc), msg);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line, sizeof(line),
		             "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s.%09ldZ\"}\n",
		             level_names[level], esc, when, ts.tv_nsec);
	} else if (logger.level >= LOG_LEVEL_DEBUG) {
		struct timespec mono;
		clock_gettime(CLOCK_MONOTONIC, &mono);
		n = snprintf(line, sizeof(line), "%s[%d] %ld.%06ld %s: %s\n", logger.progname,
		             getpid(), (long)mono.tv_sec, mono.tv_nsec / 1000, level_names[level],
		             msg);
	} else {
		n = snprintf(line, sizeof(line), "%s: %s: %s\n", logger.progname,
		             level_names[level], msg);
	}
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	/* One write per line keeps lines whole when several processes share the fd. */
	if (n > 0 && write(logger.fd, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}
