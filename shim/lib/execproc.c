#include "execproc.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "oci/ocispec.h"
#include "oci/specjson.h"

/* Validates the serialized process as the agent will and hands out a NUL-terminated copy. */
static int finish(const char *text, size_t len, char **json, bool *terminal, husk_err *err)
{
	struct spec_process p;
	if (spec_parse_process(text, len, &p, err) < 0)
		return -1;
	spec_warn_ambient_skipped(&p.caps, "process");
	*terminal = p.terminal;
	spec_process_free(&p);
	*json = strndup(text, len);
	if (!*json)
		return husk_error_set(err, ENOMEM, "process");
	return 0;
}

int execproc_load(const char *path, char **json, bool *terminal, husk_err *err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	if (bundle_read_file(path, EXEC_PROCESS_MAX, &buf, &len, err) < 0)
		return husk_error_prefix(err, "process file");
	if (finish(buf, len, json, terminal, err) < 0)
		return husk_error_prefix(err, "process file %s", path);
	return 0;
}

/* An unsigned 32-bit decimal number, the whole string. */
static int parse_id(const char *s, uint32_t *out)
{
	char *end;
	if (!*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static json_object *user_object(json_object *process, husk_err *err)
{
	json_object *user = NULL;
	if (json_object_object_get_ex(process, "user", &user))
		return user;
	user = json_object_new_object();
	if (!user || json_object_object_add(process, "user", user) < 0) {
		husk_error_set(err, ENOMEM, "process.user");
		return NULL;
	}
	json_object_object_add(user, "uid", json_object_new_int(0));
	json_object_object_add(user, "gid", json_object_new_int(0));
	return user;
}

/* --user UID[:GID]: numeric ids only, as runc takes them (there is no passwd lookup). */
static int apply_user(json_object *process, const char *spec, husk_err *err)
{
	char uid_text[16];
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	uint32_t uid, gid = 0;
	if (n < sizeof(uid_text)) {
		memcpy(uid_text, spec, n);
		uid_text[n] = '\0';
	}
	if (n >= sizeof(uid_text) || parse_id(uid_text, &uid) < 0 ||
	    (colon && parse_id(colon + 1, &gid) < 0))
		return husk_error_set(err, 0, "--user %.64s: must be UID[:GID] (numbers)", spec);
	json_object *user = user_object(process, err);
	if (!user)
		return -1;
	json_object_object_add(user, "uid", json_object_new_int64(uid));
	if (colon)
		json_object_object_add(user, "gid", json_object_new_int64(gid));
	return 0;
}

static int apply_gids(json_object *process, char **gids, size_t n, husk_err *err)
{
	if (!n)
		return 0;
	json_object *user = user_object(process, err), *list = NULL;
	if (!user)
		return -1;
	if (!json_object_object_get_ex(user, "additionalGids", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		list = json_object_new_array();
		json_object_object_add(user, "additionalGids", list);
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t gid;
		if (parse_id(gids[i], &gid) < 0)
			return husk_error_set(err, 0, "--additional-gids %.64s: must be a number",
			                      gids[i]);
		json_object_array_add(list, json_object_new_int64(gid));
	}
	return 0;
}

/* The index of the entry of env whose key is kv's, or -1. */
static long env_find(json_object *env, const char *kv, size_t keylen)
{
	size_t n = json_object_array_length(env);
	for (size_t i = 0; i < n; i++) {
		const char *e = json_object_get_string(json_object_array_get_idx(env, i));
		if (e && !strncmp(e, kv, keylen) && e[keylen] == '=')
			return (long)i;
	}
	return -1;
}

static int apply_env(json_object *process, char **kvs, size_t n, husk_err *err)
{
	json_object *env = NULL;
	if (!n)
		return 0;
	if (!json_object_object_get_ex(process, "env", &env) ||
	    !json_object_is_type(env, json_type_array)) {
		env = json_object_new_array();
		json_object_object_add(process, "env", env);
	}
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(kvs[i], '=');
		if (!eq || eq == kvs[i])
			return husk_error_set(err, 0, "--env %.64s: must be KEY=VALUE", kvs[i]);
		long at = env_find(env, kvs[i], (size_t)(eq - kvs[i]));
		json_object *v = json_object_new_string(kvs[i]);
		if (at >= 0)
			json_object_array_put_idx(env, (size_t)at, v);
		else
			json_object_array_add(env, v);
	}
	return 0;
}

static int apply_flags(json_object *process, const struct exec_flags *f, husk_err *err)
{
	json_object *args = json_object_new_array();
	if (!args)
		return husk_error_set(err, ENOMEM, "process.args");
	for (size_t i = 0; i < f->nargs; i++)
		json_object_array_add(args, json_object_new_string(f->args[i]));
	json_object_object_add(process, "args", args);
	if (f->cwd) {
		if (f->cwd[0] != '/')
			return husk_error_set(err, 0, "--cwd %.64s: must be an absolute path",
			                      f->cwd);
		json_object_object_add(process, "cwd", json_object_new_string(f->cwd));
	}
	json_object_object_add(process, "terminal", json_object_new_boolean(f->tty));
	if (f->no_new_privs)
		json_object_object_add(process, "noNewPrivileges", json_object_new_boolean(1));
	if (apply_env(process, f->env, f->nenv, err) < 0 ||
	    (f->user && apply_user(process, f->user, err) < 0))
		return -1;
	return apply_gids(process, f->gids, f->ngids, err);
}

int execproc_build(const char *bundle, const struct exec_flags *f, char **json, bool *terminal,
                   husk_err *err)
{
	struct bundle spec = {0};
	cleanup_free char *rootfs = NULL;
	if (bundle_load(bundle, &spec, &rootfs, err) < 0)
		return -1;
	cleanup_json json_object *root = spec_json_parse(spec.json, spec.json_len, err);
	bundle_free(&spec);
	if (!root)
		return husk_error_prefix(err, "bundle %s: config.json", bundle);
	json_object *process = json_member(root, "process");
	if (!json_object_is_type(process, json_type_object))
		return husk_error_set(err, 0, "bundle %s: config.json: process: %s", bundle,
		                      process ? "not an object" : "missing");
	if (apply_flags(process, f, err) < 0)
		return -1;
	size_t len;
	const char *text = json_object_to_json_string_length(process, JSON_C_TO_STRING_PLAIN, &len);
	if (!text)
		return husk_error_set(err, ENOMEM, "process");
	return finish(text, len, json, terminal, err);
}
