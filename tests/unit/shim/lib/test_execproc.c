#include "tests/unit/harness/test.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "shim/lib/execproc.h"

static char dir[] = "/tmp/husk-execproc-XXXXXX";

static int write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int make_bundle(void)
{
	char path[256];
	strcpy(dir, "/tmp/husk-execproc-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/rootfs", dir);
	mkdir(path, 0755);
	return write_file("config.json",
	                  "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
	                  "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"terminal\":true,"
	                  "\"env\":[\"PATH=/bin\",\"A=old\"],\"user\":{\"uid\":0,\"gid\":9}}}");
}

static void remove_bundle(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static const char *field(json_object *o, const char *path)
{
	json_object *v = o;
	char key[64];
	for (const char *p = path; v && *p;) {
		size_t n = strcspn(p, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (json_object_is_type(v, json_type_array))
			v = json_object_array_get_idx(v, (size_t)atoi(key));
		else if (!json_object_object_get_ex(v, key, &v))
			v = NULL;
		p += n + (p[n] == '.');
	}
	return v ? json_object_get_string(v) : NULL;
}

TEST(execproc_flags_override_the_bundle_process)
{
	cleanup_error husk_err err = NULL;
	char *args[] = {"id", "-u"}, *env[] = {"A=new", "B=2"}, *gids[] = {"5"};
	struct exec_flags f = {.args = args,
	                       .nargs = 2,
	                       .env = env,
	                       .nenv = 2,
	                       .cwd = "/work",
	                       .user = "1000",
	                       .gids = gids,
	                       .ngids = 1,
	                       .no_new_privs = true};
	char *json = NULL;
	bool terminal = true;
	CHECK_INT(make_bundle(), ==, 0);
	int r = execproc_build(dir, &f, &json, &terminal, &err);
	remove_bundle();
	CHECK_INT(r, ==, 0);
	json_object *p = json_tokener_parse(json);
	free(json);
	CHECK(p);
	CHECK(!terminal);
	CHECK_STR(field(p, "args.1"), "-u");
	CHECK_STR(field(p, "cwd"), "/work");
	CHECK_STR(field(p, "env.0"), "PATH=/bin");
	CHECK_STR(field(p, "env.1"), "A=new");
	CHECK_STR(field(p, "env.2"), "B=2");
	CHECK_STR(field(p, "user.uid"), "1000");
	CHECK_STR(field(p, "user.gid"), "9");
	CHECK_STR(field(p, "user.additionalGids.0"), "5");
	CHECK_STR(field(p, "noNewPrivileges"), "true");
	json_object_put(p);
}

static int build_fails_with(struct exec_flags *f, const char *msg)
{
	husk_err err = NULL;
	char *json = NULL;
	bool terminal;
	char *args[] = {"true"};
	if (!f->nargs) {
		f->args = args;
		f->nargs = 1;
	}
	int ok = make_bundle() == 0 && execproc_build(dir, f, &json, &terminal, &err) == -1 &&
	         !strcmp(husk_error_msg(err), msg);
	if (!ok)
		fprintf(stderr, "  got: %s\n", husk_error_msg(err));
	remove_bundle();
	free(json);
	husk_error_free(&err);
	return ok;
}

TEST(execproc_bad_flags_are_named)
{
	char *bad_env[] = {"=x"}, *bad_gid[] = {"-1"};
	CHECK(build_fails_with(&(struct exec_flags){.user = "root"},
	                       "--user root: must be UID[:GID] (numbers)"));
	CHECK(build_fails_with(&(struct exec_flags){.user = "1:"},
	                       "--user 1:: must be UID[:GID] (numbers)"));
	CHECK(build_fails_with(&(struct exec_flags){.user = "4294967296"},
	                       "--user 4294967296: must be UID[:GID] (numbers)"));
	CHECK(build_fails_with(&(struct exec_flags){.env = bad_env, .nenv = 1},
	                       "--env =x: must be KEY=VALUE"));
	CHECK(build_fails_with(&(struct exec_flags){.gids = bad_gid, .ngids = 1},
	                       "--additional-gids -1: must be a number"));
	CHECK(build_fails_with(&(struct exec_flags){.cwd = "w"},
	                       "--cwd w: must be an absolute path"));
}

TEST(execproc_process_file_is_validated)
{
	cleanup_error husk_err err = NULL;
	char path[300], *json = NULL;
	bool terminal;
	strcpy(dir, "/tmp/husk-execproc-XXXXXX");
	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.json", dir);
	CHECK_INT(write_file("p.json", "{\"args\":[\"a\"],\"cwd\":\"/\",\"terminal\":true}"), ==,
	          0);
	CHECK_INT(execproc_load(path, &json, &terminal, &err), ==, 0);
	CHECK(terminal);
	free(json);
	CHECK_INT(write_file("p.json", "{\"args\":[\"a\"],\"cwd\":\"rel\"}"), ==, 0);
	int r = execproc_load(path, &json, &terminal, &err);
	remove_bundle();
	CHECK_INT(r, ==, -1);
	CHECK(strstr(husk_error_msg(err), "p.json: process.cwd rel: not an absolute path"));
}
