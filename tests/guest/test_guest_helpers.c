/* Unit tests for the guest module loader's input checks and the test-data pattern. */
#include "tests/unit/harness/test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/error.h"
#include "agent/modload.h"
#include "pattern.h"

/* A scratch "<dir>/modules.order" + "<dir>/modules/", removed when the test returns. */
struct scratch {
	char dir[32];
};

static void scratch_remove(struct scratch *s)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/modules/junk.ko", s->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/modules/gz.ko.gz", s->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/modules", s->dir);
	rmdir(path);
	static const char *const files[] = {"modules.order", "modules.dep", "modules.alias"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", s->dir, files[i]);
		unlink(path);
	}
	rmdir(s->dir);
}

#define SCRATCH(s)                                                                                 \
	__attribute__((cleanup(scratch_remove))) struct scratch s = {"/tmp/test-modload.XXXXXX"};  \
	CHECK(scratch_make(&s) == 0)

static int scratch_make(struct scratch *s)
{
	char path[64];

	if (!mkdtemp(s->dir))
		return -1;
	snprintf(path, sizeof(path), "%s/modules", s->dir);
	return mkdir(path, 0755);
}

static void write_file(const struct scratch *s, const char *name, const char *text)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Runs modload_all on an order file holding text; returns its result and message. */
static int load_order(const struct scratch *s, const char *text, char *msg, size_t size)
{
	husk_err err = NULL;
	char order[64];
	int r;

	write_file(s, "modules.order", text);
	snprintf(order, sizeof(order), "%s/modules.order", s->dir);
	r = modload_all(order, &err);
	snprintf(msg, size, "%s", err ? husk_error_msg(err) : "");
	husk_error_free(&err);
	return r;
}

TEST(modload_empty_and_blank_lines_load_nothing)
{
	SCRATCH(s);
	char msg[512];

	CHECK_INT(load_order(&s, "", msg, sizeof(msg)), ==, 0);
	CHECK_INT(load_order(&s, "\n\n", msg, sizeof(msg)), ==, 0);
}

TEST(modload_rejects_paths_and_non_ko_names)
{
	SCRATCH(s);
	char msg[512];

	CHECK_INT(load_order(&s, "../evil.ko\n", msg, sizeof(msg)), ==, -1);
	CHECK(strstr(msg, "line 1: bad module name '../evil.ko'"));
	CHECK_INT(load_order(&s, "\nvirtio.txt\n", msg, sizeof(msg)), ==, -1);
	CHECK(strstr(msg, "line 2: bad module name"));
	CHECK_INT(load_order(&s, ".ko\n", msg, sizeof(msg)), ==, -1);
}

TEST(modload_names_the_missing_module)
{
	SCRATCH(s);
	char msg[512];

	CHECK_INT(load_order(&s, "missing.ko\n", msg, sizeof(msg)), ==, -1);
	CHECK(strstr(msg, "module missing.ko: open: No such file or directory"));
}

TEST(modload_reports_finit_module_failure_by_name)
{
	SCRATCH(s);
	char msg[512];

	write_file(&s, "modules/junk.ko", "not an ELF module");
	CHECK_INT(load_order(&s, "junk.ko\n", msg, sizeof(msg)), ==, -1);
	CHECK(strstr(msg, "module junk.ko: finit_module: "));
}

TEST(modload_bounds_line_length)
{
	SCRATCH(s);
	char line[MODLOAD_NAME_MAX + 16], msg[512];

	memset(line, 'a', sizeof(line) - 5);
	strcpy(line + sizeof(line) - 5, ".ko\n");
	CHECK_INT(load_order(&s, line, msg, sizeof(msg)), ==, -1);
	CHECK(strstr(msg, "line 1 longer than"));
}

/* Runs modload_probe for name with modules.dep and modules.alias holding dep and alias. */
static int probe(const struct scratch *s, const char *dep, const char *alias, const char *name,
                 char *msg, size_t size)
{
	husk_err err = NULL;
	int r;

	write_file(s, "modules.dep", dep);
	write_file(s, "modules.alias", alias);
	r = modload_probe(s->dir, name, &err);
	snprintf(msg, size, "%s", err ? husk_error_msg(err) : "");
	husk_error_free(&err);
	return r;
}

TEST(modprobe_resolves_aliases_and_loads_dependencies_first)
{
	SCRATCH(s);
	char msg[512];

	write_file(&s, "modules/junk.ko", "not an ELF module");
	/* an fnmatch alias to a module whose dependency is loaded first (and is missing) */
	CHECK_INT(probe(&s, "other.ko:\njunk.ko: dep.ko\n", "alias rtnl-link-* junk\n",
	                "rtnl-link-bridge", msg, sizeof(msg)),
	          ==, -1);
	CHECK(strstr(msg, "module dep.ko: open: No such file or directory"));
	/* a module name with dashes is the module with underscores */
	CHECK_INT(probe(&s, "x_y.ko: junk.ko\n", "", "x-y", msg, sizeof(msg)), ==, -1);
	CHECK(strstr(msg, "module junk.ko: finit_module: "));
	CHECK_INT(probe(&s, "junk.ko:\n", "", "nf-conntrack", msg, sizeof(msg)), ==, -1);
	CHECK(strstr(msg, "nf-conntrack: module nf_conntrack.ko: not in the guest image"));
	CHECK_INT(probe(&s, "junk.ko: ../x.ko\n", "", "junk", msg, sizeof(msg)), ==, -1);
	CHECK(strstr(msg, "modules.dep line 1: bad dependencies"));
	CHECK_INT(probe(&s, "", "", "../junk", msg, sizeof(msg)), ==, -1);
	CHECK(strstr(msg, "bad name"));
}

TEST(modprobe_unpacks_a_gzipped_module)
{
	SCRATCH(s);
	char msg[512], path[64];

	snprintf(path, sizeof(path), "%s/modules/gz.ko.gz", s.dir);
	gzFile z = gzopen(path, "wb");
	CHECK(z != NULL);
	gzputs(z, "not an ELF module");
	gzclose(z);
	/* unpacked, then refused by the kernel: the file was found and read */
	CHECK_INT(probe(&s, "gz.ko:\n", "", "gz", msg, sizeof(msg)), ==, -1);
	CHECK(strstr(msg, "module gz.ko: finit_module: "));
	write_file(&s, "modules/gz.ko.gz", "not gzip at all, and not a module");
	CHECK_INT(probe(&s, "gz.ko:\n", "", "gz", msg, sizeof(msg)), ==, -1);
	CHECK(strstr(msg, "module gz.ko: "));
}

TEST(modload_missing_order_file)
{
	husk_err err = NULL;

	CHECK_INT(modload_all("/nonexistent/modules.order", &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "open /nonexistent/modules.order"));
	husk_error_free(&err);
}

TEST(pattern_is_independent_of_chunking)
{
	unsigned char whole[1000], part[1000];
	size_t cuts[] = {0, 1, 7, 8, 9, 100, 513, 999, 1000};

	pattern_fill(42, 5, whole, sizeof(whole));
	for (size_t i = 0; i + 1 < sizeof(cuts) / sizeof(cuts[0]); i++)
		pattern_fill(42, 5 + cuts[i], part + cuts[i], cuts[i + 1] - cuts[i]);
	CHECK(memcmp(whole, part, sizeof(whole)) == 0);
	CHECK_INT(pattern_check(42, 5, whole, sizeof(whole)), ==, sizeof(whole));
	pattern_fill(43, 5, part, sizeof(part));
	CHECK(memcmp(whole, part, sizeof(whole)) != 0);
}

TEST(pattern_check_finds_first_bad_byte)
{
	unsigned char buf[10000];

	pattern_fill(7, 123, buf, sizeof(buf));
	buf[4321] ^= 0x10;
	buf[9000] ^= 0x01;
	CHECK_INT(pattern_check(7, 123, buf, sizeof(buf)), ==, 4321);
	CHECK_INT(pattern_check(7, 124, buf, sizeof(buf)), <, 8);
}

TEST(fnv_is_independent_of_chunking)
{
	unsigned char buf[300];
	uint64_t h;

	pattern_fill(1, 0, buf, sizeof(buf));
	h = fnv_update(fnv_update(FNV_INIT, buf, 100), buf + 100, 200);
	CHECK(h == fnv_update(FNV_INIT, buf, sizeof(buf)));
	CHECK(fnv_update(FNV_INIT, "a", 1) == 0xaf63dc4c8601ec8cULL);
}
