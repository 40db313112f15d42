#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"

static void cleanup_json_fn(json_object **o)
{
	json_object_put(*o);
}
#define cleanup_json __attribute__((cleanup(cleanup_json_fn)))

/* A JSON string without embedded NULs, or NULL. */
static const char *plain_string(json_object *o)
{
	if (!json_object_is_type(o, json_type_string))
		return NULL;
	const char *s = json_object_get_string(o);
	if (strlen(s) != (size_t)json_object_get_string_len(o))
		return NULL;
	return s;
}

static json_object *member(json_object *obj, const char *key)
{
	json_object *v = NULL;
	json_object_object_get_ex(obj, key, &v);
	return v;
}

static int check_string(json_object *obj, const char *key, const char *field, bool required,
                        husk_err *err)
{
	json_object *v = member(obj, key);
	if (!v)
		return required ? husk_error_set(err, 0, "%s: missing", field) : 0;
	if (!plain_string(v))
		return husk_error_set(err, 0, "%s: must be a string", field);
	return 0;
}

static int check_bool(json_object *obj, const char *key, const char *field, husk_err *err)
{
	json_object *v = member(obj, key);
	if (v && !json_object_is_type(v, json_type_boolean))
		return husk_error_set(err, 0, "%s: must be a boolean", field);
	return 0;
}

static int check_uint32(json_object *obj, const char *key, const char *field, bool required,
                        husk_err *err)
{
	json_object *v = member(obj, key);
	if (!v)
		return required ? husk_error_set(err, 0, "%s: missing", field) : 0;
	if (!json_object_is_type(v, json_type_int))
		return husk_error_set(err, 0, "%s: must be an integer", field);
	int64_t n = json_object_get_int64(v);
	if (n < 0 || n > UINT32_MAX)
		return husk_error_set(err, 0, "%s: %lld out of range", field, (long long)n);
	return 0;
}

/* An optional array (or a required non-empty one) of at most max strings. */
static int check_string_array(json_object *obj, const char *key, const char *field, bool required,
                              size_t max, husk_err *err)
{
	json_object *v = member(obj, key);
	if (!v)
		return required ? husk_error_set(err, 0, "%s: missing", field) : 0;
	if (!json_object_is_type(v, json_type_array))
		return husk_error_set(err, 0, "%s: must be an array of strings", field);
	size_t n = json_object_array_length(v);
	if (required && n == 0)
		return husk_error_set(err, 0, "%s: must not be empty", field);
	if (n > max)
		return husk_error_set(err, 0, "%s: more than %zu entries", field, max);
	for (size_t i = 0; i < n; i++)
		if (!plain_string(json_object_array_get_idx(v, i)))
			return husk_error_set(err, 0, "%s[%zu]: must be a string", field, i);
	return 0;
}

static int check_object(json_object *v, const char *field, husk_err *err)
{
	if (!json_object_is_type(v, json_type_object))
		return husk_error_set(err, 0, "%s: must be an object", field);
	return 0;
}

static int check_env(json_object *process, husk_err *err)
{
	if (check_string_array(process, "env", "process.env", false, SPEC_MAX_ENV, err) < 0)
		return -1;
	json_object *env = member(process, "env");
	size_t n = env ? json_object_array_length(env) : 0;
	for (size_t i = 0; i < n; i++) {
		const char *kv = json_object_get_string(json_object_array_get_idx(env, i));
		const char *eq = strchr(kv, '=');
		if (!eq || eq == kv)
			return husk_error_set(
			    err, 0, "process.env[%zu]: \"%.64s\" is not KEY=VALUE", i, kv);
	}
	return 0;
}

static int check_user(json_object *process, husk_err *err)
{
	json_object *user = member(process, "user");
	if (!user)
		return 0;
	if (check_object(user, "process.user", err) < 0 ||
	    check_uint32(user, "uid", "process.user.uid", true, err) < 0 ||
	    check_uint32(user, "gid", "process.user.gid", true, err) < 0)
		return -1;
	json_object *gids = member(user, "additionalGids");
	if (!gids)
		return 0;
	if (!json_object_is_type(gids, json_type_array))
		return husk_error_set(err, 0, "process.user.additionalGids: must be an array");
	size_t n = json_object_array_length(gids);
	if (n > 1024)
		return husk_error_set(err, 0, "process.user.additionalGids: too many entries");
	for (size_t i = 0; i < n; i++) {
		json_object *g = json_object_array_get_idx(gids, i);
		int64_t v = json_object_get_int64(g);
		if (!json_object_is_type(g, json_type_int) || v < 0 || v > UINT32_MAX)
			return husk_error_set(err, 0,
			                      "process.user.additionalGids[%zu]: must be a gid", i);
	}
	return 0;
}

static int check_process_object(json_object *process, bool *terminal_out, husk_err *err)
{
	if (check_object(process, "process", err) < 0 ||
	    check_string_array(process, "args", "process.args", true, SPEC_MAX_ARGS, err) < 0 ||
	    check_string(process, "cwd", "process.cwd", true, err) < 0 ||
	    check_bool(process, "terminal", "process.terminal", err) < 0 ||
	    check_env(process, err) < 0 || check_user(process, err) < 0)
		return -1;
	if (plain_string(member(process, "cwd"))[0] != '/')
		return husk_error_set(err, 0, "process.cwd: must be an absolute path");
	json_object *terminal = member(process, "terminal");
	*terminal_out = terminal && json_object_get_boolean(terminal);
	return 0;
}

static int check_process(json_object *spec, struct oci_spec *out, husk_err *err)
{
	json_object *process = member(spec, "process");
	if (!process)
		return husk_error_set(err, 0, "process: missing");
	return check_process_object(process, &out->terminal, err);
}

static int check_root(json_object *spec, struct oci_spec *out, husk_err *err)
{
	json_object *root = member(spec, "root");
	if (!root)
		return husk_error_set(err, 0, "root: missing");
	if (check_object(root, "root", err) < 0 ||
	    check_string(root, "path", "root.path", true, err) < 0 ||
	    check_bool(root, "readonly", "root.readonly", err) < 0)
		return -1;
	const char *path = plain_string(member(root, "path"));
	if (!path[0])
		return husk_error_set(err, 0, "root.path: must not be empty");
	if (strlen(path) >= PATH_MAX)
		return husk_error_set(err, 0, "root.path: too long");
	out->root_path = strdup(path);
	if (!out->root_path)
		return husk_error_set(err, ENOMEM, "root.path");
	json_object *ro = member(root, "readonly");
	out->root_readonly = ro && json_object_get_boolean(ro);
	return 0;
}

static bool has_option(json_object *m, const char *opt)
{
	json_object *opts = member(m, "options");
	size_t n = opts ? json_object_array_length(opts) : 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(opts, i)), opt))
			return true;
	return false;
}

/* The last of ro/rw wins, as with mount(8). */
static bool last_says_ro(json_object *m)
{
	json_object *opts = member(m, "options");
	bool ro = false;
	size_t n = opts ? json_object_array_length(opts) : 0;
	for (size_t i = 0; i < n; i++) {
		const char *o = json_object_get_string(json_object_array_get_idx(opts, i));
		if (!strcmp(o, "ro") || !strcmp(o, "rw"))
			ro = !strcmp(o, "ro");
	}
	return ro;
}

/* Records mounts[i] in spec->binds if it is a bind mount (as runc: type "bind", or bind/rbind). */
static int note_bind(json_object *m, uint32_t i, struct oci_spec *spec, husk_err *err)
{
	json_object *type = member(m, "type");
	bool rbind = has_option(m, "rbind");
	if (!rbind && !has_option(m, "bind") && !(type && !strcmp(plain_string(type), "bind")))
		return 0;
	const char *source = member(m, "source") ? plain_string(member(m, "source")) : "";
	if (!source[0])
		return husk_error_set(err, 0, "mounts[%u].source: a bind mount needs one", i);
	struct oci_bind *b = &spec->binds[spec->nbinds];
	*b = (struct oci_bind){.index = i, .recursive = rbind, .readonly = last_says_ro(m)};
	b->destination = strdup(plain_string(member(m, "destination")));
	b->source = strdup(source);
	spec->nbinds++;
	if (!b->destination || !b->source)
		return husk_error_set(err, ENOMEM, "mounts[%u]", i);
	return 0;
}

static int check_mount(json_object *m, size_t i, husk_err *err)
{
	char field[64];
	snprintf(field, sizeof(field), "mounts[%zu]", i);
	if (check_object(m, field, err) < 0)
		return -1;
	snprintf(field, sizeof(field), "mounts[%zu].destination", i);
	if (check_string(m, "destination", field, true, err) < 0)
		return -1;
	if (plain_string(member(m, "destination"))[0] != '/')
		return husk_error_set(err, 0, "%s: must be an absolute path", field);
	snprintf(field, sizeof(field), "mounts[%zu].type", i);
	if (check_string(m, "type", field, false, err) < 0)
		return -1;
	snprintf(field, sizeof(field), "mounts[%zu].source", i);
	if (check_string(m, "source", field, false, err) < 0)
		return -1;
	snprintf(field, sizeof(field), "mounts[%zu].options", i);
	return check_string_array(m, "options", field, false, 256, err);
}

static int check_mounts(json_object *spec, struct oci_spec *out, husk_err *err)
{
	json_object *mounts = member(spec, "mounts");
	if (!mounts)
		return 0;
	if (!json_object_is_type(mounts, json_type_array))
		return husk_error_set(err, 0, "mounts: must be an array");
	size_t n = json_object_array_length(mounts);
	if (n > SPEC_MAX_MOUNTS)
		return husk_error_set(err, 0, "mounts: more than %d entries", SPEC_MAX_MOUNTS);
	if (n && !(out->binds = calloc(n, sizeof(*out->binds))))
		return husk_error_set(err, ENOMEM, "mounts");
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(mounts, i);
		if (check_mount(m, i, err) < 0 || note_bind(m, (uint32_t)i, out, err) < 0)
			return -1;
	}
	return 0;
}

static bool only_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n", p[i]))
			return false;
	return true;
}

static json_object *parse_json(const char *buf, size_t len, husk_err *err)
{
	if (len > SPEC_MAX_BYTES) {
		husk_error_set(err, 0, "larger than %u bytes", SPEC_MAX_BYTES);
		return NULL;
	}
	if (memchr(buf, '\0', len)) {
		husk_error_set(err, 0, "contains a NUL byte");
		return NULL;
	}
	struct json_tokener *tok = json_tokener_new_ex(SPEC_MAX_DEPTH);
	if (!tok) {
		husk_error_set(err, ENOMEM, "json parser");
		return NULL;
	}
	json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
	enum json_tokener_error e = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	if (!o && e == json_tokener_continue) {
		husk_error_set(err, 0, "malformed JSON: unexpected end of input");
	} else if (!o) {
		husk_error_set(err, 0, "malformed JSON at byte %zu: %s", end,
		               json_tokener_error_desc(e));
	} else if (end > len || !only_space(buf + end, len - end)) {
		husk_error_set(err, 0, "malformed JSON: trailing data at byte %zu", end);
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* Notes the first namespace to join; the agent checks the entries in full. */
static int note_join(json_object *spec, struct oci_spec *out, husk_err *err)
{
	json_object *lx = member(spec, "linux"), *nss = lx ? member(lx, "namespaces") : NULL;
	if (!json_object_is_type(nss, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(nss); i++) {
		json_object *ns = json_object_array_get_idx(nss, i);
		const char *type = plain_string(member(ns, "type"));
		const char *path = plain_string(member(ns, "path"));
		if (!path)
			continue;
		if (!(out->join_type = strndup(type ? type : "?", 16)) ||
		    !(out->join_path = strndup(path, 256)))
			return husk_error_set(err, ENOMEM, "linux.namespaces");
		return 0;
	}
	return 0;
}

int spec_parse(const char *buf, size_t len, struct oci_spec *spec, husk_err *err)
{
	struct oci_spec out = {0};
	cleanup_json json_object *root = parse_json(buf, len, err);
	if (!root)
		return -1;
	if (!json_object_is_type(root, json_type_object))
		return husk_error_set(err, 0, "must be a JSON object");
	if (check_string(root, "ociVersion", "ociVersion", true, err) < 0 ||
	    check_string(root, "hostname", "hostname", false, err) < 0 ||
	    check_process(root, &out, err) < 0 || check_root(root, &out, err) < 0 ||
	    check_mounts(root, &out, err) < 0 || note_join(root, &out, err) < 0) {
		spec_free(&out);
		return -1;
	}
	if (!plain_string(member(root, "ociVersion"))[0]) {
		spec_free(&out);
		return husk_error_set(err, 0, "ociVersion: must not be empty");
	}
	out.json = malloc(len + 1);
	if (!out.json) {
		spec_free(&out);
		return husk_error_set(err, ENOMEM, "config.json");
	}
	memcpy(out.json, buf, len);
	out.json[len] = '\0';
	out.json_len = len;
	*spec = out;
	return 0;
}

int spec_parse_process(const char *buf, size_t len, bool *terminal, husk_err *err)
{
	cleanup_json json_object *process = parse_json(buf, len, err);
	if (!process)
		return -1;
	return check_process_object(process, terminal, err);
}

static int read_bounded(int dirfd, const char *name, size_t max, char **buf, size_t *len,
                        husk_err *err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0)
		return husk_error_set(err, errno, "%s", name);
	if (fstat(fd, &st) < 0)
		return husk_error_set(err, errno, "%s", name);
	if (!S_ISREG(st.st_mode))
		return husk_error_set(err, 0, "%s: not a regular file", name);
	if ((size_t)st.st_size > max)
		return husk_error_set(err, 0, "%s: larger than %zu bytes", name, max);
	cleanup_free char *data = malloc(max + 1);
	if (!data)
		return husk_error_set(err, ENOMEM, "%s", name);
	size_t got = 0;
	while (got <= max) {
		ssize_t n = read(fd, data + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_error_set(err, errno, "%s", name);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > max)
		return husk_error_set(err, 0, "%s: larger than %zu bytes", name, max);
	*buf = move_ptr(data);
	*len = got;
	return 0;
}

int spec_read_file(const char *path, size_t max, char **buf, size_t *len, husk_err *err)
{
	return read_bounded(AT_FDCWD, path, max, buf, len, err);
}

static int resolve_rootfs(const char *bundle, const char *root_path, char **rootfs, husk_err *err)
{
	cleanup_free char *joined = NULL;
	struct stat st;

	if (root_path[0] == '/')
		joined = strdup(root_path);
	else if (asprintf(&joined, "%s/%s", bundle, root_path) < 0)
		joined = NULL;
	if (!joined)
		return husk_error_set(err, ENOMEM, "root.path");
	char *abs = realpath(joined, NULL);
	if (!abs)
		return husk_error_set(err, errno, "root.path %s", root_path);
	if (stat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(abs);
		return husk_error_set(err, ENOTDIR, "root.path %s", root_path);
	}
	*rootfs = abs;
	return 0;
}

static int absolute_bind_sources(const char *bundle, struct oci_spec *spec, husk_err *err)
{
	cleanup_free char *dir = NULL;
	for (size_t i = 0; i < spec->nbinds; i++) {
		struct oci_bind *b = &spec->binds[i];
		char *abs = NULL;
		if (b->source[0] == '/')
			continue;
		if (!dir && !(dir = realpath(bundle, NULL)))
			return husk_error_set(err, errno, "bundle %s", bundle);
		if (asprintf(&abs, "%s/%s", dir, b->source) < 0)
			return husk_error_set(err, ENOMEM, "mounts[%u].source", b->index);
		free(b->source);
		b->source = abs;
	}
	return 0;
}

int spec_load(const char *bundle, struct oci_spec *spec, char **rootfs, husk_err *err)
{
	cleanup_close int dirfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t len = 0;

	if (dirfd < 0)
		return husk_error_set(err, errno, "bundle %s", bundle);
	if (read_bounded(dirfd, "config.json", SPEC_MAX_BYTES, &buf, &len, err) < 0)
		return husk_error_prefix(err, "bundle %s", bundle);
	if (spec_parse(buf, len, spec, err) < 0) {
		husk_error_prefix(err, "config.json");
		return husk_error_prefix(err, "bundle %s", bundle);
	}
	if (absolute_bind_sources(bundle, spec, err) < 0 ||
	    resolve_rootfs(bundle, spec->root_path, rootfs, err) < 0) {
		spec_free(spec);
		husk_error_prefix(err, "config.json");
		return husk_error_prefix(err, "bundle %s", bundle);
	}
	return 0;
}

void spec_free(struct oci_spec *spec)
{
	free(spec->json);
	free(spec->root_path);
	for (size_t i = 0; i < spec->nbinds; i++) {
		free(spec->binds[i].destination);
		free(spec->binds[i].source);
	}
	free(spec->binds);
	free(spec->join_type);
	free(spec->join_path);
	*spec = (struct oci_spec){0};
}

static bool id_char_ok(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '_' || c == '.' || c == '-');
}

int container_id_check(const char *id, husk_err *err)
{
	size_t n = strnlen(id, CONTAINER_ID_MAX + 1);
	if (n == 0)
		return husk_error_set(err, 0, "container id must not be empty");
	if (n > CONTAINER_ID_MAX)
		return husk_error_set(err, 0, "container id longer than %d bytes",
		                      CONTAINER_ID_MAX);
	for (size_t i = 0; i < n; i++)
		if (!id_char_ok(id[i], i == 0))
			return husk_error_set(
			    err, 0,
			    "invalid container id \"%.64s\": use [A-Za-z0-9][A-Za-z0-9_.-]*", id);
	return 0;
}
