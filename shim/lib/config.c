#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/json.h"

#define CONFIG_MAX_DEPTH 8

static const char *const vsock_names[] = {
    [CONFIG_VSOCK_AUTO] = "auto",
    [CONFIG_VSOCK_VHOST] = "vhost",
    [CONFIG_VSOCK_HYBRID] = "hybrid",
};

const char *config_vsock_name(enum config_vsock v)
{
	return (unsigned)v < ARRAY_SIZE(vsock_names) ? vsock_names[v] : "?";
}

/* Result of one key's check: NULL = ok, else what the value must be. */
typedef const char *(*key_setter)(json_object *v, struct husk_config *c);

static const char *take_int(json_object *v, long long lo, long long hi, long long *out)
{
	if (!json_object_is_type(v, json_type_int))
		return "";
	errno = 0;
	long long n = json_object_get_int64(v);
	if (errno || n < lo || n > hi)
		return "";
	*out = n;
	return NULL;
}

/* A string without NULs, at most PATH_MAX - 1 bytes. */
static const char *take_string(json_object *v, const char **out)
{
	if (!json_object_is_type(v, json_type_string))
		return "must be a string";
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len >= PATH_MAX || strlen(s) != len)
		return "must be a non-empty string without NUL bytes, shorter than PATH_MAX";
	*out = s;
	return NULL;
}

static const char *replace(char **field, const char *s)
{
	char *copy = strdup(s);
	if (!copy)
		return "out of memory";
	free(*field);
	*field = copy;
	return NULL;
}

static const char *set_abs_path(json_object *v, char **field)
{
	const char *s;
	if (take_string(v, &s) || s[0] != '/')
		return "must be an absolute path";
	return replace(field, s);
}

/* null keeps the default next to the executable */
static const char *set_default_or_path(json_object *v, char **field)
{
	if (json_object_is_type(v, json_type_null))
		return NULL;
	return set_abs_path(v, field) ? "must be an absolute path or null" : NULL;
}

static const char *set_qemu(json_object *v, struct husk_config *c)
{
	const char *s;
	if (take_string(v, &s) || (s[0] != '/' && strchr(s, '/')))
		return "must be an absolute path or a program name found in PATH";
	return replace(&c->qemu, s);
}

static const char *set_kernel(json_object *v, struct husk_config *c)
{
	return set_default_or_path(v, &c->kernel);
}

static const char *set_initrd(json_object *v, struct husk_config *c)
{
	return set_default_or_path(v, &c->initrd);
}

static const char *set_vsockd(json_object *v, struct husk_config *c)
{
	return set_default_or_path(v, &c->vsockd);
}

static const char *set_virtiofsd(json_object *v, struct husk_config *c)
{
	return set_abs_path(v, &c->virtiofsd);
}

static const char *set_accel(json_object *v, struct husk_config *c)
{
	const char *s;
	if (take_string(v, &s) || accel_parse(s, &c->accel) < 0)
		return "must be one of \"auto\", \"kvm\", \"tcg\"";
	return NULL;
}

static const char *set_vsock(json_object *v, struct husk_config *c)
{
	const char *s;
	if (!take_string(v, &s))
		for (size_t i = 0; i < ARRAY_SIZE(vsock_names); i++)
			if (strcmp(s, vsock_names[i]) == 0) {
				c->vsock = (enum config_vsock)i;
				return NULL;
			}
	return "must be one of \"auto\", \"vhost\", \"hybrid\"";
}

static const char *set_cache(json_object *v, struct husk_config *c)
{
	const char *s;
	if (take_string(v, &s) || virtiofs_cache_parse(s, &c->virtiofs_cache) < 0)
		return "must be one of \"auto\", \"always\", \"none\"";
	return NULL;
}

static const char *set_log_level(json_object *v, struct husk_config *c)
{
	const char *s;
	if (take_string(v, &s) || log_parse_level(s, &c->log_level) < 0)
		return "must be one of \"error\", \"warn\", \"info\", \"debug\"";
	return NULL;
}

static const char *set_debug_console(json_object *v, struct husk_config *c)
{
	if (!json_object_is_type(v, json_type_boolean))
		return "must be true or false";
	c->debug_console = json_object_get_boolean(v);
	return NULL;
}

#define INT_SETTER(name, field, lo, hi, msg)                                                       \
	static const char *name(json_object *v, struct husk_config *c)                             \
	{                                                                                          \
		long long n;                                                                       \
		if (take_int(v, lo, hi, &n))                                                       \
			return msg;                                                                \
		c->field = n;                                                                      \
		return NULL;                                                                       \
	}

INT_SETTER(set_vcpus, vcpus, 1, 64, "must be an integer from 1 to 64")
INT_SETTER(set_memory, memory_mib, 64, 65536, "must be an integer from 64 to 65536")
INT_SETTER(set_cid, guest_cid, 3, 4294967294LL, "must be an integer from 3 to 4294967294")
INT_SETTER(set_boot_concurrency, boot_concurrency, 0, 256, "must be an integer from 0 to 256")
INT_SETTER(set_admission_ms, timeouts.admission_ms, 100, 3600000,
           "must be an integer from 100 to 3600000")
INT_SETTER(set_boot_ms, timeouts.boot_ms, 100, 600000, "must be an integer from 100 to 600000")
INT_SETTER(set_call_ms, timeouts.agent_call_ms, 10, 600000, "must be an integer from 10 to 600000")
INT_SETTER(set_shutdown_ms, timeouts.shutdown_ms, 10, 600000,
           "must be an integer from 10 to 600000")

struct key_rule {
	const char *key;
	key_setter set;                 /* scalar keys */
	const struct key_rule *members; /* object keys */
	size_t nmembers;
};

static const struct key_rule timeout_rules[] = {
    {"admission_ms", set_admission_ms, NULL, 0},
    {"boot_ms", set_boot_ms, NULL, 0},
    {"agent_call_ms", set_call_ms, NULL, 0},
    {"shutdown_ms", set_shutdown_ms, NULL, 0},
};

static const struct key_rule top_rules[] = {
    {"qemu", set_qemu, NULL, 0},
    {"kernel", set_kernel, NULL, 0},
    {"initrd", set_initrd, NULL, 0},
    {"accel", set_accel, NULL, 0},
    {"vcpus", set_vcpus, NULL, 0},
    {"memory_mib", set_memory, NULL, 0},
    {"vsock", set_vsock, NULL, 0},
    {"guest_cid", set_cid, NULL, 0},
    {"virtiofsd", set_virtiofsd, NULL, 0},
    {"virtiofs_cache", set_cache, NULL, 0},
    {"boot_concurrency", set_boot_concurrency, NULL, 0},
    {"timeouts", NULL, timeout_rules, ARRAY_SIZE(timeout_rules)},
    {"log_level", set_log_level, NULL, 0},
    {"vsockd", set_vsockd, NULL, 0},
    {"debug_console", set_debug_console, NULL, 0},
};

/* Applies every key of obj; on a bad one, keypath gets its dotted name ("timeouts.boot_ms"). */
static const char *apply_rules(json_object *obj, const struct key_rule *rules, size_t n,
                               struct husk_config *c, char *keypath, size_t keylen)
{
	size_t base = strlen(keypath);
	json_object_object_foreach(obj, key, val)
	{
		const struct key_rule *rule = NULL;
		for (size_t i = 0; i < n && !rule; i++)
			if (strcmp(key, rules[i].key) == 0)
				rule = &rules[i];
		snprintf(keypath + base, keylen - base, "%s%.64s", base ? "." : "", key);
		for (char *k = keypath + base; *k; k++)
			if ((unsigned char)*k < 0x20 || (unsigned char)*k >= 0x7f)
				*k = '?'; /* the message stays one printable line */
		if (!rule)
			return "unknown key";
		const char *why;
		if (rule->set)
			why = rule->set(val, c);
		else if (!json_object_is_type(val, json_type_object))
			why = "must be an object";
		else
			why = apply_rules(val, rule->members, rule->nmembers, c, keypath, keylen);
		if (why)
			return why;
	}
	keypath[base] = '\0';
	return NULL;
}

static char *path_join(const char *dir, const char *rel)
{
	char *s = NULL;
	return asprintf(&s, "%s/%s", dir, rel) < 0 ? NULL : s;
}

/* First candidate under dir that exists; else the last one (named in later errors). */
static char *first_existing(const char *dir, const char *const *rels, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *p = path_join(dir, rels[i]);
		if (!p || i + 1 == n || access(p, F_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

static int set_defaults(struct husk_config *c, const char *exe_dir, husk_err *err)
{
	cleanup_free char *parent = strdup(exe_dir);
	if (!parent)
		return husk_error_set(err, ENOMEM, "config defaults");
	char *slash = strrchr(parent, '/');
	if (slash)
		*(slash == parent ? slash + 1 : slash) = '\0';
	static const char *const kernels[] = {"guest/vmlinuz", "share/husk/guest/vmlinuz"};
	static const char *const initrds[] = {"guest/initrd.img", "share/husk/guest/initrd.img"};
	cleanup_free char *next_to_exe = path_join(exe_dir, "husk-vsockd");

	memset(c, 0, sizeof(*c));
	c->qemu = strdup("qemu-system-x86_64");
	c->virtiofsd = strdup("/usr/lib/qemu/virtiofsd");
	c->kernel = first_existing(parent, kernels, ARRAY_SIZE(kernels));
	c->initrd = first_existing(parent, initrds, ARRAY_SIZE(initrds));
	c->vsockd = next_to_exe && access(next_to_exe, F_OK) == 0
	                ? strdup(next_to_exe)
	                : path_join(parent, "libexec/husk/husk-vsockd");
	c->source = strdup("built-in defaults");
	c->accel = ACCEL_AUTO;
	c->vcpus = 1;
	c->memory_mib = 256;
	c->vsock = CONFIG_VSOCK_AUTO;
	c->guest_cid = 3;
	c->virtiofs_cache = VIRTIOFS_CACHE_AUTO;
	c->timeouts.admission_ms = 300000;
	c->timeouts.boot_ms = 15000;
	c->timeouts.agent_call_ms = 10000;
	c->timeouts.shutdown_ms = 5000;
	c->log_level = LOG_LEVEL_WARN;
	if (!c->qemu || !c->virtiofsd || !c->kernel || !c->initrd || !c->vsockd || !c->source) {
		config_free(c);
		return husk_error_set(err, ENOMEM, "config defaults");
	}
	return 0;
}

int config_parse(const char *name, const char *text, size_t len, const char *exe_dir,
                 struct husk_config *out, husk_err *err)
{
	cleanup_json json_object *obj =
	    json_parse_object(text, len, CONFIG_MAX_SIZE, CONFIG_MAX_DEPTH, err);
	if (!obj)
		return husk_error_prefix(err, "config %s", name);
	if (set_defaults(out, exe_dir, err) < 0)
		return -1;
	char key[160] = "";
	const char *why = apply_rules(obj, top_rules, ARRAY_SIZE(top_rules), out, key, sizeof(key));
	if (why) {
		husk_error_set(err, 0, "config %s: key \"%s\": %s", name, key, why);
		config_free(out);
		return -1;
	}
	char *src = strdup(name);
	if (!src) {
		config_free(out);
		return husk_error_set(err, ENOMEM, "config %s", name);
	}
	free(out->source);
	out->source = src;
	return 0;
}

/* Reads a regular file of at most CONFIG_MAX_SIZE bytes into a malloc'd buffer. */
static char *read_config_file(const char *path, size_t *len, husk_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		husk_error_set(err, errno, "config %s", path);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		husk_error_set(err, 0, "config %s: not a regular file", path);
		return NULL;
	}
	cleanup_free char *buf = malloc(CONFIG_MAX_SIZE + 1);
	size_t have = 0;
	ssize_t n = 0;
	while (buf && have <= CONFIG_MAX_SIZE &&
	       (n = read(fd, buf + have, CONFIG_MAX_SIZE + 1 - have)) > 0)
		have += (size_t)n;
	if (!buf || n < 0) {
		husk_error_set(err, buf ? errno : ENOMEM, "config %s", path);
		return NULL;
	}
	if (have > CONFIG_MAX_SIZE) {
		husk_error_set(err, EFBIG, "config %s: larger than %d bytes", path,
		               CONFIG_MAX_SIZE);
		return NULL;
	}
	*len = have;
	return move_ptr(buf);
}

static int exe_dir(char *buf, size_t len, husk_err *err)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	if (n < 0)
		return husk_error_set(err, errno, "readlink /proc/self/exe");
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (!slash)
		return husk_error_set(err, EINVAL, "executable path %s", buf);
	*(slash == buf ? slash + 1 : slash) = '\0';
	return 0;
}

int config_load(const char *path_or_null, struct husk_config *out, husk_err *err)
{
	char dir[PATH_MAX];
	if (exe_dir(dir, sizeof(dir), err) < 0)
		return -1;
	const char *path = path_or_null;
	if (!path && getenv("HUSK_CONFIG") && getenv("HUSK_CONFIG")[0])
		path = getenv("HUSK_CONFIG");
	if (!path && access(CONFIG_SYSTEM_PATH, F_OK) == 0)
		path = CONFIG_SYSTEM_PATH;
	if (!path)
		return config_parse("built-in defaults", "{}", 2, dir, out, err);
	size_t len;
	cleanup_free char *text = read_config_file(path, &len, err);
	if (!text)
		return -1;
	return config_parse(path, text, len, dir, out, err);
}

void config_free(struct husk_config *c)
{
	free(c->source);
	free(c->qemu);
	free(c->kernel);
	free(c->initrd);
	free(c->virtiofsd);
	free(c->vsockd);
	memset(c, 0, sizeof(*c));
}
