/* The guest's console lines in the host's log: levels, escaping, cuts and the rate limit. */
#include "tests/unit/harness/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"
#include "shim/lib/guestlog.h"

/* The host's log, captured: a memfd the logger writes to. */
struct capture {
	int fd;
	char text[16384];
};

/* A guestlog of sandbox "abc" whose lines the log at level (text or json) captures. */
static void capture_start(struct guestlog *g, struct capture *c, enum husk_log_level level,
                          int json)
{
	guestlog_init(g, "abc");
	c->fd = memfd_create("log", MFD_CLOEXEC);
	log_set_output(c->fd, json);
	log_set_level(level);
}

/* What was logged since capture_start; ends the capture. */
static const char *capture_end(struct capture *c)
{
	ssize_t n = pread(c->fd, c->text, sizeof(c->text) - 1, 0);
	c->text[n > 0 ? n : 0] = '\0';
	log_set_output(STDERR_FILENO, 0);
	log_set_level(LOG_LEVEL_WARN);
	close(c->fd);
	return c->text;
}

static void feed(struct guestlog *g, const char *s, int64_t now)
{
	guestlog_feed(g, s, strlen(s), now);
}

TEST(agent_lines_keep_their_level_and_kernel_lines_are_info)
{
	struct guestlog g;
	struct capture c;
	capture_start(&g, &c, LOG_LEVEL_WARN, 0);
	feed(&g, "husk-agent: warn: create caps: ignored\r\n", 1);
	feed(&g, "husk-agent: info: not at warn\n", 1);
	feed(&g, "husk-agent: err", 1);
	feed(&g, "or: split over two reads\n", 1);
	feed(&g, "[    2.786525] reboot: Power down\n", 1);
	feed(&g, "no newline yet", 1);
	CHECK_STR(capture_end(&c), "husk: warn: guest abc: husk-agent: create caps: ignored\n"
	                           "husk: error: guest abc: husk-agent: split over two reads\n");
	capture_start(&g, &c, LOG_LEVEL_INFO, 0);
	feed(&g, "[    1.234567] virtio_net: bad \x1b[31mred\n\n", 1);
	CHECK_STR(capture_end(&c), "husk: info: guest abc: console: [    1.234567] virtio_net: bad "
	                           "\\x1b[31mred\n");
}

TEST(debug_lines_of_the_agent_and_its_modprobe)
{
	struct guestlog g;
	struct capture c;
	capture_start(&g, &c, LOG_LEVEL_DEBUG, 0);
	feed(&g, "husk-agent[1] 2.500000 debug: rpc CreateContainer\n", 1);
	feed(&g, "husk modprobe: warn: module fuse: no such module\n", 1);
	const char *got = capture_end(&c);
	CHECK(strstr(got, " debug: guest abc: husk-agent: rpc CreateContainer\n"));
	CHECK(strstr(got, " warn: guest abc: husk modprobe: module fuse: no such module\n"));
}

TEST(a_long_line_is_cut_once)
{
	struct guestlog g;
	struct capture c;
	static char line[3 * GUESTLOG_LINE_MAX];
	memset(line, 'x', sizeof(line) - 2);
	line[sizeof(line) - 2] = '\n';
	capture_start(&g, &c, LOG_LEVEL_INFO, 0);
	feed(&g, line, 1);
	feed(&g, "next\n", 1);
	const char *got = capture_end(&c);
	const char *second = strstr(got, "...\n");
	CHECK(second);
	CHECK_INT(second - got, <, GUESTLOG_LINE_MAX + 64);
	CHECK_STR(second + 4, "husk: info: guest abc: console: next\n");
}

TEST(a_flood_is_cut_to_the_burst_and_counted)
{
	struct guestlog g;
	struct capture c;
	capture_start(&g, &c, LOG_LEVEL_INFO, 0);
	for (int i = 0; i < GUESTLOG_BURST + 150; i++)
		feed(&g, "flood\n", 5000);
	feed(&g, "after\n", 6000);
	const char *got = capture_end(&c);
	size_t lines = 0;
	for (const char *p = got; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_INT(lines, ==, GUESTLOG_BURST + 2);
	CHECK(strstr(got, "husk: warn: guest abc: 150 console lines not logged (more than 100 a "
	                  "second)\nhusk: info: guest abc: console: after\n"));
}

TEST(json_lines_stay_one_object_a_line)
{
	struct guestlog g;
	struct capture c;
	capture_start(&g, &c, LOG_LEVEL_WARN, 1);
	feed(&g, "husk-agent: warn: a \"quoted\" \\ word\n", 1);
	const char *got = capture_end(&c);
	static const char want[] = "{\"level\":\"warn\",\"msg\":\"guest abc: husk-agent: a "
	                           "\\\"quoted\\\" \\\\\\\\ word\",\"time\":\"";
	CHECK(strncmp(got, want, strlen(want)) == 0);
	CHECK_INT(strchr(got, '\n') - got, ==, (long)strlen(got) - 1);
}
