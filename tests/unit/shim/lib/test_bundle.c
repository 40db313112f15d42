#include "tests/unit/harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "oci/limits.h"
#include "shim/lib/bundle.h"

#define GOOD                                                                                       \
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"true\"],\"cwd\":\"/\","  \
	"\"env\":[\"PATH=/bin\",\"EMPTY=\"],\"user\":{\"uid\":1000,\"gid\":1000}},"                \
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"h\","                     \
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}]}"

/* Checks s as a bundle's config.json and returns the error message ("" on success). */
static const char *parse_msg(const char *s)
{
	static char msg[512];
	struct bundle spec;
	cleanup_error husk_err err = NULL;
	if (bundle_parse(s, strlen(s), &spec, &err) == 0 && bundle_check(&spec, &err) == 0) {
		bundle_free(&spec);
		return "";
	}
	bundle_free(&spec);
	snprintf(msg, sizeof(msg), "%s", husk_error_msg(err));
	return msg;
}

TEST(spec_accepts_good_config)
{
	struct bundle spec;
	cleanup_error husk_err err = NULL;
	CHECK_INT(bundle_parse(GOOD, strlen(GOOD), &spec, &err), ==, 0);
	CHECK_INT(bundle_check(&spec, &err), ==, 0);
	CHECK_STR(spec.root_path, "rootfs");
	CHECK(spec.root_readonly);
	CHECK(!spec.terminal);
	CHECK_INT(spec.json_len, ==, strlen(GOOD));
	CHECK_STR(spec.json, GOOD);
	bundle_free(&spec);
}

/*
 * What the CLI refuses to join (a VM per container): the first namespace but network's with
 * a path; the network namespace's path is the host's to attach.
 */
TEST(spec_notes_the_first_namespace_to_join)
{
	struct bundle spec;
	cleanup_error husk_err err = NULL;
	const char *s =
	    "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
	    "\"root\":{\"path\":\"rootfs\"},\"linux\":{\"namespaces\":[{\"type\":\"pid\"},"
	    "{\"type\":\"network\",\"path\":\"/run/netns/n1\"},"
	    "{\"type\":\"ipc\",\"path\":\"/proc/9/ns/ipc\"}]}}";
	CHECK_INT(bundle_parse(s, strlen(s), &spec, &err), ==, 0);
	CHECK_STR(spec.join_type, "ipc");
	CHECK_STR(spec.join_path, "/proc/9/ns/ipc");
	CHECK(spec.net_ns);
	CHECK_STR(spec.net_path, "/run/netns/n1");
	bundle_free(&spec);
	CHECK_INT(bundle_parse(GOOD, strlen(GOOD), &spec, &err), ==, 0);
	CHECK(spec.join_type == NULL && spec.join_path == NULL);
	bundle_free(&spec);
}

TEST(network_namespace_path_is_dropped_from_the_text_the_agent_gets)
{
	struct bundle spec;
	cleanup_error husk_err err = NULL;
	const char *s =
	    "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
	    "\"root\":{\"path\":\"rootfs\"},\"linux\":{\"namespaces\":[{\"type\":\"pid\"},"
	    "{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"network\",\"path\":\"/run/netns/"
	    "n1\"}]}}";
	CHECK_INT(bundle_parse(s, strlen(s), &spec, &err), ==, 0);
	CHECK_INT(bundle_ns_check(&spec, &err), ==, 0);
	CHECK_INT(bundle_drop_net_path(&spec, &err), ==, 0);
	CHECK_STR(spec.net_path, "/run/netns/n1");
	CHECK(!strstr(spec.json, "/run/netns/n1"));
	CHECK(strstr(spec.json, "{\"type\":\"network\"}"));
	CHECK_INT(spec.json_len, ==, strlen(spec.json));
	CHECK_INT(bundle_check(&spec, &err), ==, 0);
	bundle_free(&spec);
}

TEST(no_network_namespace_is_the_hosts_network_and_refused)
{
	struct bundle spec;
	cleanup_error husk_err err = NULL;
	CHECK_INT(bundle_parse(GOOD, strlen(GOOD), &spec, &err), ==, 0);
	CHECK(!spec.net_ns);
	CHECK_INT(bundle_ns_check(&spec, &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "linux.namespaces: no network namespace: a VM cannot share "
	                               "the host's network");
	bundle_free(&spec);
}

/* docker run --pid host / --ipc host / --uts host: the entry is missing */
static const char *missing_ns_msg(const char *nss)
{
	static char msg[200];
	char s[400];
	struct bundle spec;
	cleanup_error husk_err err = NULL;
	snprintf(s, sizeof(s),
	         "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
	         "\"linux\":{\"namespaces\":[%s]}}",
	         nss);
	if (bundle_parse(s, strlen(s), &spec, &err) < 0)
		return "not parsed";
	snprintf(msg, sizeof(msg), "%s",
	         bundle_ns_check(&spec, &err) < 0 ? husk_error_msg(err) : "accepted");
	bundle_free(&spec);
	return msg;
}

TEST(no_pid_ipc_or_uts_namespace_is_the_hosts_and_refused)
{
	CHECK_STR(missing_ns_msg("{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"}"),
	          "linux.namespaces: no pid namespace: a VM cannot share the host's processes");
	CHECK_STR(missing_ns_msg("{\"type\":\"network\"},{\"type\":\"pid\"},{\"type\":\"uts\"}"),
	          "linux.namespaces: no ipc namespace: a VM cannot share the host's IPC");
	CHECK_STR(missing_ns_msg("{\"type\":\"network\"},{\"type\":\"pid\"},{\"type\":\"ipc\"}"),
	          "linux.namespaces: no uts namespace: a VM cannot share the host's hostname");
	CHECK_STR(missing_ns_msg("{\"type\":\"network\"},{\"type\":\"pid\"},{\"type\":\"ipc\"},"
	                         "{\"type\":\"uts\",\"path\":\"/proc/1/ns/uts\"}"),
	          "accepted");
}

TEST(spec_rejects_malformed_json)
{
	CHECK_STR(parse_msg("{\"ociVersion\":"),
	          "invalid JSON at byte 14: unexpected end of input");
	CHECK_STR(parse_msg("{} x"), "invalid JSON at byte 3: trailing data");
	CHECK_STR(parse_msg("[]"), "not a JSON object");
	CHECK_STR(parse_msg(""), "invalid JSON at byte 0: unexpected end of input");
}

/* the host's facts, then the agent's parser (with the agent's wording) */
#define HOST_FACTS "{\"ociVersion\":\"1\",\"root\":{\"path\":\"r\"},"

/* config.md: unknown annotation keys are fine, values are strings; the state carries them */
TEST(spec_keeps_the_annotations_for_the_state)
{
	struct bundle spec;
	cleanup_error husk_err err = NULL;
	const char *s = HOST_FACTS "\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},"
	                           "\"annotations\":{\"org.x.unknown\":\"\",\"k\":\"v\"}}";
	CHECK_INT(bundle_parse(s, strlen(s), &spec, &err), ==, 0);
	CHECK_INT(bundle_check(&spec, &err), ==, 0);
	CHECK_STR(json_object_get_string(json_object_object_get(spec.annotations, "k")), "v");
	CHECK_INT(json_object_object_length(spec.annotations), ==, 2);
	bundle_free(&spec);
	CHECK_INT(bundle_parse(GOOD, strlen(GOOD), &spec, &err), ==, 0);
	CHECK(spec.annotations == NULL);
	bundle_free(&spec);
	CHECK_STR(parse_msg(HOST_FACTS "\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},"
	                               "\"annotations\":{\"k\":1}}"),
	          "annotations.k: must be a string");
	CHECK_STR(parse_msg(HOST_FACTS "\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},"
	                               "\"annotations\":[]}"),
	          "annotations: must be an object");
}

TEST(spec_names_the_bad_field)
{
	CHECK_STR(parse_msg("{\"process\":{}}"), "ociVersion: missing");
	CHECK_STR(parse_msg("{\"ociVersion\":\"\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},"
	                    "\"root\":{\"path\":\"r\"}}"),
	          "ociVersion: must not be empty");
	CHECK_STR(parse_msg(HOST_FACTS "\"x\":1}"), "process: missing");
	CHECK_STR(parse_msg(HOST_FACTS "\"process\":{\"args\":[],\"cwd\":\"/\"}}"),
	          "process.args: must not be empty");
	CHECK_STR(parse_msg(HOST_FACTS "\"process\":{\"args\":[1],\"cwd\":\"/\"}}"),
	          "process.args[0]: not a string");
	CHECK_STR(parse_msg(HOST_FACTS "\"process\":{\"args\":\"sh\",\"cwd\":\"/\"}}"),
	          "process.args: not an array");
	CHECK_STR(parse_msg(HOST_FACTS "\"process\":{\"args\":[\"a\"],\"cwd\":\"tmp\"}}"),
	          "process.cwd tmp: not an absolute path");
	CHECK_STR(parse_msg(HOST_FACTS "\"process\":{\"args\":[\"a\"],\"cwd\":\"/\","
	                               "\"env\":[\"NOEQ\"]}}"),
	          "process.env[0]: \"NOEQ\" is not KEY=VALUE");
	CHECK_STR(parse_msg(HOST_FACTS "\"process\":{\"args\":[\"a\"],\"cwd\":\"/\","
	                               "\"user\":{\"uid\":-1,\"gid\":0}}}"),
	          "process.user.uid: out of range");
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"}}"),
	          "root: missing");
	CHECK_STR(parse_msg(HOST_FACTS "\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},"
	                               "\"hostname\":5}"),
	          "hostname: not a string");
	CHECK_STR(parse_msg(HOST_FACTS "\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},"
	                               "\"mounts\":[{\"destination\":\"rel\"}]}"),
	          "mounts[0]: destination rel: not an absolute path");
	CHECK_STR(parse_msg(HOST_FACTS "\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},"
	                               "\"mounts\":{}}"),
	          "mounts: not an array");
}

TEST(spec_rejects_embedded_nul_and_deep_nesting)
{
	CHECK_STR(parse_msg(HOST_FACTS "\"process\":{\"args\":[\"a\\u0000b\"],\"cwd\":\"/\"}}"),
	          "process.args[0]: contains a NUL byte");
	char deep[300];
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	CHECK_STR(parse_msg(deep), "invalid JSON at byte 16: nesting too deep");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

TEST(spec_load_checks_bundle_and_rootfs)
{
	char dir[] = "/tmp/test_spec.XXXXXX", path[256];
	struct bundle spec;
	cleanup_error husk_err err = NULL;
	char *rootfs = NULL;

	CHECK(mkdtemp(dir));
	CHECK_INT(bundle_load(dir, &spec, &rootfs, &err), ==, -1);
	snprintf(path, sizeof(path), "bundle %s: config.json: No such file or directory", dir);
	CHECK_STR(husk_error_msg(err), path);

	snprintf(path, sizeof(path), "%s/config.json", dir);
	write_file(path, GOOD);
	husk_error_free(&err);
	CHECK_INT(bundle_load(dir, &spec, &rootfs, &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "config.json: root.path rootfs: No such file"));

	snprintf(path, sizeof(path), "%s/rootfs", dir);
	CHECK_INT(mkdir(path, 0755), ==, 0);
	husk_error_free(&err);
	CHECK_INT(bundle_load(dir, &spec, &rootfs, &err), ==, 0);
	CHECK_STR(rootfs, path);
	bundle_free(&spec);
	free(rootfs);

	rmdir(path);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	unlink(path);
	rmdir(dir);
}

#define BINDS                                                                                      \
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"                 \
	"\"root\":{\"path\":\"rootfs\"},\"mounts\":["                                              \
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"                       \
	"{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"/src/a\",\"options\":[\"rbind\","  \
	"\"ro\"]},"                                                                                \
	"{\"destination\":\"/b\",\"source\":\"data\",\"options\":[\"ro\",\"bind\",\"rw\"]}]}"

TEST(spec_lists_bind_mounts_with_sources_made_absolute_against_the_bundle)
{
	char dir[] = "/tmp/test_spec.XXXXXX", path[256];
	struct bundle spec;
	cleanup_error husk_err err = NULL;
	char *rootfs = NULL;
	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	write_file(path, BINDS);
	snprintf(path, sizeof(path), "%s/rootfs", dir);
	CHECK_INT(mkdir(path, 0755), ==, 0);
	CHECK_INT(bundle_load(dir, &spec, &rootfs, &err), ==, 0);
	CHECK_INT(bundle_check(&spec, &err), ==, 0);
	CHECK_INT(spec.nbinds, ==, 2);
	CHECK_INT(spec.binds[0].index, ==, 1);
	CHECK_STR(spec.binds[0].destination, "/a");
	CHECK_STR(spec.binds[0].source, "/src/a");
	CHECK(spec.binds[0].recursive && spec.binds[0].readonly);
	CHECK_INT(spec.binds[1].index, ==, 2);
	snprintf(path, sizeof(path), "%s/data", dir);
	CHECK_STR(spec.binds[1].source, path);
	CHECK(!spec.binds[1].recursive && !spec.binds[1].readonly);
	bundle_free(&spec);
	free(rootfs);
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
	                    "\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/a\","
	                    "\"options\":[\"bind\"]}]}"),
	          "mounts[0]: mount /a: a bind mount needs a source");
	snprintf(path, sizeof(path), "%s/rootfs", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	unlink(path);
	rmdir(dir);
}

TEST(spec_load_bounds_the_file)
{
	char dir[] = "/tmp/test_spec.XXXXXX", path[256];
	struct bundle spec;
	cleanup_error husk_err err = NULL;
	char *rootfs = NULL;

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	CHECK_INT(ftruncate(fd, SPEC_MAX_JSON + 1), ==, 0);
	close(fd);
	CHECK_INT(bundle_load(dir, &spec, &rootfs, &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "config.json: larger than"));
	unlink(path);
	rmdir(dir);
}

TEST(container_id_rules)
{
	cleanup_error husk_err err = NULL;
	CHECK_INT(container_id_check("abc-1_2.3", &err), ==, 0);
	CHECK_INT(container_id_check("", &err), ==, -1);
	CHECK_INT(container_id_check(".", &err), ==, -1);
	CHECK_INT(container_id_check("..", &err), ==, -1);
	CHECK_INT(container_id_check("a/b", &err), ==, -1);
	CHECK_INT(container_id_check("-a", &err), ==, -1);
	char long_id[SPEC_MAX_ID + 2];
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	CHECK_INT(container_id_check(long_id, &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "container id longer than 255 bytes");
	long_id[SPEC_MAX_ID] = '\0';
	CHECK_INT(container_id_check(long_id, &err), ==, 0);
}
