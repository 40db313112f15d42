#include "tests/unit/harness/test.h"

#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "lib/error.h"
#include "agent/request.h"
#include "oci/ocispec.h"
#include "proto/agent.pb-c.h"
#include "agent/cgstat.h"

static int parse(const char *json, struct spec *s, husk_err *err)
{
	return spec_parse(json, strlen(json), s, err);
}

static int parse_fails_with(const char *json, const char *needle)
{
	husk_err err = NULL;
	struct spec s;
	int ok = parse(json, &s, &err) == -1 && strstr(husk_error_msg(err), needle);
	if (!ok)
		fprintf(stderr, "  got: %s\n", husk_error_msg(err));
	husk_error_free(&err);
	spec_free(&s);
	return ok;
}

TEST(spec_full_subset_parses)
{
	cleanup_error husk_err err = NULL;
	struct spec s;
	const char *json =
	    "{\"process\":{\"args\":[\"sh\",\"-c\",\"x\"],\"env\":[\"PATH=/bin\"],"
	    "\"cwd\":\"/w\",\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[5,6]},"
	    "\"noNewPrivileges\":true},\"hostname\":\"h1\",\"root\":{\"readonly\":true},"
	    "\"mounts\":[{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
	    "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	    "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"options\":[\"ro\"]}]}";
	CHECK_INT(parse(json, &s, &err), ==, 0);
	CHECK_STR(s.process.args[0], "sh");
	CHECK_STR(s.process.args[2], "x");
	CHECK(s.process.args[3] == NULL);
	CHECK_STR(s.process.env[0], "PATH=/bin");
	CHECK_STR(s.process.cwd, "/w");
	CHECK_INT(s.process.uid, ==, 1000);
	CHECK_INT(s.process.gid, ==, 100);
	CHECK_INT(s.process.ngids, ==, 2);
	CHECK_INT(s.process.gids[1], ==, 6);
	CHECK_INT(s.process.no_new_privs, ==, 1);
	CHECK_STR(s.hostname, "h1");
	CHECK_INT(s.root_readonly, ==, 1);
	CHECK_INT(s.nmounts, ==, 2);
	CHECK_INT(s.mounts[0].flags, ==, MS_NOSUID | MS_STRICTATIME);
	CHECK_STR(s.mounts[0].data, "mode=755,size=65536k");
	CHECK_STR(s.mounts[1].type, "cgroup2");
	CHECK_INT(s.mounts[1].flags, ==, MS_RDONLY);
	CHECK_STR(s.mounts[1].source, "none");
	spec_free(&s);
}

TEST(spec_defaults)
{
	cleanup_error husk_err err = NULL;
	struct spec s;
	CHECK_INT(parse("{\"process\":{\"args\":[\"true\"]}}", &s, &err), ==, 0);
	CHECK_STR(s.process.cwd, "/");
	CHECK(s.process.env && s.process.env[0] == NULL);
	CHECK_INT(s.process.uid, ==, 0);
	CHECK(s.hostname == NULL);
	CHECK_INT(s.nmounts, ==, 0);
	spec_free(&s);
}

TEST(spec_terminal_and_console_size)
{
	cleanup_error husk_err err = NULL;
	struct spec s;
	CHECK_INT(parse("{\"process\":{\"args\":[\"sh\"],\"terminal\":true,"
	                "\"consoleSize\":{\"height\":25,\"width\":132}}}",
	                &s, &err),
	          ==, 0);
	CHECK_INT(s.process.terminal, ==, 1);
	CHECK_INT(s.process.console_rows, ==, 25);
	CHECK_INT(s.process.console_cols, ==, 132);
	spec_free(&s);
}

TEST(spec_rejects_malformed)
{
	CHECK(parse_fails_with("", "invalid JSON"));
	CHECK(parse_fails_with("{\"process\":", "invalid JSON"));
	CHECK(parse_fails_with("{} trailing", "trailing"));
	CHECK(parse_fails_with("[1]", "not a JSON object"));
	CHECK(parse_fails_with("{}", "process: missing"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[]}}", "process.args: must not be empty"));
	CHECK(
	    parse_fails_with("{\"process\":{\"args\":[\"\"]}}", "process.args: must not be empty"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[1]}}", "not a string"));
	CHECK(parse_fails_with("{\"process\":{\"args\":\"sh\"}}", "not an array"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\\u0000b\"]}}", "NUL"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"cwd\":\"rel\"}}", "absolute"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"cwd\":\"/a/../b\"}}", ". or .."));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"user\":{\"uid\":-1}}}",
	                       "out of range"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"user\":{\"uid\":4294967295}}}",
	                       "out of range"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"user\":{\"gid\":\"0\"}}}",
	                       "not an integer"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"terminal\":1}}",
	                       "process.terminal: not a boolean"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"consoleSize\":{\"height\":"
	                       "65536,\"width\":80}}}",
	                       "process.consoleSize: 80x65536: out of range"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"consoleSize\":{\"rows\":1}}}",
	                       "process.consoleSize.rows: not supported"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"]},\"hostname\":\"a/b\"}",
	                       "contains /"));
}

TEST(spec_bind_mounts_parse)
{
	cleanup_error husk_err err = NULL;
	struct spec s;
	const char *json =
	    "{\"process\":{\"args\":[\"a\"]},\"mounts\":["
	    "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"/h\",\"options\":"
	    "[\"rbind\",\"ro\",\"nosuid\",\"rprivate\"]},"
	    "{\"destination\":\"/x\",\"type\":\"none\",\"source\":\"rel\",\"options\":[\"bind\"]},"
	    "{\"destination\":\"/y\",\"type\":\"bind\",\"source\":\"/y\"},"
	    "{\"destination\":\"/t\",\"type\":\"tmpfs\",\"options\":[\"rshared\"]}]}";
	CHECK_INT(parse(json, &s, &err), ==, 0);
	CHECK_INT(s.mounts[0].flags, ==, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID);
	CHECK_INT(s.mounts[0].propagation, ==, MS_PRIVATE | MS_REC);
	CHECK(s.mounts[0].type == NULL);
	CHECK_INT(s.mounts[1].flags, ==, MS_BIND);
	CHECK_INT(s.mounts[2].flags, ==, MS_BIND); /* type bind alone: not recursive */
	CHECK_INT(s.mounts[3].propagation, ==, MS_SHARED | MS_REC);
	CHECK_INT(spec_check_shared(&s, &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "mount /etc/hosts: bind mount without a shared source");
	husk_error_free(&err);
	CHECK_INT(spec_share_mount(&s, 0, "m0", &err), ==, 0);
	CHECK_INT(spec_share_mount(&s, 0, "m1", &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "mount /etc/hosts: shared twice");
	husk_error_free(&err);
	CHECK_INT(spec_share_mount(&s, 3, "m3", &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "mount /t: not a bind mount");
	husk_error_free(&err);
	CHECK_INT(spec_share_mount(&s, 4, "m4", &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "index 4: the spec has 4 mounts");
	husk_error_free(&err);
	CHECK_INT(spec_share_mount(&s, 1, "m1", &err), ==, 0);
	CHECK_INT(spec_check_shared(&s, &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "mount /y: bind mount without a shared source");
	husk_error_free(&err);
	CHECK_INT(spec_share_mount(&s, 2, "m2", &err), ==, 0);
	CHECK_INT(spec_check_shared(&s, &err), ==, 0);
	CHECK_STR(s.mounts[2].shared_tag, "m2");
	spec_free(&s);
	/* as runc (mount(2) ignores data with MS_BIND): file system options on a bind are dropped
	 */
	CHECK_INT(parse("{\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":\"/x\","
	                "\"source\":\"/x\",\"options\":[\"nosuid\",\"mode=755\",\"size=1k\","
	                "\"rbind\",\"rshared\"]}]}",
	                &s, &err),
	          ==, 0);
	CHECK_INT(s.mounts[0].flags, ==, MS_BIND | MS_REC | MS_NOSUID);
	CHECK_INT(s.mounts[0].propagation, ==, MS_SHARED | MS_REC);
	CHECK(s.mounts[0].data == NULL);
	spec_free(&s);
}

TEST(spec_tmpcopyup_only_on_a_tmpfs)
{
	cleanup_error husk_err err = NULL;
	struct spec s;
	const char *json = "{\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":\"/run\","
	                   "\"type\":\"tmpfs\",\"options\":[\"rw\",\"tmpcopyup\",\"mode=755\"]}]}";
	CHECK_INT(parse(json, &s, &err), ==, 0);
	CHECK_INT(s.mounts[0].copy_up, ==, 1);
	CHECK_STR(s.mounts[0].data, "mode=755");
	spec_free(&s);
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":"
	                       "\"/p\",\"type\":\"proc\",\"options\":[\"tmpcopyup\"]}]}",
	                       "mount /p: tmpcopyup needs a tmpfs"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":"
	                       "\"/b\",\"source\":\"/b\",\"options\":[\"bind\",\"tmpcopyup\"]}]}",
	                       "mount /b: tmpcopyup needs a tmpfs"));
}

TEST(spec_rejects_mounts_it_cannot_honour)
{
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":"
	                       "\"/x\",\"source\":\"/x\"}]}",
	                       "mount /x: type missing"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":"
	                       "\"/x\",\"type\":\"nfs\"}]}",
	                       "mount /x: type nfs not supported"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":"
	                       "\"x\",\"type\":\"proc\"}]}",
	                       "absolute"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":"
	                       "\"/proc/../..\",\"type\":\"proc\"}]}",
	                       ". or .."));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":"
	                       "\"/\",\"type\":\"tmpfs\"}]}",
	                       "cannot mount over the root"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":"
	                       "\"/x\",\"type\":\"tmpfs\",\"options\":[\"a,b\"]}]}",
	                       "comma"));
}

/* a JSON array of n short strings (KEY=VALUE, as env needs) under key in process */
static char *spec_with_array(const char *key, size_t n)
{
	size_t cap = 64 + n * 5;
	char *buf = malloc(cap);
	size_t off = (size_t)snprintf(buf, cap, "{\"process\":{\"args\":[\"a\"],\"%s\":[", key);
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s\"x=\"", i ? "," : "");
	snprintf(buf + off, cap - off, "]}}");
	return buf;
}

TEST(spec_counts_and_lengths_are_bounded)
{
	char *ok = spec_with_array("env", SPEC_MAX_ENV);
	char *big = spec_with_array("env", SPEC_MAX_ENV + 1);
	struct spec s;
	husk_err err = NULL;
	CHECK_INT(parse(ok, &s, &err), ==, 0);
	spec_free(&s);
	CHECK(parse_fails_with(big, "more than 1024 entries"));
	free(ok);
	free(big);

	size_t len = SPEC_MAX_STRING + 64;
	char *longstr = malloc(len + 64);
	int off = snprintf(longstr, len + 64, "{\"process\":{\"args\":[\"");
	memset(longstr + off, 'a', SPEC_MAX_STRING + 1);
	strcpy(longstr + off + SPEC_MAX_STRING + 1, "\"]}}");
	CHECK(parse_fails_with(longstr, "longer than"));
	free(longstr);

	char deep[200] = "{\"process\":{\"args\":[\"a\"]},\"x\":";
	size_t d = strlen(deep);
	for (int i = 0; i < 40; i++)
		deep[d++] = '[';
	deep[d] = '\0';
	CHECK(parse_fails_with(deep, "invalid JSON"));
	CHECK_INT(spec_parse("{}", SPEC_MAX_JSON + 1, &s, &err), ==, -1);
	husk_error_free(&err);
}

TEST(process_object_parses_alone)
{
	cleanup_error husk_err err = NULL;
	struct spec_process p;
	const char *json = "{\"args\":[\"ls\",\"-l\"],\"cwd\":\"/tmp\"}";
	CHECK_INT(spec_parse_process(json, strlen(json), &p, &err), ==, 0);
	CHECK_STR(p.args[1], "-l");
	CHECK_STR(p.cwd, "/tmp");
	spec_process_free(&p);
	CHECK_INT(spec_parse_process("{\"args\":[]}", 11, &p, &err), ==, -1);
}

TEST(ids_are_single_bounded_components)
{
	char too_long[SPEC_MAX_ID + 2];
	memset(too_long, 'a', SPEC_MAX_ID + 1);
	too_long[SPEC_MAX_ID + 1] = '\0';
	CHECK(request_valid_id("abc-1_2.3"));
	CHECK(request_valid_id(too_long + 1));
	CHECK(!request_valid_id(too_long));
	CHECK(!request_valid_id(""));
	CHECK(!request_valid_id("."));
	CHECK(!request_valid_id(".."));
	CHECK(!request_valid_id("a/b"));
	CHECK(!request_valid_id("a b"));
	CHECK(request_valid_id("..."));
}

static int decode_fails_with(const char *method, const ProtobufCMessage *m, const char *needle)
{
	uint8_t buf[4096];
	husk_err err = NULL;
	size_t len = protobuf_c_message_pack(m, buf);
	ProtobufCMessage *got = request_decode(method, buf, len, &err);
	int ok = !got && strstr(husk_error_msg(err), needle);
	if (!ok)
		fprintf(stderr, "  got: %s\n", got ? "success" : husk_error_msg(err));
	if (got)
		protobuf_c_message_free_unpacked(got, NULL);
	husk_error_free(&err);
	return ok;
}

TEST(requests_are_validated)
{
	Husk__Agent__V1__ReadStreamRequest rd = HUSK__AGENT__V1__READ_STREAM_REQUEST__INIT;
	rd.container_id = "c1";
	rd.exec_id = "";
	rd.max_bytes = AGENT_MAX_IO + 1;
	CHECK(decode_fails_with("ReadStdout", &rd.base, "more than 1 MiB"));
	rd.max_bytes = 0;
	rd.exec_id = "../x";
	CHECK(decode_fails_with("ReadStderr", &rd.base, "invalid exec id"));

	Husk__Agent__V1__SignalProcessRequest sig = HUSK__AGENT__V1__SIGNAL_PROCESS_REQUEST__INIT;
	sig.container_id = "c1";
	sig.exec_id = "";
	sig.signal = 65;
	CHECK(decode_fails_with("SignalProcess", &sig.base, "invalid signal 65"));

	Husk__Agent__V1__CreateContainerRequest cr =
	    HUSK__AGENT__V1__CREATE_CONTAINER_REQUEST__INIT;
	cr.container_id = "c1";
	cr.rootfs_tag = "..";
	CHECK(decode_fails_with("CreateContainer", &cr.base, "invalid rootfs tag"));
	cr.rootfs_tag = "c1";
	cr.oci_spec_json.data = (uint8_t *)"{}";
	cr.oci_spec_json.len = 2;
	CHECK(decode_fails_with("CreateContainer", &cr.base, "CreateContainer: spec: process"));
	const char *bind_spec = "{\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":"
	                        "\"/d\",\"source\":\"/s\",\"options\":[\"rbind\"]}]}";
	cr.oci_spec_json.data = (uint8_t *)bind_spec;
	cr.oci_spec_json.len = strlen(bind_spec);
	CHECK(decode_fails_with("CreateContainer", &cr.base,
	                        "CreateContainer: mount /d: bind mount without a shared source"));
	Husk__Agent__V1__SharedMount sm = HUSK__AGENT__V1__SHARED_MOUNT__INIT;
	Husk__Agent__V1__SharedMount *sms[] = {&sm, &sm};
	cr.shared_mounts = sms;
	cr.n_shared_mounts = 1;
	sm.tag = "a/b";
	CHECK(decode_fails_with("CreateContainer", &cr.base, "shared_mounts[0]: invalid tag"));
	sm.tag = "m0";
	sm.index = 1;
	CHECK(decode_fails_with("CreateContainer", &cr.base,
	                        "shared_mounts[0]: index 1: the spec has 1 mounts"));
	sm.index = 0;
	cr.n_shared_mounts = 2;
	CHECK(decode_fails_with("CreateContainer", &cr.base,
	                        "shared_mounts[1]: mount /d: shared twice"));
	cr.n_shared_mounts = 1;
	uint8_t cbuf[512];
	husk_err cerr = NULL;
	size_t clen = protobuf_c_message_pack(&cr.base, cbuf);
	ProtobufCMessage *ok = request_decode("CreateContainer", cbuf, clen, &cerr);
	CHECK(ok != NULL);
	protobuf_c_message_free_unpacked(ok, NULL);

	Husk__Agent__V1__ExecProcessRequest ex = HUSK__AGENT__V1__EXEC_PROCESS_REQUEST__INIT;
	ex.container_id = "c1";
	ex.exec_id = "";
	CHECK(decode_fails_with("ExecProcess", &ex.base, "exec id missing"));
	CHECK(decode_fails_with("Nope", &ex.base, "unknown method"));

	uint8_t junk[] = {0xff, 0xff, 0xff};
	husk_err err = NULL;
	CHECK(request_decode("Health", junk, sizeof(junk), &err) == NULL);
	husk_error_free(&err);
}

TEST(valid_request_decodes)
{
	Husk__Agent__V1__WriteStdinRequest w = HUSK__AGENT__V1__WRITE_STDIN_REQUEST__INIT;
	uint8_t buf[256];
	cleanup_error husk_err err = NULL;
	w.container_id = "c1";
	w.exec_id = "e1";
	w.data.data = (uint8_t *)"hi";
	w.data.len = 2;
	size_t len = protobuf_c_message_pack(&w.base, buf);
	Husk__Agent__V1__WriteStdinRequest *got =
	    (void *)request_decode("WriteStdin", buf, len, &err);
	CHECK(got != NULL);
	CHECK_STR(got->exec_id, "e1");
	CHECK_INT(got->data.len, ==, 2);
	protobuf_c_message_free_unpacked(&got->base, NULL);
}

TEST(spec_rlimits_and_umask)
{
	cleanup_error husk_err err = NULL;
	struct spec_process p;
	const char *json = "{\"args\":[\"a\"],\"user\":{\"umask\":63},\"rlimits\":["
	                   "{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":4096},"
	                   "{\"type\":\"RLIMIT_CORE\",\"soft\":0,"
	                   "\"hard\":18446744073709551615}]}";
	CHECK_INT(spec_parse_process(json, strlen(json), &p, &err), ==, 0);
	CHECK_INT(p.umask, ==, 077);
	CHECK_INT(p.nrlimits, ==, 2);
	CHECK_INT(p.rlimits[0].resource, ==, RLIMIT_NOFILE);
	CHECK_INT(p.rlimits[0].soft, ==, 1024);
	CHECK_INT(p.rlimits[0].hard, ==, 4096);
	CHECK(p.rlimits[1].hard == 18446744073709551615ull);
	spec_process_free(&p);
	json = "{\"args\":[\"a\"]}";
	CHECK_INT(spec_parse_process(json, strlen(json), &p, &err), ==, 0);
	CHECK_INT(p.umask, ==, -1);
	spec_process_free(&p);
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":"
	                       "\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]}}",
	                       "unknown type RLIMIT_FOO"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":"
	                       "\"RLIMIT_NOFILE\",\"soft\":2,\"hard\":1}]}}",
	                       "soft above hard"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":"
	                       "\"RLIMIT_NOFILE\",\"soft\":-1,\"hard\":1}]}}",
	                       "out of range"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":"
	                       "\"RLIMIT_NOFILE\"}]}}",
	                       "not an integer"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"user\":{\"umask\":512}}}",
	                       "umask: out of range"));
}

TEST(spec_masked_and_readonly_paths)
{
	cleanup_error husk_err err = NULL;
	struct spec s;
	CHECK_INT(parse("{\"process\":{\"args\":[\"a\"]},\"linux\":{\"maskedPaths\":"
	                "[\"/proc/kcore\",\"/proc/acpi\"],\"readonlyPaths\":[\"/proc/sys\"]}}",
	                &s, &err),
	          ==, 0);
	CHECK_STR(s.masked_paths[1], "/proc/acpi");
	CHECK(s.masked_paths[2] == NULL);
	CHECK_STR(s.readonly_paths[0], "/proc/sys");
	spec_free(&s);
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"]},\"linux\":{\"maskedPaths\":"
	                       "[\"proc/kcore\"]}}",
	                       "linux.maskedPaths proc/kcore: not an absolute path"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"]},\"linux\":{\"readonlyPaths\":"
	                       "[\"/proc/../etc\"]}}",
	                       ". or .."));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"]},\"linux\":[]}",
	                       "linux: not an object"));
}

TEST(spec_capabilities)
{
	cleanup_error husk_err err = NULL;
	struct spec_process p;
	const char *json =
	    "{\"args\":[\"a\"],\"capabilities\":{\"bounding\":[\"CAP_CHOWN\","
	    "\"CAP_KILL\",\"CAP_CHECKPOINT_RESTORE\"],\"effective\":[\"CAP_KILL\"]}}";
	CHECK_INT(spec_parse_process(json, strlen(json), &p, &err), ==, 0);
	CHECK_INT(p.caps.present, ==, 1);
	CHECK(p.caps.bounding == ((1ull << 0) | (1ull << 5) | (1ull << 40)));
	CHECK(p.caps.effective == (1ull << 5));
	CHECK(p.caps.permitted == 0);
	spec_process_free(&p);
	json = "{\"args\":[\"a\"]}";
	CHECK_INT(spec_parse_process(json, strlen(json), &p, &err), ==, 0);
	CHECK_INT(p.caps.present, ==, 0);
	spec_process_free(&p);
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"capabilities\":{\"ambient\":"
	                       "[\"CAP_FLY\"]}}}",
	                       "process.capabilities.ambient: unknown capability CAP_FLY"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"a\"],\"capabilities\":[]}}",
	                       "process.capabilities: not an object"));
}

/* runc spec's sets: ambient without inheritable, which the kernel cannot raise: not raised. */
TEST(spec_ambient_outside_inheritable_is_skipped)
{
	cleanup_error husk_err err = NULL;
	struct spec_process p;
	const char *json =
	    "{\"args\":[\"a\"],\"capabilities\":{\"permitted\":[\"CAP_KILL\","
	    "\"CAP_CHOWN\"],\"inheritable\":[\"CAP_CHOWN\"],\"ambient\":[\"CAP_KILL\","
	    "\"CAP_CHOWN\"]}}";
	CHECK_INT(spec_parse_process(json, strlen(json), &p, &err), ==, 0);
	CHECK(p.caps.ambient == (1ull << CAP_CHOWN));
	CHECK(p.caps.ambient_skipped == (1ull << CAP_KILL));
	spec_process_free(&p);
}

static int parse_linux(const char *linux_json, struct spec *s, husk_err *err)
{
	char json[4096];
	snprintf(json, sizeof(json), "{\"process\":{\"args\":[\"true\"]},\"linux\":%s}",
	         linux_json);
	return parse(json, s, err);
}

static int linux_fails_with(const char *linux_json, const char *needle)
{
	char json[4096];
	snprintf(json, sizeof(json), "{\"process\":{\"args\":[\"true\"]},\"linux\":%s}",
	         linux_json);
	return parse_fails_with(json, needle);
}

TEST(spec_seccomp)
{
	cleanup_error husk_err err = NULL;
	struct spec s;
	const char *json;
	json = "{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
	       "\"architectures\":[\"SCMP_ARCH_X86_64\"],\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
	       "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\","
	       "\"args\":[{\"index\":0,\"value\":1,\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}}";
	CHECK_INT(parse_linux(json, &s, &err), ==, 0);
	CHECK(s.seccomp != NULL);
	CHECK_INT(s.seccomp->default_action, ==, 0x00050000u | 38);
	CHECK_INT(s.seccomp->narches, ==, 1);
	CHECK_INT(s.seccomp->flag_log, ==, 1);
	CHECK_INT(s.seccomp->nrules, ==, 1);
	CHECK_INT(s.seccomp->rules[0].nsyscalls, ==, 2);
	CHECK_INT(s.seccomp->rules[0].syscalls[0], ==, 0); /* read on x86_64 */
	CHECK_INT(s.seccomp->rules[0].nargs, ==, 1);
	CHECK(s.seccomp->unknown[0] == 0);
	spec_free(&s);
	/* like runc, names libseccomp does not know are skipped and listed */
	json = "{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
	       "[\"nope\",\"mkdir\",\"nope2\"],\"action\":\"SCMP_ACT_KILL\"},{\"names\":"
	       "[\"nope3\"],\"action\":\"SCMP_ACT_KILL\"}]}}";
	CHECK_INT(parse_linux(json, &s, &err), ==, 0);
	CHECK_INT(s.seccomp->rules[0].nsyscalls, ==, 1);
	CHECK_INT(s.seccomp->rules[1].nsyscalls, ==, 0);
	CHECK(strcmp(s.seccomp->unknown, "nope, nope2, nope3") == 0);
	spec_free(&s);
	CHECK(linux_fails_with("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_BOGUS\"}}",
	                       "linux.seccomp: defaultAction: unsupported action SCMP_ACT_BOGUS"));
	CHECK(linux_fails_with(
	    "{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{"
	    "\"names\":[\"read\"],\"action\":\"SCMP_ACT_KILL\",\"args\":[{\"index\":6,"
	    "\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}}",
	    "args[0]: index 6: above 5"));
	CHECK(
	    linux_fails_with("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
	                     "[\"SCMP_ARCH_PDP11\"]}}",
	                     "architectures: unknown SCMP_ARCH_PDP11"));
	CHECK(linux_fails_with(
	    "{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\"}}",
	    "linux.seccomp.listenerPath: not supported"));
}

static const char *cgfile(const struct spec *s, const char *file)
{
	for (size_t i = 0; i < s->resources.nfiles; i++)
		if (strcmp(s->resources.files[i].file, file) == 0)
			return s->resources.files[i].value;
	return NULL;
}

TEST(spec_resources_become_cgroup_files)
{
	cleanup_error husk_err err = NULL;
	struct spec s;
	const char *json;
	json = "{\"resources\":{\"memory\":{\"limit\":1048576,\"reservation\":-1,"
	       "\"swap\":3145728},\"cpu\":{\"shares\":2,\"quota\":-1,\"cpus\":\"0-1\"},"
	       "\"pids\":{\"limit\":0},\"blockIO\":{\"weight\":1000},"
	       "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"
	       "\"unified\":{\"memory.high\":\"999999\"},"
	       "\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}}";
	CHECK_INT(parse_linux(json, &s, &err), ==, 0);
	CHECK_STR(cgfile(&s, "memory.max"), "1048576");
	CHECK_STR(cgfile(&s, "memory.low"), "max");
	CHECK_STR(cgfile(&s, "memory.swap.max"), "2097152");
	CHECK_STR(cgfile(&s, "cpu.weight"), "1");
	CHECK_STR(cgfile(&s, "cpu.max"), "max 100000");
	CHECK_STR(cgfile(&s, "cpuset.cpus"), "0-1");
	CHECK_STR(cgfile(&s, "pids.max"), "max");
	CHECK_STR(cgfile(&s, "io.weight"), "default 10000");
	CHECK_STR(cgfile(&s, "hugetlb.2MB.max"), "4194304");
	CHECK_STR(cgfile(&s, "memory.high"), "999999");
	spec_free(&s);
	CHECK(linux_fails_with("{\"resources\":{\"memory\":{\"swap\":5}}}",
	                       "linux.resources.memory.swap: needs memory.limit"));
	CHECK(linux_fails_with("{\"resources\":{\"cpu\":{\"shares\":1}}}",
	                       "linux.resources.cpu.shares: out of range"));
	CHECK(linux_fails_with("{\"resources\":{\"cpu\":{\"cpus\":\"0;rm\"}}}",
	                       "linux.resources.cpu.cpus: not a cpu/node list"));
	CHECK(linux_fails_with("{\"resources\":{\"unified\":{\"../x\":\"1\"}}}",
	                       "linux.resources.unified.../x: not a cgroup file"));
	json =
	    "{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,"
	    "\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},{\"allow\":true,\"type\":"
	    "\"c\",\"major\":136,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"b\",\"access\":"
	    "\"m\"}]}}";
	CHECK_INT(parse_linux(json, &s, &err), ==, 0);
	spec_free(&s);
	CHECK(linux_fails_with("{\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"b\"}]}}",
	                       "linux.resources.devices[0]: b *:* is a host device: none is passed "
	                       "into the VM"));
	/* docker run --device: fuse and loop are the VM's own, a disk or /dev/kvm the host's */
	json = "{\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":10,"
	       "\"minor\":229,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"b\",\"major\":7,"
	       "\"minor\":3,\"access\":\"rw\"},{\"allow\":true,\"type\":\"c\",\"major\":10,"
	       "\"minor\":237}]}}";
	CHECK_INT(parse_linux(json, &s, &err), ==, 0);
	spec_free(&s);
	CHECK(linux_fails_with("{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
	                       "{\"allow\":true,\"type\":\"c\",\"major\":10,\"minor\":232,"
	                       "\"access\":\"rwm\"}]}}",
	                       "linux.resources.devices[1]: c 10:232 is a host device"));
	CHECK(linux_fails_with("{\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"b\","
	                       "\"major\":8,\"minor\":0,\"access\":\"rwm\"}]}}",
	                       "linux.resources.devices[0]: b 8:0 is a host device"));
	/* privileged: Docker's, podman's and CRI's allow-all, alone or after deny-all */
	json = "{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":"
	       "true,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"b\",\"major\":8,\"access\":"
	       "\"rw\"}]}}";
	CHECK_INT(parse_linux(json, &s, &err), ==, 0);
	spec_free(&s);
	json = "{\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"a\",\"major\":-1,"
	       "\"minor\":-1,\"access\":\"mwr\"}]}}";
	CHECK_INT(parse_linux(json, &s, &err), ==, 0);
	spec_free(&s);
	CHECK(linux_fails_with("{\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rw\"}]}}",
	                       "linux.resources.devices[0]: a *:* is a host device"));
	CHECK(linux_fails_with("{\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"c\","
	                       "\"access\":\"rwm\"}]}}",
	                       "linux.resources.devices[0]: c *:* is a host device"));
	CHECK(
	    linux_fails_with("{\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwm\"},"
	                     "{\"allow\":false,\"type\":\"c\",\"major\":10,\"access\":\"rwm\"}]}}",
	                     "linux.resources.devices[1]: a deny rule after allowing every "
	                     "device not supported"));
	CHECK(linux_fails_with("{\"resources\":{\"network\":{\"classID\":1}}}",
	                       "linux.resources.network: not in cgroup v2"));
	CHECK(linux_fails_with(
	    "{\"resources\":{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8}]}}}",
	    "linux.resources.blockIO: throttleReadBpsDevice: per-device"));
	CHECK(linux_fails_with(
	    "{\"resources\":{\"hugepageLimits\":[{\"pageSize\":\"../x\",\"limit\":1}]}}",
	    "pageSize ../x: not like 2MB"));
	/* digits alone: the unit's check must not read past the string (found by fuzzing) */
	CHECK(linux_fails_with(
	    "{\"resources\":{\"hugepageLimits\":[{\"pageSize\":\"2\",\"limit\":1}]}}",
	    "pageSize 2: not like 2MB"));

	struct spec_resources r;
	CHECK_INT(spec_parse_resources("{\"pids\":{\"limit\":7}}", 20, &r, &err), ==, 0);
	CHECK_INT(r.nfiles, ==, 1);
	CHECK_STR(r.files[0].value, "7");
}

TEST(spec_sysctl_devices_namespaces)
{
	cleanup_error husk_err err = NULL;
	struct spec s;
	const char *json;
	json = "{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"}],"
	       "\"sysctl\":{\"kernel.shmmax\":\"1\",\"net.ipv4.ip_forward\":\"1\"},"
	       "\"rootfsPropagation\":\"rslave\",\"devices\":[{\"path\":\"/dev/fuse\","
	       "\"type\":\"c\",\"major\":10,\"minor\":229}]}";
	CHECK_INT(parse_linux(json, &s, &err), ==, 0);
	CHECK_INT(s.nsysctl, ==, 2);
	CHECK_INT(s.rootfs_propagation, ==, MS_SLAVE);
	CHECK_INT(s.ndevices, ==, 1);
	CHECK_INT(s.devices[0].major, ==, 10);
	CHECK_INT(s.devices[0].mode, ==, 0666);
	spec_free(&s);
	CHECK(linux_fails_with("{\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}",
	                       "net.ipv4.ip_forward: not namespaced without a network namespace"));
	CHECK(linux_fails_with("{\"sysctl\":{\"kernel/../x\":\"1\"}}", "not a sysctl name"));
	CHECK(linux_fails_with("{\"devices\":[{\"path\":\"/etc/x\",\"type\":\"c\",\"major\":1,"
	                       "\"minor\":3}]}",
	                       "linux.devices[0]: path /etc/x: not under /dev"));
	CHECK(linux_fails_with("{\"devices\":[{\"path\":\"/dev/../etc\",\"type\":\"c\"}]}",
	                       "contains . or .."));
	CHECK(linux_fails_with("{\"namespaces\":[{\"type\":\"time\"}]}",
	                       "linux.namespaces time: not supported"));
	CHECK(linux_fails_with("{\"intelRdt\":{\"closID\":\"x\"}}", "linux.intelRdt: no RDT"));
	CHECK(linux_fails_with("{\"bogus\":1}", "linux.bogus: not supported"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"true\"],\"oomScoreAdj\":1001}}",
	                       "process.oomScoreAdj: not in [-1000, 1000]"));
	CHECK(parse_fails_with("{\"process\":{\"args\":[\"true\"],\"ioPriority\":{}}}",
	                       "process.ioPriority: not supported"));
	json = "{\"process\":{\"args\":[\"true\"],\"oomScoreAdj\":-5,"
	       "\"apparmorProfile\":\"x\"},\"domainname\":\"d\"}";
	CHECK_INT(parse(json, &s, &err), ==, 0);
	CHECK_INT(s.process.oom_score_adj, ==, -5);
	CHECK_INT(s.process.lsm_fields, ==, 1);
	CHECK_STR(s.domainname, "d");
	spec_free(&s);
}

#define IDMAP(c, h, n) "{\"containerID\":" #c ",\"hostID\":" #h ",\"size\":" #n "}"
#define USERNS(uids, gids)                                                                         \
	"{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[" uids "],\"gidMappings\":[" gids  \
	"]}"

TEST(spec_user_namespace_mappings)
{
	cleanup_error husk_err err = NULL;
	struct spec s;
	char text[SPEC_IDMAP_TEXT];
	CHECK_INT(parse_linux(USERNS(IDMAP(0, 100000, 1000) "," IDMAP(1000, 5000, 1),
	                             IDMAP(0, 100000, 65536)),
	                      &s, &err),
	          ==, 0);
	CHECK_INT(s.userns, ==, 1);
	CHECK_INT(s.uid_maps.n, ==, 2);
	CHECK_INT(s.uid_maps.maps[1].host_id, ==, 5000);
	CHECK_INT(spec_idmap_format(&s.uid_maps, text, sizeof(text)), ==, 26);
	CHECK(strcmp(text, "0 100000 1000\n1000 5000 1\n") == 0);
	CHECK_INT(spec_idmap_format(&s.uid_maps, text, 10), ==, -1);
	spec_free(&s);
	/* the last id, 4294967295, is no id; one range may end just below it */
	CHECK_INT(parse_linux(USERNS(IDMAP(0, 4294967294, 1), IDMAP(0, 0, 4294967295)), &s, &err),
	          ==, 0);
	spec_free(&s);
	CHECK(linux_fails_with(USERNS(IDMAP(0, 4294967295, 1), IDMAP(0, 1, 1)),
	                       "linux.uidMappings[0]: size 1: empty or past the last id"));
	CHECK(linux_fails_with(USERNS(IDMAP(0, 1, 1), IDMAP(0, 1, 4294967296)),
	                       "linux.gidMappings[0]: size: out of range"));
	CHECK(linux_fails_with(USERNS(IDMAP(0, 1, 10) "," IDMAP(9, 100, 1), IDMAP(0, 1, 1)),
	                       "linux.uidMappings[1]: containerID 9 overlaps [0]"));
	CHECK(linux_fails_with(USERNS(IDMAP(0, 1, 1), IDMAP(0, 10, 5) "," IDMAP(5, 6, 5)),
	                       "linux.gidMappings[1]: hostID 6 overlaps [0]"));
	CHECK(linux_fails_with(USERNS(IDMAP(0, 1, 1), "{\"containerID\":0,\"hostID\":1,"
	                                              "\"size\":1,\"x\":1}"),
	                       "linux.gidMappings[0]: entry.x: not supported"));
	CHECK(linux_fails_with(USERNS(IDMAP(0, 1, -1), IDMAP(0, 1, 1)),
	                       "linux.uidMappings[0]: size: out of range"));
	CHECK(
	    linux_fails_with(USERNS(IDMAP(1, 1, 1), IDMAP(0, 1, 1)),
	                     "linux.uidMappings: containerID 0 (the container's root) not mapped"));
	CHECK(linux_fails_with(
	    "{\"namespaces\":[{\"type\":\"user\"}]}",
	    "linux.namespaces user: needs linux.uidMappings and linux.gidMappings"));
	CHECK(linux_fails_with("{\"uidMappings\":[" IDMAP(0, 1, 1) "]}",
	                       "linux.uidMappings: needs a user namespace"));
	CHECK(linux_fails_with("{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":{}}",
	                       "linux.uidMappings: not an array"));
	CHECK(parse_fails_with(
	    "{\"process\":{\"args\":[\"true\"],\"user\":{\"uid\":0,\"gid\":7,"
	    "\"additionalGids\":[0]}},\"linux\":" USERNS(IDMAP(0, 1, 1), IDMAP(0, 1, 1)) "}",
	    "process.user.gid 7: not in linux.gidMappings"));
	CHECK(parse_fails_with(
	    "{\"process\":{\"args\":[\"true\"],\"user\":{\"uid\":0,\"gid\":0,"
	    "\"additionalGids\":[3]}},\"linux\":" USERNS(IDMAP(0, 1, 1), IDMAP(0, 1, 1)) "}",
	    "process.user.additionalGids 3: not in linux.gidMappings"));
	CHECK(linux_fails_with(
	    "{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[" IDMAP(
	        0, 1, 1) "],\"gidMappings\":[" IDMAP(0, 1, 1) "],"
	                                                      "\"devices\":[{\"path\":\"/dev/"
	                                                      "fuse\",\"type\":\"c\","
	                                                      "\"major\":10,\"minor\":229}]}",
	    "linux.devices: not supported with a user namespace"));
}

/* More lines than fit in the kernel's one page of uid_map text. */
TEST(spec_user_namespace_map_text_bounded)
{
	char json[32768];
	size_t used =
	    (size_t)snprintf(json, sizeof(json),
	                     "{\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":[" IDMAP(
	                         0, 1, 1) "],\"uidMappings\":[");
	for (int i = 0; i < 300; i++)
		used += (size_t)snprintf(json + used, sizeof(json) - used,
		                         "%s{\"containerID\":%d,\"hostID\":%d,\"size\":1}",
		                         i ? "," : "", 1000000000 + i, 2000000000 + i);
	snprintf(json + used, sizeof(json) - used, "]}");
	char full[33000];
	snprintf(full, sizeof(full), "{\"process\":{\"args\":[\"true\"]},\"linux\":%s}", json);
	CHECK(parse_fails_with(full, "linux.uidMappings: longer than the kernel's 4096 bytes"));
}

TEST(spec_namespace_paths)
{
	cleanup_error husk_err err = NULL;
	struct spec s;
	CHECK_INT(parse_linux("{\"namespaces\":[{\"type\":\"ipc\",\"path\":\"/proc/12/ns/ipc\"},"
	                      "{\"type\":\"network\",\"path\":\"/proc/12/ns/net\"},"
	                      "{\"type\":\"pid\",\"path\":\"/proc/7/ns/pid\"},{\"type\":\"uts\"}]}",
	                      &s, &err),
	          ==, 0);
	CHECK_INT(s.join_pid[JOIN_IPC], ==, 12);
	CHECK_INT(s.join_pid[JOIN_NET], ==, 12);
	CHECK_INT(s.join_pid[JOIN_PID], ==, 7);
	CHECK_INT(s.join_pid[JOIN_UTS], ==, 0);
	CHECK_INT(s.needs_net_ns, ==, 1);
	spec_free(&s);
	CHECK(linux_fails_with("{\"namespaces\":[{\"type\":\"network\",\"path\":\"/var/run/netns/"
	                       "cni-1\"}]}",
	                       "linux.namespaces network: path /var/run/netns/cni-1: not "
	                       "/proc/<pid>/ns/net of a container in this sandbox"));
	CHECK(linux_fails_with("{\"namespaces\":[{\"type\":\"ipc\",\"path\":\"/proc/1/ns/uts\"}]}",
	                       "not /proc/<pid>/ns/ipc"));
	CHECK(linux_fails_with("{\"namespaces\":[{\"type\":\"ipc\",\"path\":\"/proc/01/ns/ipc\"}]}",
	                       "not /proc/<pid>/ns/ipc"));
	CHECK(linux_fails_with("{\"namespaces\":[{\"type\":\"ipc\",\"path\":\"/proc/-1/ns/ipc\"}]}",
	                       "not /proc/<pid>/ns/ipc"));
	CHECK(linux_fails_with("{\"namespaces\":[{\"type\":\"ipc\",\"path\":\"/proc/9/ns/ipc/\"}]}",
	                       "not /proc/<pid>/ns/ipc"));
	CHECK(linux_fails_with("{\"namespaces\":[{\"type\":\"ipc\",\"path\":\"/proc/99999999/ns/"
	                       "ipc\"}]}",
	                       "not /proc/<pid>/ns/ipc"));
	CHECK(linux_fails_with("{\"namespaces\":[{\"type\":\"ipc\",\"path\":\"/proc/2/ns/ipc\"},"
	                       "{\"type\":\"ipc\",\"path\":\"/proc/3/ns/ipc\"}]}",
	                       "linux.namespaces ipc: given twice"));
	CHECK(linux_fails_with("{\"namespaces\":[{\"type\":\"ipc\",\"path\":5}]}",
	                       "linux.namespaces ipc: linux.namespaces path"));
	CHECK(linux_fails_with("{\"namespaces\":[{\"type\":\"cgroup\",\"path\":\"/proc/2/ns/"
	                       "cgroup\"}]}",
	                       "linux.namespaces cgroup: joining one by path not supported"));
}

TEST(cgroup_stat_files)
{
	const char *cpu = "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\nnr_periods 0\n";
	CHECK_INT(cgstat_keyed(cpu, "usage_usec"), ==, 1234);
	CHECK_INT(cgstat_keyed(cpu, "system_usec"), ==, 234);
	CHECK_INT(cgstat_keyed(cpu, "usage"), ==, 0);
	CHECK_INT(cgstat_keyed("oom 1\noom_kill 3\n", "oom_kill"), ==, 3);
	CHECK_INT(cgstat_keyed("oom_kill 99999999999999999999999", "oom_kill"), ==, UINT64_MAX);
	CHECK_INT(cgstat_keyed("", "oom_kill"), ==, 0);
	const char *io =
	    "254:0 rbytes=100 wbytes=7 rios=1 wios=2\n8:0 rbytes=5 wbytes=1 dbytes=3\n";
	CHECK_INT(cgstat_io_sum(io, "rbytes"), ==, 105);
	CHECK_INT(cgstat_io_sum(io, "wbytes"), ==, 8);
	CHECK_INT(cgstat_io_sum("x=1 xrbytes=4", "rbytes"), ==, 0);
	CHECK_INT(cgstat_single("67108864\n"), ==, 67108864);
	CHECK_INT(cgstat_single("max\n"), ==, 0);
}
