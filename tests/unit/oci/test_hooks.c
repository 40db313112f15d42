#include "tests/unit/harness/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "oci/hooks.h"

static int parse(const char *json, struct hooks *h, husk_err *err)
{
	return hooks_parse_spec(json, strlen(json), h, err);
}

/* The message parsing {"hooks": HOOKS} fails with. */
static const char *parse_error(const char *hooks, char *buf, size_t len)
{
	char json[1024];
	struct hooks h;
	cleanup_error husk_err err = NULL;
	snprintf(json, sizeof(json), "{\"hooks\": %s}", hooks);
	if (parse(json, &h, &err) == 0) {
		hooks_free(&h);
		return "parsed";
	}
	snprintf(buf, len, "%s", husk_error_msg(err));
	return buf;
}

TEST(hooks_parse_fills_every_kind_defaults_args_and_leaves_env_empty)
{
	struct hooks h;
	cleanup_error husk_err err = NULL;
	CHECK_INT(parse("{\"hooks\": {\"prestart\": [{\"path\": \"/a\"}],"
	                " \"poststop\": [{\"path\": \"/b\", \"args\": [\"b\", \"x\"],"
	                " \"env\": [\"K=V\"], \"timeout\": 5}, {\"path\": \"/c\"}]}}",
	                &h, &err),
	          ==, 0);
	CHECK_INT(h.n[HOOK_PRESTART], ==, 1);
	CHECK_INT(h.n[HOOK_CREATE_RUNTIME], ==, 0);
	CHECK_INT(h.n[HOOK_POSTSTOP], ==, 2);
	CHECK_STR(h.list[HOOK_PRESTART][0].args[0], "/a");
	CHECK(!h.list[HOOK_PRESTART][0].args[1]);
	CHECK(!h.list[HOOK_PRESTART][0].env[0]);
	CHECK_INT(h.list[HOOK_PRESTART][0].timeout, ==, 0);
	CHECK_STR(h.list[HOOK_POSTSTOP][0].args[1], "x");
	CHECK_STR(h.list[HOOK_POSTSTOP][0].env[0], "K=V");
	CHECK_INT(h.list[HOOK_POSTSTOP][0].timeout, ==, 5);
	hooks_free(&h);
	CHECK_INT(parse("{\"process\": {}}", &h, &err), ==, 0);
	CHECK_INT(h.n[HOOK_POSTSTART], ==, 0);
}

TEST(hooks_parse_errors_name_the_field)
{
	char buf[256];
	CHECK_STR(parse_error("[]", buf, sizeof(buf)), "hooks: must be an object");
	CHECK_STR(parse_error("{\"poststart\": {}}", buf, sizeof(buf)),
	          "hooks.poststart: must be an array");
	CHECK_STR(parse_error("{\"prestart\": [7]}", buf, sizeof(buf)),
	          "hooks.prestart[0]: must be an object");
	CHECK_STR(parse_error("{\"prestart\": [{}]}", buf, sizeof(buf)),
	          "hooks.prestart[0].path: missing");
	CHECK_STR(parse_error("{\"createRuntime\": [{\"path\": \"/a\"}, {\"path\": \"b\"}]}", buf,
	                      sizeof(buf)),
	          "hooks.createRuntime[1].path: must be an absolute path");
	CHECK_STR(
	    parse_error("{\"poststop\": [{\"path\": \"/a\", \"timeout\": 0}]}", buf, sizeof(buf)),
	    "hooks.poststop[0].timeout: must be a whole number of seconds, 1 to 86400");
	CHECK_STR(
	    parse_error("{\"poststop\": [{\"path\": \"/a\", \"timeout\": 1.5}]}", buf, sizeof(buf)),
	    "hooks.poststop[0].timeout: must be a whole number of seconds, 1 to 86400");
	CHECK_STR(parse_error("{\"startContainer\": [{\"path\": \"/a\", \"args\": [1]}]}", buf,
	                      sizeof(buf)),
	          "hooks.startContainer[0].args[0]: must be a string");
	CHECK_STR(parse_error("{\"startContainer\": [{\"path\": \"/a\", \"env\": \"X=1\"}]}", buf,
	                      sizeof(buf)),
	          "hooks.startContainer[0].env: must be an array of strings");
}

static struct hooks one_hook(enum hook_kind kind, const char *script, int timeout)
{
	struct hooks h = {0};
	h.n[kind] = 1;
	h.list[kind] = calloc(1, sizeof(struct hook));
	h.list[kind][0].path = strdup("/bin/sh");
	h.list[kind][0].args = calloc(4, sizeof(char *));
	h.list[kind][0].args[0] = strdup("sh");
	h.list[kind][0].args[1] = strdup("-c");
	h.list[kind][0].args[2] = strdup(script);
	h.list[kind][0].env = calloc(2, sizeof(char *));
	h.list[kind][0].env[0] = strdup("PATH=/usr/bin:/bin");
	h.list[kind][0].timeout = timeout;
	return h;
}

TEST(hooks_run_passes_the_state_on_stdin_and_only_the_hook_env)
{
	char dir[] = "/tmp/test_hooks.XXXXXX", script[512], path[64], got[128] = "";
	cleanup_error husk_err err = NULL;
	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	snprintf(script, sizeof(script), "read s; echo \"$s ${HOME:-nohome} $PATH\" >%s", path);
	struct hooks h = one_hook(HOOK_PRESTART, script, 0);
	CHECK_INT(hooks_run(&h, HOOK_PRESTART, "{\"status\":\"creating\"}\n", &err), ==, 0);
	FILE *f = fopen(path, "r");
	CHECK(f);
	CHECK(fgets(got, sizeof(got), f));
	fclose(f);
	CHECK_STR(got, "{\"status\":\"creating\"} nohome /usr/bin:/bin\n");
	hooks_free(&h);
	unlink(path);
	rmdir(dir);
}

TEST(hooks_run_fails_a_prestart_with_its_last_output_line_and_only_warns_for_poststop)
{
	cleanup_error husk_err err = NULL;
	struct hooks h = one_hook(HOOK_PRESTART, "echo one; echo two >&2; exit 3", 0);
	CHECK_INT(hooks_run(&h, HOOK_PRESTART, "{}", &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "hook prestart[0] /bin/sh: exited with status 3: two");
	hooks_free(&h);
	husk_error_free(&err);
	h = one_hook(HOOK_POSTSTOP, "exit 1", 0);
	CHECK_INT(hooks_run(&h, HOOK_POSTSTOP, "{}", &err), ==, 0);
	CHECK(!err);
	hooks_free(&h);
}

TEST(hooks_run_kills_a_hook_at_its_timeout)
{
	cleanup_error husk_err err = NULL;
	struct hooks h = one_hook(HOOK_CREATE_RUNTIME, "sleep 30", 1);
	time_t t0 = time(NULL);
	CHECK_INT(hooks_run(&h, HOOK_CREATE_RUNTIME, "{}", &err), ==, -1);
	CHECK_INT(time(NULL) - t0, <, 10);
	CHECK_STR(husk_error_msg(err), "hook createRuntime[0] /bin/sh: timed out after 1 s");
	hooks_free(&h);
}
