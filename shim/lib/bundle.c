#include "bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/json.h"
#include "oci/ocispec.h"
#include "oci/specjson.h"

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

/* obj's member key: a non-empty string. */
static const char *required_string(json_object *obj, const char *key, const char *field,
                                   husk_err *err)
{
	json_object *v = json_member(obj, key);
	const char *s = plain_string(v);
	if (!v)
		husk_error_set(err, 0, "%s: missing", field);
	else if (!s)
		husk_error_set(err, 0, "%s: must be a string", field);
	else if (!s[0])
		husk_error_set(err, 0, "%s: must not be empty", field);
	return s && s[0] ? s : NULL;
}

static int note_root(json_object *spec, struct bundle *b, husk_err *err)
{
	json_object *root = json_member(spec, "root");
	if (!root)
		return husk_error_set(err, 0, "root: missing");
	if (!json_object_is_type(root, json_type_object))
		return husk_error_set(err, 0, "root: must be an object");
	const char *path = required_string(root, "path", "root.path", err);
	if (!path)
		return -1;
	if (strlen(path) >= PATH_MAX)
		return husk_error_set(err, 0, "root.path: too long");
	if (!(b->root_path = strdup(path)))
		return husk_error_set(err, ENOMEM, "root.path");
	return 0;
}

/* config.md: values MUST be strings (runc's decoding refuses others too); keys are free */
static int note_annotations(json_object *spec, struct bundle *b, husk_err *err)
{
	json_object *a = json_member(spec, "annotations");
	if (!a)
		return 0;
	if (!json_object_is_type(a, json_type_object))
		return husk_error_set(err, 0, "annotations: must be an object");
	json_object_object_foreach(a, key, value)
	{
		if (!json_object_is_type(value, json_type_string))
			return husk_error_set(err, 0, "annotations.%.64s: must be a string", key);
	}
	b->annotations = json_object_get(a);
	return 0;
}

static json_object *namespaces(json_object *spec)
{
	json_object *nss = json_member(json_member(spec, "linux"), "namespaces");
	return json_object_is_type(nss, json_type_array) ? nss : NULL;
}

static bool is_network(json_object *ns)
{
	const char *type = plain_string(json_member(ns, "type"));
	return type && !strcmp(type, "network");
}

/*
 * Notes the network namespace and the first other namespace to join; bundle_check checks the
 * entries in full.
 */
static int note_namespaces(json_object *spec, struct bundle *b, husk_err *err)
{
	json_object *nss = namespaces(spec);
	for (size_t i = 0; nss && i < json_object_array_length(nss); i++) {
		json_object *ns = json_object_array_get_idx(nss, i);
		const char *type = plain_string(json_member(ns, "type"));
		const char *path = plain_string(json_member(ns, "path"));
		if (type && !strcmp(type, "pid"))
			b->pid_ns = true;
		else if (type && !strcmp(type, "ipc"))
			b->ipc_ns = true;
		else if (type && !strcmp(type, "uts"))
			b->uts_ns = true;
		if (is_network(ns) && !b->net_ns) {
			b->net_ns = true;
			if (path && !(b->net_path = strndup(path, 256)))
				return husk_error_set(err, ENOMEM, "linux.namespaces");
		} else if (path && !b->join_type && !is_network(ns)) {
			if (!(b->join_type = strndup(type ? type : "?", 16)) ||
			    !(b->join_path = strndup(path, 256)))
				return husk_error_set(err, ENOMEM, "linux.namespaces");
		}
	}
	return 0;
}

int bundle_parse(const char *buf, size_t len, struct bundle *b, husk_err *err)
{
	*b = (struct bundle){0};
	cleanup_json json_object *root = spec_json_parse(buf, len, err);
	if (!root)
		return -1;
	if (!required_string(root, "ociVersion", "ociVersion", err) ||
	    note_root(root, b, err) < 0 || note_namespaces(root, b, err) < 0 ||
	    note_annotations(root, b, err) < 0) {
		bundle_free(b);
		return -1;
	}
	if (!(b->json = strndup(buf, len))) {
		bundle_free(b);
		return husk_error_set(err, ENOMEM, "config.json");
	}
	b->json_len = len;
	return 0;
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

int bundle_read_file(const char *path, size_t max, char **buf, size_t *len, husk_err *err)
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

int bundle_load(const char *dir, struct bundle *b, char **rootfs, husk_err *err)
{
	cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t len = 0;

	*b = (struct bundle){0};
	if (dirfd < 0)
		return husk_error_set(err, errno, "bundle %s", dir);
	if (read_bounded(dirfd, "config.json", SPEC_MAX_JSON, &buf, &len, err) < 0)
		return husk_error_prefix(err, "bundle %s", dir);
	if (bundle_parse(buf, len, b, err) == 0 && !(b->dir = strdup(dir)))
		husk_error_set(err, ENOMEM, "bundle");
	if (!b->dir || resolve_rootfs(dir, b->root_path, rootfs, err) < 0) {
		bundle_free(b);
		husk_error_prefix(err, "config.json");
		return husk_error_prefix(err, "bundle %s", dir);
	}
	return 0;
}

/* A bind mount's source as the host shares it: relative ones are the bundle's. */
static char *bind_source(const char *dir, const char *source, husk_err *err)
{
	cleanup_free char *abs_dir = NULL;
	char *abs = NULL;
	if (source[0] != '/' && dir && !(abs_dir = realpath(dir, NULL))) {
		husk_error_set(err, errno, "bundle %s", dir);
		return NULL;
	}
	if (abs_dir ? asprintf(&abs, "%s/%s", abs_dir, source) < 0 : !(abs = strdup(source))) {
		husk_error_set(err, ENOMEM, "%s", source);
		return NULL;
	}
	return abs;
}

static int note_binds(const struct spec *s, struct bundle *b, husk_err *err)
{
	if (s->nmounts && !(b->binds = calloc(s->nmounts, sizeof(*b->binds))))
		return husk_error_set(err, ENOMEM, "mounts");
	for (size_t i = 0; i < s->nmounts; i++) {
		const struct spec_mount *m = &s->mounts[i];
		if (!(m->flags & MS_BIND))
			continue;
		struct bundle_bind *bb = &b->binds[b->nbinds++];
		*bb = (struct bundle_bind){.index = (uint32_t)i,
		                           .recursive = m->flags & MS_REC,
		                           .readonly = m->flags & MS_RDONLY,
		                           .private_ = m->propagation & MS_PRIVATE};
		if (!(bb->destination = strdup(m->destination)))
			return husk_error_set(err, ENOMEM, "mounts[%zu]", i);
		if (!(bb->source = bind_source(b->dir, m->source, err)))
			return husk_error_prefix(err, "mounts[%zu].source", i);
	}
	return 0;
}

int bundle_check(struct bundle *b, husk_err *err)
{
	struct spec s;
	int ret = spec_parse(b->json, b->json_len, &s, err);
	if (ret == 0) {
		spec_warn_ambient_skipped(&s.process.caps, "config.json");
		b->terminal = s.process.terminal;
		b->root_readonly = s.root_readonly;
		ret = note_binds(&s, b, err);
		spec_free(&s);
	}
	if (ret < 0 && b->dir) {
		husk_error_prefix(err, "config.json");
		husk_error_prefix(err, "bundle %s", b->dir);
	}
	return ret;
}

int bundle_ns_check(const struct bundle *b, husk_err *err)
{
	const struct {
		bool has;
		const char *type, *shared;
	} need[] = {{b->net_ns, "network", "network"},
	            {b->pid_ns, "pid", "processes"},
	            {b->ipc_ns, "ipc", "IPC"},
	            {b->uts_ns, "uts", "hostname"}};
	for (size_t i = 0; i < ARRAY_SIZE(need); i++)
		if (!need[i].has)
			return husk_error_set(
			    err, 0,
			    "linux.namespaces: no %s namespace: a VM cannot share "
			    "the host's %s",
			    need[i].type, need[i].shared);
	return 0;
}

int bundle_set_json(struct bundle *b, json_object *root, husk_err *err)
{
	size_t len;
	const char *text = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN, &len);
	char *copy = text ? strndup(text, len) : NULL;
	if (!copy)
		return husk_error_set(err, ENOMEM, "config.json");
	free(b->json);
	b->json = copy;
	b->json_len = len;
	return 0;
}

int bundle_drop_net_path(struct bundle *b, husk_err *err)
{
	cleanup_json json_object *root = spec_json_parse(b->json, b->json_len, err);
	if (!root)
		return husk_error_prefix(err, "config.json");
	json_object *nss = namespaces(root);
	for (size_t i = 0; nss && i < json_object_array_length(nss); i++) {
		json_object *ns = json_object_array_get_idx(nss, i);
		if (is_network(ns) && json_member(ns, "path")) {
			json_object_object_del(ns, "path");
			return bundle_set_json(b, root, err);
		}
	}
	return 0;
}

void bundle_free(struct bundle *b)
{
	free(b->dir);
	free(b->json);
	free(b->root_path);
	for (size_t i = 0; i < b->nbinds; i++) {
		free(b->binds[i].destination);
		free(b->binds[i].source);
	}
	free(b->binds);
	free(b->join_type);
	free(b->join_path);
	free(b->net_path);
	json_object_put(b->annotations);
	*b = (struct bundle){0};
}

static bool id_char_ok(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '_' || c == '.' || c == '-');
}

int container_id_check(const char *id, husk_err *err)
{
	size_t n = strnlen(id, SPEC_MAX_ID + 1);
	if (n == 0)
		return husk_error_set(err, 0, "container id must not be empty");
	if (n > SPEC_MAX_ID)
		return husk_error_set(err, 0, "container id longer than %d bytes", SPEC_MAX_ID);
	for (size_t i = 0; i < n; i++)
		if (!id_char_ok(id[i], i == 0))
			return husk_error_set(
			    err, 0,
			    "invalid container id \"%.64s\": use [A-Za-z0-9][A-Za-z0-9_.-]*", id);
	return 0;
}
