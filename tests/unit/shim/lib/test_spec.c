#include "tests/unit/harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "shim/lib/spec.h"

#define GOOD                                                                                       \
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"true\"],\"cwd\":\"/\","  \
	"\"env\":[\"PATH=/bin\",\"EMPTY=\"],\"user\":{\"uid\":1000,\"gid\":1000}},"                \
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"h\","                     \
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}]}"

/* Parses s and returns the error message ("" on success). */
static const char *parse_msg(const char *s)
{
	static char msg[512];
	struct oci_spec spec;
	cleanup_error husk_err err = NULL;
	if (spec_parse(s, strlen(s), &spec, &err) == 0) {
		spec_free(&spec);
		return "";
	}
	snprintf(msg, sizeof(msg), "%s", husk_error_msg(err));
	return msg;
}

TEST(spec_accepts_good_config)
{
	struct oci_spec spec;
	cleanup_error husk_err err = NULL;
	CHECK_INT(spec_parse(GOOD, strlen(GOOD), &spec, &err), ==, 0);
	CHECK_STR(spec.root_path, "rootfs");
	CHECK(spec.root_readonly);
	CHECK(!spec.terminal);
	CHECK_INT(spec.json_len, ==, strlen(GOOD));
	CHECK_STR(spec.json, GOOD);
	spec_free(&spec);
}

/* What the CLI refuses to join (a VM per container): the first namespace with a path. */
TEST(spec_notes_the_first_namespace_to_join)
{
	struct oci_spec spec;
	cleanup_error husk_err err = NULL;
	const char *s =
	    "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
	    "\"root\":{\"path\":\"rootfs\"},\"linux\":{\"namespaces\":[{\"type\":\"pid\"},"
	    "{\"type\":\"network\",\"path\":\"/run/netns/n1\"},"
	    "{\"type\":\"ipc\",\"path\":\"/proc/9/ns/ipc\"}]}}";
	CHECK_INT(spec_parse(s, strlen(s), &spec, &err), ==, 0);
	CHECK_STR(spec.join_type, "network");
	CHECK_STR(spec.join_path, "/run/netns/n1");
	spec_free(&spec);
	CHECK_INT(spec_parse(GOOD, strlen(GOOD), &spec, &err), ==, 0);
	CHECK(spec.join_type == NULL && spec.join_path == NULL);
	spec_free(&spec);
}

TEST(spec_rejects_malformed_json)
{
	CHECK(strstr(parse_msg("{\"ociVersion\":"), "malformed JSON"));
	CHECK(strstr(parse_msg("{} x"), "trailing data"));
	CHECK_STR(parse_msg("[]"), "must be a JSON object");
	CHECK(strstr(parse_msg(""), "malformed JSON"));
}

TEST(spec_names_the_bad_field)
{
	CHECK_STR(parse_msg("{\"process\":{}}"), "ociVersion: missing");
	CHECK_STR(parse_msg("{\"ociVersion\":\"\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},"
	                    "\"root\":{\"path\":\"r\"}}"),
	          "ociVersion: must not be empty");
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\"}"), "process: missing");
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":[],\"cwd\":\"/\"}}"),
	          "process.args: must not be empty");
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":[1],\"cwd\":\"/\"}}"),
	          "process.args[0]: must be a string");
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":\"sh\",\"cwd\":\"/\"}}"),
	          "process.args: must be an array of strings");
	CHECK_STR(
	    parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":[\"a\"],\"cwd\":\"tmp\"}}"),
	    "process.cwd: must be an absolute path");
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\","
	                    "\"env\":[\"NOEQ\"]}}"),
	          "process.env[0]: \"NOEQ\" is not KEY=VALUE");
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\","
	                    "\"user\":{\"uid\":-1,\"gid\":0}}}"),
	          "process.user.uid: -1 out of range");
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"}}"),
	          "root: missing");
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},"
	                    "\"root\":{\"path\":\"r\"},\"hostname\":5}"),
	          "hostname: must be a string");
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},"
	                    "\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"rel\"}]}"),
	          "mounts[0].destination: must be an absolute path");
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"},"
	                    "\"root\":{\"path\":\"r\"},\"mounts\":{}}"),
	          "mounts: must be an array");
}

TEST(spec_rejects_embedded_nul_and_deep_nesting)
{
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":[\"a\\u0000b\"],\"cwd\":"
	                    "\"/\"}}"),
	          "process.args[0]: must be a string");
	char deep[300];
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	CHECK(strstr(parse_msg(deep), "malformed JSON"));
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
	struct oci_spec spec;
	cleanup_error husk_err err = NULL;
	char *rootfs = NULL;

	CHECK(mkdtemp(dir));
	CHECK_INT(spec_load(dir, &spec, &rootfs, &err), ==, -1);
	snprintf(path, sizeof(path), "bundle %s: config.json: No such file or directory", dir);
	CHECK_STR(husk_error_msg(err), path);

	snprintf(path, sizeof(path), "%s/config.json", dir);
	write_file(path, GOOD);
	husk_error_free(&err);
	CHECK_INT(spec_load(dir, &spec, &rootfs, &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "config.json: root.path rootfs: No such file"));

	snprintf(path, sizeof(path), "%s/rootfs", dir);
	CHECK_INT(mkdir(path, 0755), ==, 0);
	husk_error_free(&err);
	CHECK_INT(spec_load(dir, &spec, &rootfs, &err), ==, 0);
	CHECK_STR(rootfs, path);
	spec_free(&spec);
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
	struct oci_spec spec;
	cleanup_error husk_err err = NULL;
	char *rootfs = NULL;
	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	write_file(path, BINDS);
	snprintf(path, sizeof(path), "%s/rootfs", dir);
	CHECK_INT(mkdir(path, 0755), ==, 0);
	CHECK_INT(spec_load(dir, &spec, &rootfs, &err), ==, 0);
	CHECK_INT(spec.nbinds, ==, 2);
	CHECK_INT(spec.binds[0].index, ==, 1);
	CHECK_STR(spec.binds[0].destination, "/a");
	CHECK_STR(spec.binds[0].source, "/src/a");
	CHECK(spec.binds[0].recursive && spec.binds[0].readonly);
	CHECK_INT(spec.binds[1].index, ==, 2);
	snprintf(path, sizeof(path), "%s/data", dir);
	CHECK_STR(spec.binds[1].source, path);
	CHECK(!spec.binds[1].recursive && !spec.binds[1].readonly);
	spec_free(&spec);
	free(rootfs);
	CHECK_STR(parse_msg("{\"ociVersion\":\"1\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
	                    "\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/a\","
	                    "\"options\":[\"bind\"]}]}"),
	          "mounts[0].source: a bind mount needs one");
	snprintf(path, sizeof(path), "%s/rootfs", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	unlink(path);
	rmdir(dir);
}

TEST(spec_load_bounds_the_file)
{
	char dir[] = "/tmp/test_spec.XXXXXX", path[256];
	struct oci_spec spec;
	cleanup_error husk_err err = NULL;
	char *rootfs = NULL;

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	CHECK_INT(ftruncate(fd, SPEC_MAX_BYTES + 1), ==, 0);
	close(fd);
	CHECK_INT(spec_load(dir, &spec, &rootfs, &err), ==, -1);
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
	char long_id[CONTAINER_ID_MAX + 2];
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	CHECK_INT(container_id_check(long_id, &err), ==, -1);
	long_id[CONTAINER_ID_MAX] = '\0';
	CHECK_INT(container_id_check(long_id, &err), ==, 0);
}
