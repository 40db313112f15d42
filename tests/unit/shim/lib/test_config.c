#include "tests/unit/harness/test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "shim/lib/config.h"
#include "lib/error.h"

#define EXE_DIR "/nonexistent/prefix/bin"

static int parse(const char *text, struct husk_config *c, husk_err *err)
{
	return config_parse("/etc/husk/husk.json", text, strlen(text), EXE_DIR, c, err);
}

/* Parses text and expects exactly the error message msg. */
static int rejects(const char *text, const char *msg)
{
	struct husk_config c;
	cleanup_error husk_err err = NULL;
	if (parse(text, &c, &err) == 0) {
		config_free(&c);
		fprintf(stderr, "  accepted: %s\n", text);
		return 0;
	}
	if (strcmp(husk_error_msg(err), msg) != 0) {
		fprintf(stderr, "  got: %s\n  want: %s\n", husk_error_msg(err), msg);
		return 0;
	}
	return 1;
}

TEST(defaults_resolve_next_to_the_executable)
{
	struct husk_config c;
	cleanup_error husk_err err = NULL;
	CHECK_INT(parse("{}", &c, &err), ==, 0);
	CHECK_STR(c.qemu, "qemu-system-x86_64");
	CHECK_STR(c.kernel, "/nonexistent/prefix/share/husk/guest/vmlinuz");
	CHECK_STR(c.initrd, "/nonexistent/prefix/share/husk/guest/initrd.img");
	CHECK_STR(c.vsockd, "/nonexistent/prefix/libexec/husk/husk-vsockd");
	CHECK_STR(c.virtiofsd, "/usr/lib/qemu/virtiofsd");
	CHECK_INT(c.accel, ==, ACCEL_AUTO);
	CHECK_INT(c.vcpus, ==, 1);
	CHECK_INT(c.memory_mib, ==, 256);
	CHECK_INT(c.vsock, ==, CONFIG_VSOCK_AUTO);
	CHECK_INT(c.guest_cid, ==, 3);
	CHECK_INT(c.virtiofs_cache, ==, VIRTIOFS_CACHE_AUTO);
	CHECK_INT(c.log_level, ==, LOG_LEVEL_WARN);
	CHECK_INT(c.timeouts.boot_ms, ==, 15000);
	config_free(&c);
}

TEST(build_tree_guest_and_vsockd_are_preferred)
{
	char root[] = "/tmp/husk-test-config-XXXXXX", p[256];
	CHECK(mkdtemp(root));
	const char *dirs[] = {"bin", "guest"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		mkdir(p, 0700);
	}
	const char *files[] = {"guest/vmlinuz", "guest/initrd.img", "bin/husk-vsockd"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", root, files[i]);
		close(open(p, O_WRONLY | O_CREAT, 0600));
	}
	char bin[256];
	snprintf(bin, sizeof(bin), "%s/bin", root);
	struct husk_config c;
	cleanup_error husk_err err = NULL;
	int r = config_parse("t", "{}", 2, bin, &c, &err);
	char kernel[256], vsockd[256];
	snprintf(kernel, sizeof(kernel), "%s/guest/vmlinuz", root);
	snprintf(vsockd, sizeof(vsockd), "%s/bin/husk-vsockd", root);
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", root, files[i]);
		unlink(p);
	}
	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		rmdir(p);
	}
	rmdir(root);
	CHECK_INT(r, ==, 0);
	CHECK_STR(c.kernel, kernel);
	CHECK_STR(c.vsockd, vsockd);
	config_free(&c);
}

TEST(shipped_file_equals_builtin_defaults)
{
	struct husk_config file, builtin;
	cleanup_error husk_err err = NULL;
	CHECK_INT(config_load("configs/husk.json", &file, &err), ==, 0);
	CHECK_INT(config_load(NULL, &builtin, &err), ==, 0);
	if (access(CONFIG_SYSTEM_PATH, F_OK) != 0)
		CHECK_STR(builtin.source, "built-in defaults");
	CHECK_STR(file.source, "configs/husk.json");
	CHECK_STR(file.qemu, builtin.qemu);
	CHECK_STR(file.kernel, builtin.kernel);
	CHECK_STR(file.initrd, builtin.initrd);
	CHECK_STR(file.vsockd, builtin.vsockd);
	CHECK_STR(file.virtiofsd, builtin.virtiofsd);
	CHECK(file.accel == builtin.accel && file.vcpus == builtin.vcpus &&
	      file.memory_mib == builtin.memory_mib && file.vsock == builtin.vsock &&
	      file.guest_cid == builtin.guest_cid &&
	      file.virtiofs_cache == builtin.virtiofs_cache &&
	      file.log_level == builtin.log_level && file.debug_console == builtin.debug_console &&
	      !builtin.debug_console);
	CHECK(memcmp(&file.timeouts, &builtin.timeouts, sizeof(file.timeouts)) == 0);
	config_free(&file);
	config_free(&builtin);
}

TEST(every_key_is_applied)
{
	struct husk_config c;
	cleanup_error husk_err err = NULL;
	const char *all =
	    "{\"qemu\":\"/opt/q/qemu\",\"kernel\":\"/k\",\"initrd\":\"/i\","
	    "\"accel\":\"tcg\",\"vcpus\":64,\"memory_mib\":65536,\"vsock\":\"hybrid\","
	    "\"guest_cid\":4294967294,\"virtiofsd\":\"/v\",\"virtiofs_cache\":\"none\","
	    "\"vsockd\":\"/d\",\"log_level\":\"debug\",\"debug_console\":true,"
	    "\"timeouts\":{\"boot_ms\":100,"
	    "\"agent_call_ms\":10,\"shutdown_ms\":600000}}";
	CHECK_INT(parse(all, &c, &err), ==, 0);
	CHECK_STR(c.qemu, "/opt/q/qemu");
	CHECK_STR(c.kernel, "/k");
	CHECK_STR(c.initrd, "/i");
	CHECK_STR(c.virtiofsd, "/v");
	CHECK_STR(c.vsockd, "/d");
	CHECK_INT(c.accel, ==, ACCEL_TCG);
	CHECK_INT(c.vcpus, ==, 64);
	CHECK_INT(c.memory_mib, ==, 65536);
	CHECK_INT(c.vsock, ==, CONFIG_VSOCK_HYBRID);
	CHECK_INT(c.guest_cid, ==, 4294967294u);
	CHECK_INT(c.virtiofs_cache, ==, VIRTIOFS_CACHE_NONE);
	CHECK_INT(c.log_level, ==, LOG_LEVEL_DEBUG);
	CHECK(c.debug_console);
	CHECK_INT(c.timeouts.boot_ms, ==, 100);
	CHECK_INT(c.timeouts.agent_call_ms, ==, 10);
	CHECK_INT(c.timeouts.shutdown_ms, ==, 600000);
	config_free(&c);
}

TEST(bad_values_name_the_key)
{
	CHECK(
	    rejects("{\"vcpus\":0}",
	            "config /etc/husk/husk.json: key \"vcpus\": must be an integer from 1 to 64"));
	CHECK(
	    rejects("{\"vcpus\":65}",
	            "config /etc/husk/husk.json: key \"vcpus\": must be an integer from 1 to 64"));
	CHECK(
	    rejects("{\"vcpus\":\"2\"}",
	            "config /etc/husk/husk.json: key \"vcpus\": must be an integer from 1 to 64"));
	CHECK(
	    rejects("{\"vcpus\":2.0}",
	            "config /etc/husk/husk.json: key \"vcpus\": must be an integer from 1 to 64"));
	CHECK(rejects("{\"memory_mib\":99999999999999999999}",
	              "config /etc/husk/husk.json: key \"memory_mib\": must be an integer from 64 "
	              "to 65536"));
	CHECK(rejects("{\"guest_cid\":4294967295}",
	              "config /etc/husk/husk.json: key \"guest_cid\": must be an integer from 3 to "
	              "4294967294"));
	CHECK(rejects("{\"guest_cid\":2}",
	              "config /etc/husk/husk.json: key \"guest_cid\": must be an integer from 3 to "
	              "4294967294"));
	CHECK(rejects("{\"accel\":\"hvf\"}", "config /etc/husk/husk.json: key \"accel\": must be "
	                                     "one of \"auto\", \"kvm\", \"tcg\""));
	CHECK(rejects("{\"vsock\":1}", "config /etc/husk/husk.json: key \"vsock\": must be one of "
	                               "\"auto\", \"vhost\", \"hybrid\""));
	CHECK(
	    rejects("{\"virtiofs_cache\":\"metadata\"}",
	            "config /etc/husk/husk.json: key \"virtiofs_cache\": must be one of \"auto\", "
	            "\"always\", \"none\""));
	CHECK(rejects("{\"debug_console\":1}",
	              "config /etc/husk/husk.json: key \"debug_console\": must be true or false"));
	CHECK(rejects("{\"log_level\":\"loud\"}",
	              "config /etc/husk/husk.json: key \"log_level\": must be one of \"error\", "
	              "\"warn\", \"info\", \"debug\""));
}

TEST(paths_must_be_absolute)
{
	CHECK(rejects(
	    "{\"kernel\":\"guest/vmlinuz\"}",
	    "config /etc/husk/husk.json: key \"kernel\": must be an absolute path or null"));
	CHECK(rejects("{\"virtiofsd\":null}",
	              "config /etc/husk/husk.json: key \"virtiofsd\": must be an absolute path"));
	CHECK(rejects("{\"qemu\":\"bin/qemu\"}",
	              "config /etc/husk/husk.json: key \"qemu\": must be "
	              "an absolute path or a program name found in "
	              "PATH"));
	CHECK(rejects(
	    "{\"initrd\":\"/a\\u0000b\"}",
	    "config /etc/husk/husk.json: key \"initrd\": must be an absolute path or null"));
	CHECK(rejects(
	    "{\"initrd\":\"\"}",
	    "config /etc/husk/husk.json: key \"initrd\": must be an absolute path or null"));
}

TEST(unknown_and_nested_keys)
{
	CHECK(rejects("{\"vcpu\":2}", "config /etc/husk/husk.json: key \"vcpu\": unknown key"));
	CHECK(rejects("{\"timeouts\":{\"boot_ms\":5}}",
	              "config /etc/husk/husk.json: key \"timeouts.boot_ms\": must be an integer "
	              "from 100 to 600000"));
	CHECK(rejects("{\"timeouts\":{\"boot\":500}}",
	              "config /etc/husk/husk.json: key \"timeouts.boot\": unknown key"));
	CHECK(rejects("{\"timeouts\":5}",
	              "config /etc/husk/husk.json: key \"timeouts\": must be an object"));
	CHECK(rejects("{\"a\\nb\":1}", "config /etc/husk/husk.json: key \"a?b\": unknown key"));
}

TEST(malformed_documents)
{
	CHECK(rejects(
	    "", "config /etc/husk/husk.json: invalid JSON at byte 0: unexpected end of input"));
	CHECK(rejects("[1]", "config /etc/husk/husk.json: not a JSON object"));
	CHECK(
	    rejects("{} {}", "config /etc/husk/husk.json: invalid JSON at byte 3: trailing data"));
	CHECK(rejects("{\"vcpus\":", "config /etc/husk/husk.json: invalid JSON at byte 9: "
	                             "unexpected end of input"));
	CHECK(rejects("{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]]}",
	              "config /etc/husk/husk.json: invalid JSON at byte 12: nesting too deep"));
	struct husk_config c;
	cleanup_error husk_err err = NULL;
	CHECK_INT(parse("  {\"vcpus\": 2}\n\n", &c, &err), ==, 0);
	CHECK_INT(c.vcpus, ==, 2);
	config_free(&c);
}

TEST(load_checks_the_file)
{
	struct husk_config c;
	cleanup_error husk_err err = NULL;
	CHECK_INT(config_load("/nonexistent/husk.json", &c, &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "config /nonexistent/husk.json: No such file or directory");
	CHECK_INT(config_load("/tmp", &c, &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "config /tmp: not a regular file");

	char path[] = "/tmp/husk-test-config-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, CONFIG_MAX_SIZE + 1) == 0);
	close(fd);
	int r = config_load(path, &c, &err);
	unlink(path);
	CHECK_INT(r, ==, -1);
	CHECK(strstr(husk_error_msg(err), "larger than 1048576 bytes"));
}
