/* Escaping of untrusted (guest) text for terminals and text logs: lib/text.h. */
#include "tests/unit/harness/test.h"

#include <stdlib.h>

#include "lib/cleanup.h"
#include "lib/text.h"

static const char *esc(char *buf, size_t cap, const char *s)
{
	return text_escape(buf, cap, s, strlen(s));
}

TEST(text_escape_keeps_printable_text)
{
	char buf[128];
	CHECK_STR(esc(buf, sizeof(buf), "container abc: no such file"),
	          "container abc: no such file");
	/* well-formed UTF-8 stays readable */
	CHECK_STR(esc(buf, sizeof(buf), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3"),
	          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");
}

TEST(text_escape_escapes_controls_and_backslash)
{
	char buf[256];
	CHECK_STR(esc(buf, sizeof(buf), "a\x1b[2Jb\r\nc\td\x7f\\"),
	          "a\\x1b[2Jb\\x0d\\x0ac\\x09d\\x7f\\\\");
	/* C1 controls (a lone CSI, or U+009B in UTF-8), overlong forms and surrogates */
	CHECK_STR(esc(buf, sizeof(buf),
	              "\x9b"
	              "2J \xc2\x9b \xc0\xaf \xed\xa0\x80 \xff"),
	          "\\x9b2J \\xc2\\x9b \\xc0\\xaf \\xed\\xa0\\x80 \\xff");
	/* a sequence cut short by the end of the input */
	CHECK_STR(esc(buf, sizeof(buf), "x\xe2\x82"), "x\\xe2\\x82");
}

TEST(text_escape_bounds_its_output)
{
	char buf[12];
	CHECK_STR(esc(buf, sizeof(buf), "0123456789abcdef"), "01234567...");
	/* never cuts an escape in half */
	CHECK_STR(esc(buf, sizeof(buf), "0123456\x01xyz"), "0123456...");
	CHECK_STR(esc(buf, sizeof(buf), "01234567890"), "01234567890");
	CHECK_STR(esc(buf, 1, "abc"), "");
	/* embedded NUL within len is escaped too */
	CHECK_STR(text_escape(buf, sizeof(buf), "a\0b", 3), "a\\x00b");
}

TEST(text_escape_dup_is_capped)
{
	cleanup_free char *big = malloc(100000);
	CHECK(big);
	memset(big, '\x1b', 99999);
	big[99999] = '\0';
	cleanup_free char *out = text_escape_dup(big);
	CHECK(out);
	CHECK_INT(strlen(out), <, TEXT_ESCAPE_MAX);
	CHECK(!strncmp(out, "\\x1b\\x1b", 8));
	CHECK(!strcmp(out + strlen(out) - 3, "..."));
	cleanup_free char *small = text_escape_dup("ok\n");
	CHECK_STR(small, "ok\\x0a");
}

TEST(text_field_u64_reads_proc_key_value_lines)
{
	const char *meminfo =
	    "MemTotal:         500000 kB\nMemFree:   1 kB\nMemAvailable:\t2048 kB\n";
	CHECK_INT(text_field_u64(meminfo, "MemTotal"), ==, 500000);
	CHECK_INT(text_field_u64(meminfo, "MemAvailable"), ==, 2048);
	CHECK_INT(text_field_u64(meminfo, "Mem"), ==, 0);
	CHECK_INT(text_field_u64("rchar: 5\nwchar: 7", "wchar"), ==, 7);
	CHECK_INT(text_field_u64("Pss: 99999999999999999999999 kB", "Pss"), ==, UINT64_MAX);
	CHECK_INT(text_field_u64("", "Pss"), ==, 0);
}
