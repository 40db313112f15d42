#include "ocispec.h"

#include <errno.h>
#include <json-c/json.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/log.h"
#include "specjson.h"

static int opt_string(json_object *o, const char *def, size_t max, char **out, const char *what,
                      husk_err *err)
{
	if (o)
		return dup_string(o, max, out, what, err);
	*out = strdup(def);
	if (!*out)
		return husk_error_set(err, ENOMEM, "%s", what);
	return 0;
}

static int get_id(json_object *o, uint32_t *out, const char *what, husk_err *err)
{
	if (!json_object_is_type(o, json_type_int))
		return husk_error_set(err, 0, "%s: not an integer", what);
	errno = 0;
	int64_t v = json_object_get_int64(o);
	if (errno || v < 0 || v >= UINT32_MAX)
		return husk_error_set(err, 0, "%s: out of range", what);
	*out = (uint32_t)v;
	return 0;
}

static int parse_umask(json_object *o, struct spec_process *p, husk_err *err)
{
	uint32_t v;
	if (get_id(o, &v, "process.user.umask", err) < 0)
		return -1;
	if (v > 0777)
		return husk_error_set(err, 0, "process.user.umask: out of range");
	p->umask = (int)v;
	return 0;
}

static int parse_user(json_object *user, struct spec_process *p, husk_err *err)
{
	json_object *v;
	if (!user)
		return 0;
	if (!json_object_is_type(user, json_type_object))
		return husk_error_set(err, 0, "process.user: not an object");
	if ((v = json_member(user, "uid")) && get_id(v, &p->uid, "process.user.uid", err) < 0)
		return -1;
	if ((v = json_member(user, "gid")) && get_id(v, &p->gid, "process.user.gid", err) < 0)
		return -1;
	if ((v = json_member(user, "umask")) && parse_umask(v, p, err) < 0)
		return -1;
	v = json_member(user, "additionalGids");
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return husk_error_set(err, 0, "process.user.additionalGids: not an array");
	size_t n = json_object_array_length(v);
	if (n > SPEC_MAX_GIDS)
		return husk_error_set(err, 0, "process.user.additionalGids: more than %d entries",
		                      SPEC_MAX_GIDS);
	for (size_t i = 0; i < n; i++)
		if (get_id(json_object_array_get_idx(v, i), &p->gids[i],
		           "process.user.additionalGids", err) < 0)
			return -1;
	p->ngids = n;
	return 0;
}

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimit(json_object *o, struct spec_rlimit *r, husk_err *err)
{
	json_object *type = json_member(o, "type");
	if (!json_object_is_type(o, json_type_object) || !type ||
	    !json_object_is_type(type, json_type_string))
		return husk_error_set(err, 0, "process.rlimits: entry without a type");
	const char *name = json_object_get_string(type);
	size_t i = 0;
	while (i < ARRAY_SIZE(rlimit_names) && strcmp(rlimit_names[i].name, name) != 0)
		i++;
	if (i == ARRAY_SIZE(rlimit_names))
		return husk_error_set(err, 0, "process.rlimits: unknown type %.32s", name);
	r->resource = rlimit_names[i].resource;
	if (get_u64(json_member(o, "soft"), &r->soft, "process.rlimits soft", err) < 0 ||
	    get_u64(json_member(o, "hard"), &r->hard, "process.rlimits hard", err) < 0)
		return -1;
	if (r->soft > r->hard)
		return husk_error_set(err, 0, "process.rlimits %s: soft above hard", name);
	return 0;
}

static int parse_rlimits(json_object *arr, struct spec_process *p, husk_err *err)
{
	if (!arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return husk_error_set(err, 0, "process.rlimits: not an array");
	size_t n = json_object_array_length(arr);
	if (n > SPEC_MAX_RLIMITS)
		return husk_error_set(err, 0, "process.rlimits: more than %d entries",
		                      SPEC_MAX_RLIMITS);
	for (size_t i = 0; i < n; i++)
		if (parse_rlimit(json_object_array_get_idx(arr, i), &p->rlimits[i], err) < 0)
			return -1;
	p->nrlimits = n;
	return 0;
}

#define CAP(name)                                                                                  \
	{                                                                                          \
#name, name                                                                        \
	}
static const struct {
	const char *name;
	int bit;
} cap_names[] = {
    CAP(CAP_CHOWN),
    CAP(CAP_DAC_OVERRIDE),
    CAP(CAP_DAC_READ_SEARCH),
    CAP(CAP_FOWNER),
    CAP(CAP_FSETID),
    CAP(CAP_KILL),
    CAP(CAP_SETGID),
    CAP(CAP_SETUID),
    CAP(CAP_SETPCAP),
    CAP(CAP_LINUX_IMMUTABLE),
    CAP(CAP_NET_BIND_SERVICE),
    CAP(CAP_NET_BROADCAST),
    CAP(CAP_NET_ADMIN),
    CAP(CAP_NET_RAW),
    CAP(CAP_IPC_LOCK),
    CAP(CAP_IPC_OWNER),
    CAP(CAP_SYS_MODULE),
    CAP(CAP_SYS_RAWIO),
    CAP(CAP_SYS_CHROOT),
    CAP(CAP_SYS_PTRACE),
    CAP(CAP_SYS_PACCT),
    CAP(CAP_SYS_ADMIN),
    CAP(CAP_SYS_BOOT),
    CAP(CAP_SYS_NICE),
    CAP(CAP_SYS_RESOURCE),
    CAP(CAP_SYS_TIME),
    CAP(CAP_SYS_TTY_CONFIG),
    CAP(CAP_MKNOD),
    CAP(CAP_LEASE),
    CAP(CAP_AUDIT_WRITE),
    CAP(CAP_AUDIT_CONTROL),
    CAP(CAP_SETFCAP),
    CAP(CAP_MAC_OVERRIDE),
    CAP(CAP_MAC_ADMIN),
    CAP(CAP_SYSLOG),
    CAP(CAP_WAKE_ALARM),
    CAP(CAP_BLOCK_SUSPEND),
    CAP(CAP_AUDIT_READ),
    CAP(CAP_PERFMON),
    CAP(CAP_BPF),
    CAP(CAP_CHECKPOINT_RESTORE),
};

static int parse_cap_set(json_object *arr, uint64_t *mask, const char *what, husk_err *err)
{
	char **names = NULL;
	*mask = 0;
	if (!arr)
		return 0;
	if (string_array(arr, ARRAY_SIZE(cap_names), &names, what, err) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; names[i]; i++) {
		size_t c = 0;
		while (c < ARRAY_SIZE(cap_names) && strcmp(cap_names[c].name, names[i]) != 0)
			c++;
		if (c == ARRAY_SIZE(cap_names) && ret == 0)
			ret =
			    husk_error_set(err, 0, "%s: unknown capability %.32s", what, names[i]);
		else if (c < ARRAY_SIZE(cap_names))
			*mask |= 1ull << cap_names[c].bit;
	}
	free_strv(names);
	return ret;
}

static int parse_caps(json_object *o, struct spec_caps *c, husk_err *err)
{
	if (!o)
		return 0;
	if (!json_object_is_type(o, json_type_object))
		return husk_error_set(err, 0, "process.capabilities: not an object");
	c->present = 1;
	if (parse_cap_set(json_member(o, "bounding"), &c->bounding, "process.capabilities.bounding",
	                  err) < 0 ||
	    parse_cap_set(json_member(o, "effective"), &c->effective,
	                  "process.capabilities.effective", err) < 0 ||
	    parse_cap_set(json_member(o, "inheritable"), &c->inheritable,
	                  "process.capabilities.inheritable", err) < 0 ||
	    parse_cap_set(json_member(o, "permitted"), &c->permitted,
	                  "process.capabilities.permitted", err) < 0 ||
	    parse_cap_set(json_member(o, "ambient"), &c->ambient, "process.capabilities.ambient",
	                  err))
		return -1;
	c->ambient_skipped = c->ambient & ~(c->permitted & c->inheritable);
	c->ambient &= ~c->ambient_skipped;
	return 0;
}

void spec_warn_ambient_skipped(const struct spec_caps *c, const char *what)
{
	char names[1024] = "";
	size_t used = 0;
	if (!c->ambient_skipped)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (c->ambient_skipped & (1ull << cap_names[i].bit) && used < sizeof(names))
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
			                         used ? ", " : "", cap_names[i].name);
	log_warn("%s: process.capabilities.ambient: %s not in the permitted and inheritable sets: "
	         "not raised (as runc)",
	         what, names);
}

static int parse_oom_score_adj(json_object *o, struct spec_process *p, husk_err *err)
{
	if (!o)
		return 0;
	if (!json_object_is_type(o, json_type_int) || json_object_get_int64(o) < -1000 ||
	    json_object_get_int64(o) > 1000)
		return husk_error_set(err, 0, "process.oomScoreAdj: not in [-1000, 1000]");
	p->has_oom_score_adj = 1;
	p->oom_score_adj = (int)json_object_get_int64(o);
	return 0;
}

static int parse_console_size(json_object *o, struct spec_process *p, husk_err *err)
{
	static const char *const keys[] = {"height", "width", NULL};
	unsigned long long rows = 0, cols = 0;
	json_object *v;
	if (!o)
		return 0;
	if (!json_object_is_type(o, json_type_object))
		return husk_error_set(err, 0, "process.consoleSize: not an object");
	if (only_known_keys(o, keys, "process.consoleSize", err) < 0 ||
	    ((v = json_member(o, "height")) &&
	     get_u64(v, &rows, "process.consoleSize.height", err)) ||
	    ((v = json_member(o, "width")) && get_u64(v, &cols, "process.consoleSize.width", err)))
		return -1;
	if (rows > 0xffff || cols > 0xffff)
		return husk_error_set(err, 0, "process.consoleSize: %llux%llu: out of range", cols,
		                      rows);
	p->console_rows = (unsigned)rows;
	p->console_cols = (unsigned)cols;
	return 0;
}

static int check_env(char **env, husk_err *err)
{
	for (size_t i = 0; env[i]; i++) {
		const char *eq = strchr(env[i], '=');
		if (!eq || eq == env[i])
			return husk_error_set(
			    err, 0, "process.env[%zu]: \"%.64s\" is not KEY=VALUE", i, env[i]);
	}
	return 0;
}

/* ioPriority, scheduler and execCPUAffinity are rejected (not supported yet) */
static const char *const process_keys[] = {"terminal",
                                           "consoleSize",
                                           "user",
                                           "args",
                                           "env",
                                           "cwd",
                                           "capabilities",
                                           "rlimits",
                                           "noNewPrivileges",
                                           "apparmorProfile",
                                           "oomScoreAdj",
                                           "selinuxLabel",
                                           NULL};

static int parse_process_object(json_object *proc, struct spec_process *p, husk_err *err)
{
	json_object *v;

	p->umask = -1;
	if (!json_object_is_type(proc, json_type_object))
		return husk_error_set(err, 0, "process: not an object");
	if (parse_bool(json_member(proc, "terminal"), &p->terminal, "process.terminal", err) < 0 ||
	    parse_console_size(json_member(proc, "consoleSize"), p, err) < 0)
		return -1;
	if (!(v = json_member(proc, "args")))
		return husk_error_set(err, 0, "process.args: missing");
	if (string_array(v, SPEC_MAX_ARGS, &p->args, "process.args", err) < 0)
		return -1;
	if (!p->args[0] || !p->args[0][0])
		return husk_error_set(err, 0, "process.args: must not be empty");
	v = json_member(proc, "env");
	if (v && (string_array(v, SPEC_MAX_ENV, &p->env, "process.env", err) < 0 ||
	          check_env(p->env, err) < 0))
		return -1;
	if (!p->env && !(p->env = calloc(1, sizeof(char *))))
		return husk_error_set(err, ENOMEM, "process.env");
	if (opt_string(json_member(proc, "cwd"), "/", SPEC_MAX_PATH, &p->cwd, "process.cwd", err) <
	    0)
		return -1;
	if (check_path(p->cwd, "process.cwd", err) < 0)
		return -1;
	if (parse_bool(json_member(proc, "noNewPrivileges"), &p->no_new_privs,
	               "process.noNewPrivileges", err) < 0)
		return -1;
	if (parse_rlimits(json_member(proc, "rlimits"), p, err) < 0 ||
	    parse_caps(json_member(proc, "capabilities"), &p->caps, err) < 0)
		return -1;
	if (parse_oom_score_adj(json_member(proc, "oomScoreAdj"), p, err) < 0 ||
	    only_known_keys(proc, process_keys, "process", err) < 0)
		return -1;
	p->lsm_fields = json_member(proc, "apparmorProfile") || json_member(proc, "selinuxLabel");
	return parse_user(json_member(proc, "user"), p, err);
}

struct mount_flag {
	const char *name;
	unsigned long set, clear;
};

static const struct mount_flag mount_flags[] = {
    {"ro", MS_RDONLY, 0},         {"rw", 0, MS_RDONLY},
    {"nosuid", MS_NOSUID, 0},     {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},       {"dev", 0, MS_NODEV},
    {"noexec", MS_NOEXEC, 0},     {"exec", 0, MS_NOEXEC},
    {"relatime", MS_RELATIME, 0}, {"strictatime", MS_STRICTATIME, 0},
    {"noatime", MS_NOATIME, 0},   {"nodiratime", MS_NODIRATIME, 0},
    {"sync", MS_SYNCHRONOUS, 0},  {"dirsync", MS_DIRSYNC, 0},
    {"bind", MS_BIND, 0},         {"rbind", MS_BIND | MS_REC, 0},
};

static const struct {
	const char *name;
	unsigned long flags;
} propagation_flags[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static int apply_propagation(const char *opt, unsigned long *propagation)
{
	for (size_t i = 0; i < ARRAY_SIZE(propagation_flags); i++) {
		if (strcmp(opt, propagation_flags[i].name) == 0) {
			*propagation = propagation_flags[i].flags;
			return 1;
		}
	}
	return 0;
}

static int apply_flag(const char *opt, unsigned long *flags)
{
	for (size_t i = 0; i < ARRAY_SIZE(mount_flags); i++) {
		if (strcmp(opt, mount_flags[i].name) == 0) {
			*flags = (*flags | mount_flags[i].set) & ~mount_flags[i].clear;
			return 1;
		}
	}
	return 0;
}

static int append_data(char **data, const char *opt, husk_err *err)
{
	char *joined;
	if (asprintf(&joined, "%s%s%s", *data ? *data : "", *data ? "," : "", opt) < 0)
		return husk_error_set(err, ENOMEM, "mount options");
	free(*data);
	*data = joined;
	if (strlen(joined) > SPEC_MAX_MOUNT_DATA)
		return husk_error_set(err, 0, "options: longer than %d bytes", SPEC_MAX_MOUNT_DATA);
	return 0;
}

static int apply_option(const char *opt, struct spec_mount *m, husk_err *err)
{
	if (apply_flag(opt, &m->flags) || apply_propagation(opt, &m->propagation))
		return 0;
	if (strcmp(opt, "tmpcopyup") == 0) {
		m->copy_up = 1;
		return 0;
	}
	if (strchr(opt, ','))
		return husk_error_set(err, 0, "option %.64s: contains a comma", opt);
	return append_data(&m->data, opt, err);
}

static int parse_mount_options(json_object *opts, struct spec_mount *m, husk_err *err)
{
	cleanup_free char **v = NULL;
	if (!opts)
		return 0;
	if (string_array(opts, SPEC_MAX_MOUNT_OPTIONS, &v, "options", err) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; v[i]; i++) {
		if (ret == 0)
			ret = apply_option(v[i], m, err);
		free(v[i]);
	}
	return ret;
}

/* Filesystem types the agent mounts itself: OCI name -> kernel name. */
static const char *const mount_types[][2] = {
    {"proc", "proc"},     {"sysfs", "sysfs"},    {"tmpfs", "tmpfs"},     {"devpts", "devpts"},
    {"mqueue", "mqueue"}, {"cgroup", "cgroup2"}, {"cgroup2", "cgroup2"},
};

static int resolve_type(struct spec_mount *m, husk_err *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(mount_types); i++) {
		if (strcmp(m->type, mount_types[i][0]) == 0) {
			char *t = strdup(mount_types[i][1]);
			if (!t)
				return husk_error_set(err, ENOMEM, "type");
			free(m->type);
			m->type = t;
			return 0;
		}
	}
	return husk_error_set(err, 0, "type %.64s not supported", m->type);
}

static int parse_mount(json_object *o, struct spec_mount *m, husk_err *err)
{
	json_object *v;
	if (!json_object_is_type(o, json_type_object))
		return husk_error_set(err, 0, "not an object");
	if (!(v = json_member(o, "destination")))
		return husk_error_set(err, 0, "destination missing");
	if (dup_string(v, SPEC_MAX_PATH, &m->destination, "destination", err) < 0)
		return -1;
	if (check_path(m->destination, "destination", err) < 0)
		return -1;
	if (strcmp(m->destination, "/") == 0)
		return husk_error_set(err, 0, "destination /: cannot mount over the root");
	if (opt_string(json_member(o, "source"), "none", SPEC_MAX_PATH, &m->source, "source", err) <
	    0)
		return -1;
	if ((v = json_member(o, "type")) &&
	    dup_string(v, SPEC_MAX_FSTYPE, &m->type, "type", err) < 0)
		return husk_error_prefix(err, "mount %s", m->destination);
	if (parse_mount_options(json_member(o, "options"), m, err) < 0)
		return husk_error_prefix(err, "mount %s", m->destination);
	/* as runc: a bind/rbind option makes a bind mount whatever the type says */
	if (m->type && strcmp(m->type, "bind") == 0)
		m->flags |= MS_BIND;
	if (m->flags & MS_BIND) {
		if (!json_member(o, "source") || !m->source[0])
			return husk_error_set(err, 0, "mount %s: a bind mount needs a source",
			                      m->destination);
		free(m->type);
		m->type = NULL;
		if (m->copy_up)
			return husk_error_set(err, 0, "mount %s: tmpcopyup needs a tmpfs",
			                      m->destination);
		/*
		 * as runc, whose mount(2) with MS_BIND ignores them: file system data (mode=,
		 * size=, ...) means nothing to a bind, which shows its source as it is
		 */
		free(m->data);
		m->data = NULL;
		return 0;
	}
	if (!m->type)
		return husk_error_set(err, 0, "mount %s: type missing", m->destination);
	if (resolve_type(m, err) < 0)
		return husk_error_prefix(err, "mount %s", m->destination);
	if (m->copy_up && strcmp(m->type, "tmpfs") != 0)
		return husk_error_set(err, 0, "mount %s: tmpcopyup needs a tmpfs", m->destination);
	return 0;
}

int spec_share_mount(struct spec *s, uint32_t index, const char *tag, husk_err *err)
{
	if (index >= s->nmounts)
		return husk_error_set(err, 0, "index %u: the spec has %zu mounts", index,
		                      s->nmounts);
	struct spec_mount *m = &s->mounts[index];
	if (!(m->flags & MS_BIND))
		return husk_error_set(err, 0, "mount %s: not a bind mount", m->destination);
	if (m->shared_tag)
		return husk_error_set(err, 0, "mount %s: shared twice", m->destination);
	if (!(m->shared_tag = strdup(tag)))
		return husk_error_set(err, ENOMEM, "shared mount");
	return 0;
}

int spec_check_shared(const struct spec *s, husk_err *err)
{
	for (size_t i = 0; i < s->nmounts; i++)
		if ((s->mounts[i].flags & MS_BIND) && !s->mounts[i].shared_tag)
			return husk_error_set(err, 0,
			                      "mount %s: bind mount without a shared source",
			                      s->mounts[i].destination);
	return 0;
}

static int parse_mounts(json_object *arr, struct spec *s, husk_err *err)
{
	if (!arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return husk_error_set(err, 0, "mounts: not an array");
	size_t n = json_object_array_length(arr);
	if (n > SPEC_MAX_MOUNTS)
		return husk_error_set(err, 0, "mounts: more than %d entries", SPEC_MAX_MOUNTS);
	s->mounts = calloc(n ? n : 1, sizeof(*s->mounts));
	if (!s->mounts)
		return husk_error_set(err, ENOMEM, "mounts");
	for (; s->nmounts < n; s->nmounts++)
		if (parse_mount(json_object_array_get_idx(arr, s->nmounts), &s->mounts[s->nmounts],
		                err) < 0) {
			s->nmounts++; /* so spec_free releases the partial entry */
			return husk_error_prefix(err, "mounts[%zu]", s->nmounts - 1);
		}
	return 0;
}

static int parse_hostname(json_object *o, struct spec *s, husk_err *err)
{
	if (!o)
		return 0;
	if (dup_string(o, SPEC_MAX_HOST, &s->hostname, "hostname", err) < 0)
		return -1;
	if (strchr(s->hostname, '/'))
		return husk_error_set(err, 0, "hostname: contains /");
	return 0;
}

static int parse_path_list(json_object *arr, char ***out, const char *what, husk_err *err)
{
	if (!arr)
		return 0;
	if (string_array(arr, SPEC_MAX_MASKS, out, what, err) < 0)
		return -1;
	for (size_t i = 0; (*out)[i]; i++)
		if (check_path((*out)[i], what, err) < 0)
			return -1;
	return 0;
}

static int parse_linux(json_object *lx, struct spec *s, husk_err *err)
{
	if (!lx)
		return 0;
	if (!json_object_is_type(lx, json_type_object))
		return husk_error_set(err, 0, "linux: not an object");
	if (parse_path_list(json_member(lx, "maskedPaths"), &s->masked_paths, "linux.maskedPaths",
	                    err) < 0 ||
	    parse_linux_isolation(lx, s, err) < 0)
		return -1;
	return parse_path_list(json_member(lx, "readonlyPaths"), &s->readonly_paths,
	                       "linux.readonlyPaths", err);
}

static int parse_domainname(json_object *o, struct spec *s, husk_err *err)
{
	if (!o)
		return 0;
	if (dup_string(o, SPEC_MAX_HOST, &s->domainname, "domainname", err) < 0)
		return -1;
	if (strchr(s->domainname, '/'))
		return husk_error_set(err, 0, "domainname: contains /");
	return 0;
}

static int parse_root(json_object *root, struct spec *s, husk_err *err)
{
	if (!root)
		return 0;
	if (!json_object_is_type(root, json_type_object))
		return husk_error_set(err, 0, "root: not an object");
	return parse_bool(json_member(root, "readonly"), &s->root_readonly, "root.readonly", err);
}

int spec_parse_process(const char *json, size_t len, struct spec_process *out, husk_err *err)
{
	memset(out, 0, sizeof(*out));
	cleanup_json json_object *o = spec_json_parse(json, len, err);
	if (!o)
		return -1;
	int ret = parse_process_object(o, out, err);
	if (ret < 0)
		spec_process_free(out);
	return ret;
}

int spec_parse(const char *json, size_t len, struct spec *out, husk_err *err)
{
	json_object *proc;
	memset(out, 0, sizeof(*out));
	cleanup_json json_object *o = spec_json_parse(json, len, err);
	if (!o)
		return -1;
	int ret = -1;
	if (!(proc = json_member(o, "process")))
		husk_error_set(err, 0, "process: missing");
	else if (parse_process_object(proc, &out->process, err) == 0 &&
	         parse_hostname(json_member(o, "hostname"), out, err) == 0 &&
	         parse_domainname(json_member(o, "domainname"), out, err) == 0 &&
	         parse_root(json_member(o, "root"), out, err) == 0 &&
	         parse_linux(json_member(o, "linux"), out, err) == 0 &&
	         hooks_parse(json_member(o, "hooks"), &out->hooks, err) == 0)
		ret = parse_mounts(json_member(o, "mounts"), out, err);
	if (ret < 0)
		spec_free(out);
	return ret;
}

void spec_process_free(struct spec_process *p)
{
	free_strv(p->args);
	free_strv(p->env);
	free(p->cwd);
	memset(p, 0, sizeof(*p));
}

void spec_free(struct spec *s)
{
	spec_process_free(&s->process);
	free(s->hostname);
	for (size_t i = 0; i < s->nmounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		free(s->mounts[i].data);
		free(s->mounts[i].shared_tag);
	}
	free(s->mounts);
	free_strv(s->masked_paths);
	free_strv(s->readonly_paths);
	free(s->domainname);
	hooks_free(&s->hooks);
	spec_linux_free(s);
	memset(s, 0, sizeof(*s));
}
