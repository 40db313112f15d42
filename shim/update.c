/*
 * husk update: a linux.resources object from --resources FILE (or - for
 * stdin) and/or runc's limit flags, checked for shape on the host
 * (resources.h), then UpdateContainer: the agent writes it into the
 * container's cgroup. The VM keeps the size it was booted with.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/lib/attach.h"
#include "lib/cleanup.h"
#include "husk.h"
#include "shim/lib/resources.h"

enum value_kind { V_INT, V_BYTES, V_STRING };

struct limit_flag {
	const char *name, *section, *key;
	enum value_kind kind;
};

static const struct limit_flag limit_flags[] = {
    {"memory", "memory", "limit", V_BYTES},
    {"memory-reservation", "memory", "reservation", V_BYTES},
    {"memory-swap", "memory", "swap", V_BYTES},
    {"pids-limit", "pids", "limit", V_INT},
    {"cpu-quota", "cpu", "quota", V_INT},
    {"cpu-period", "cpu", "period", V_INT},
    {"cpu-shares", "cpu", "shares", V_INT},
    {"cpuset-cpus", "cpu", "cpus", V_STRING},
    {"cpuset-mems", "cpu", "mems", V_STRING},
};
#define FLAG_BASE 256

static void usage(FILE *f)
{
	fprintf(f, "usage: husk update [--resources FILE|-] [--memory BYTES] [--memory-reservation "
	           "BYTES] [--memory-swap BYTES] [--pids-limit N] [--cpu-quota N] [--cpu-period N] "
	           "[--cpu-shares N] [--cpuset-cpus LIST] [--cpuset-mems LIST] ID\n");
}

/* At most RESOURCES_MAX_BYTES of path, or of stdin for "-". */
static char *read_resources(const char *path, size_t *len, husk_err *err)
{
	cleanup_close int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) : -1;
	int in = strcmp(path, "-") ? fd : STDIN_FILENO;
	cleanup_free char *buf = malloc(RESOURCES_MAX_BYTES + 1);
	size_t n = 0;
	ssize_t r = 0;
	if (in < 0 || !buf) {
		husk_error_set(err, in < 0 ? errno : ENOMEM, "%s", path);
		return NULL;
	}
	while (
	    n <= RESOURCES_MAX_BYTES &&
	    ((r = read(in, buf + n, RESOURCES_MAX_BYTES + 1 - n)) > 0 || (r < 0 && errno == EINTR)))
		n += r > 0 ? (size_t)r : 0;
	if (r < 0) {
		husk_error_set(err, errno, "%s", path);
		return NULL;
	}
	if (n > RESOURCES_MAX_BYTES) {
		husk_error_set(err, 0, "%s: larger than %u bytes", path, RESOURCES_MAX_BYTES);
		return NULL;
	}
	*len = n;
	return move_ptr(buf);
}

/* "123", "-1", or for bytes also "64k", "64m", "1g", "1t" (binary, an optional "b"). */
static int parse_value(const char *s, enum value_kind kind, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || end == s || errno)
		return -1;
	if (kind == V_BYTES && *end) {
		const char *units = "kmgt";
		const char *u = strchr(units, *end | 0x20);
		if (!u || v < 0)
			return -1;
		for (const char *p = units; p <= u; p++) {
			if (v > LLONG_MAX / 1024)
				return -1;
			v *= 1024;
		}
		end++;
		if ((*end | 0x20) == 'b')
			end++;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static json_object *section(json_object *res, const char *name)
{
	json_object *s = NULL;
	if (!json_object_object_get_ex(res, name, &s)) {
		s = json_object_new_object();
		json_object_object_add(res, name, s);
	}
	return s;
}

static int apply_flag(json_object *res, const struct limit_flag *f, const char *value,
                      husk_err *err)
{
	long long v = 0;
	if (f->kind != V_STRING && parse_value(value, f->kind, &v) < 0)
		return husk_error_set(err, 0, "--%s %s: not %s", f->name, value,
		                      f->kind == V_BYTES ? "a size in bytes" : "an integer");
	/* a parsed --resources has objects for these sections (resources_check) */
	json_object_object_add(section(res, f->section), f->key,
	                       f->kind == V_STRING ? json_object_new_string(value)
	                                           : json_object_new_int64(v));
	return 0;
}

static int send_update(const struct husk_globals *g, const char *id, json_object *res,
                       husk_err *err)
{
	Husk__Agent__V1__UpdateContainerRequest req =
	    HUSK__AGENT__V1__UPDATE_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	struct attach_session s;
	struct resource_limits ignored;
	if (resources_check(res, "linux.resources", &ignored, err) < 0 ||
	    attach_open(&s, g->root, id, err) < 0)
		return -1;
	const char *text = json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN);
	req.container_id = (char *)id;
	req.resources_json.data = (uint8_t *)text;
	req.resources_json.len = strlen(text);
	int r = agent_client_call_sync(s.agent, "UpdateContainer", &req.base,
	                               &husk__agent__v1__empty__descriptor,
	                               (int)s.cfg.timeouts.agent_call_ms, &resp, err);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	attach_close(&s);
	return r;
}

int cmd_update(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	struct option opts[ARRAY_SIZE(limit_flags) + 3] = {
	    {"resources", required_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'}};
	const char *values[ARRAY_SIZE(limit_flags)] = {0}, *file = NULL;
	bool any = false;
	int c;
	for (size_t i = 0; i < ARRAY_SIZE(limit_flags); i++)
		opts[i + 2] = (struct option){limit_flags[i].name, required_argument, NULL,
		                              FLAG_BASE + (int)i};
	while ((c = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
		if (c == 'r') {
			file = optarg;
		} else if (c >= FLAG_BASE && c < FLAG_BASE + (int)ARRAY_SIZE(limit_flags)) {
			values[c - FLAG_BASE] = optarg;
			any = true;
		} else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1 || (!file && !any))
		return verb_usage('?', usage);
	const char *id = argv[optind];
	json_object *res = NULL;
	size_t len;
	if (container_id_check(id, err) < 0)
		goto fail;
	if (file) {
		cleanup_free char *buf = read_resources(file, &len, err);
		if (!buf || resources_parse(buf, len, &res, err) < 0) {
			husk_error_prefix(err, "--resources");
			goto fail;
		}
	} else {
		res = json_object_new_object();
	}
	for (size_t i = 0; i < ARRAY_SIZE(limit_flags); i++)
		if (values[i] && apply_flag(res, &limit_flags[i], values[i], err) < 0)
			goto fail;
	if (send_update(g, id, res, err) == 0) {
		json_object_put(res);
		return 0;
	}
fail:
	json_object_put(res);
	husk_error_prefix(err, "update %s", id);
	return 1;
}
