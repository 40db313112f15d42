/*
 * The isolation parts of a spec: linux.seccomp, linux.resources (turned into
 * cgroup v2 file writes), linux.sysctl, linux.devices, linux.namespaces and
 * rootfsPropagation. A field the agent cannot honour is an error naming it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "ocispec_linux.h"

#include "lib/cleanup.h"
#include "lib/json.h"
#include "specjson.h"

static int get_s64(json_object *o, int64_t *out, const char *what, husk_err *err)
{
	if (!json_object_is_type(o, json_type_int))
		return husk_error_set(err, 0, "%s: not an integer", what);
	*out = json_object_get_int64(o);
	return 0;
}

static int require_object(json_object *o, const char *what, husk_err *err)
{
	if (!json_object_is_type(o, json_type_object))
		return husk_error_set(err, 0, "%s: not an object", what);
	return 0;
}

/* An array or object that is absent or empty: fields husk cannot honour may be given so. */
static int reject_nonempty(json_object *o, const char *what, const char *why, husk_err *err)
{
	if (!o)
		return 0;
	if (json_object_is_type(o, json_type_array) && json_object_array_length(o) == 0)
		return 0;
	if (json_object_is_type(o, json_type_object) && json_object_object_length(o) == 0)
		return 0;
	return husk_error_set(err, 0, "%s: %s", what, why);
}

/* ---- seccomp ---- */

static const struct {
	const char *name;
	uint32_t action; /* without its errno/trace value */
	int takes_ret;
} seccomp_actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, 0},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, 0},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, 0},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, 0},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), 1},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), 1},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, 0},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, 0},
};

/* action (a name) with its errnoRet (or EPERM, as runc) */
static int parse_action(json_object *name, json_object *ret, uint32_t *out, const char *what,
                        husk_err *err)
{
	unsigned long long v = EPERM;
	if (!name || !json_object_is_type(name, json_type_string))
		return husk_error_set(err, 0, "%s: missing or not a string", what);
	const char *s = json_object_get_string(name);
	size_t i = 0;
	while (i < ARRAY_SIZE(seccomp_actions) && strcmp(seccomp_actions[i].name, s) != 0)
		i++;
	if (i == ARRAY_SIZE(seccomp_actions))
		return husk_error_set(err, 0, "%s: unsupported action %.32s", what, s);
	if (ret && get_u64(ret, &v, what, err) < 0)
		return -1;
	if (v > 0xffff)
		return husk_error_set(err, 0, "%s: errnoRet out of range", what);
	*out = seccomp_actions[i].action | (seccomp_actions[i].takes_ret ? (uint32_t)v : 0);
	return 0;
}

static const char *const seccomp_ops[] = {
    [SCMP_CMP_NE] = "SCMP_CMP_NE",
    [SCMP_CMP_LT] = "SCMP_CMP_LT",
    [SCMP_CMP_LE] = "SCMP_CMP_LE",
    [SCMP_CMP_EQ] = "SCMP_CMP_EQ",
    [SCMP_CMP_GE] = "SCMP_CMP_GE",
    [SCMP_CMP_GT] = "SCMP_CMP_GT",
    [SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static int parse_arg(json_object *o, struct spec_seccomp_arg *a, husk_err *err)
{
	unsigned long long index, value, two = 0;
	json_object *op = json_member(o, "op");
	if (require_object(o, "args", err) < 0 ||
	    get_u64(json_member(o, "index"), &index, "index", err) ||
	    get_u64(json_member(o, "value"), &value, "value", err) < 0 ||
	    (json_member(o, "valueTwo") &&
	     get_u64(json_member(o, "valueTwo"), &two, "valueTwo", err) < 0))
		return -1;
	if (index > 5)
		return husk_error_set(err, 0, "index %llu: above 5", index);
	if (!op || !json_object_is_type(op, json_type_string))
		return husk_error_set(err, 0, "op: missing");
	for (int i = SCMP_CMP_NE; i <= SCMP_CMP_MASKED_EQ; i++)
		if (strcmp(seccomp_ops[i], json_object_get_string(op)) == 0) {
			*a = (struct spec_seccomp_arg){(unsigned)index, value, two, i};
			return 0;
		}
	return husk_error_set(err, 0, "op: unsupported %.32s", json_object_get_string(op));
}

static int parse_args(json_object *arr, struct spec_seccomp_rule *r, husk_err *err)
{
	if (!arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return husk_error_set(err, 0, "args: not an array");
	size_t n = json_object_array_length(arr);
	if (n > SPEC_MAX_SECCOMP_ARGS)
		return husk_error_set(err, 0, "args: more than %d entries", SPEC_MAX_SECCOMP_ARGS);
	for (r->nargs = 0; r->nargs < n; r->nargs++)
		if (parse_arg(json_object_array_get_idx(arr, r->nargs), &r->args[r->nargs], err) <
		    0)
			return husk_error_prefix(err, "args[%zu]", r->nargs);
	return 0;
}

/* Appends name to the comma-joined list of names libseccomp does not know (bounded). */
static void note_unknown(struct spec_seccomp *sc, const char *name)
{
	size_t used = strlen(sc->unknown);
	size_t room = sizeof(sc->unknown) - used;
	if (room > 1)
		snprintf(sc->unknown + used, room, "%s%.64s", used ? ", " : "", name);
}

/* Like runc, names libseccomp does not know (newer syscalls, other arches) are skipped. */
static int resolve_syscalls(char **names, struct spec_seccomp *sc, struct spec_seccomp_rule *r,
                            husk_err *err)
{
	size_t n = 0;
	while (names[n])
		n++;
	if (n == 0)
		return husk_error_set(err, 0, "names: empty");
	if (!(r->syscalls = calloc(n, sizeof(*r->syscalls))))
		return husk_error_set(err, ENOMEM, "names");
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			note_unknown(sc, names[i]);
		else
			r->syscalls[r->nsyscalls++] = nr;
	}
	return 0;
}

static int parse_rule(json_object *o, struct spec_seccomp *sc, struct spec_seccomp_rule *r,
                      husk_err *err)
{
	char **names = NULL;
	json_object *v;
	if (require_object(o, "entry", err) < 0)
		return -1;
	if (!(v = json_member(o, "names")))
		return husk_error_set(err, 0, "names: missing");
	if (string_array(v, SPEC_MAX_NAMES, &names, "names", err) < 0)
		return -1;
	int ret = resolve_syscalls(names, sc, r, err);
	free_strv(names);
	if (ret < 0 ||
	    parse_action(json_member(o, "action"), json_member(o, "errnoRet"), &r->action, "action",
	                 err) ||
	    parse_args(json_member(o, "args"), r, err) < 0)
		return -1;
	return 0;
}

static int parse_arches(json_object *arr, struct spec_seccomp *sc, husk_err *err)
{
	char **v = NULL;
	char name[32];
	if (!arr)
		return 0;
	if (string_array(arr, SPEC_MAX_ARCHES, &v, "architectures", err) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; v[i] && ret == 0; i++) {
		/* OCI spells them SCMP_ARCH_X86_64, libseccomp x86_64 */
		const char *s = strncmp(v[i], "SCMP_ARCH_", 10) == 0 ? v[i] + 10 : "";
		size_t n = 0;
		for (; s[n] && n < sizeof(name) - 1; n++)
			name[n] = (char)(s[n] >= 'A' && s[n] <= 'Z' ? s[n] - 'A' + 'a' : s[n]);
		name[n] = '\0';
		uint32_t arch = n && !s[n] ? seccomp_arch_resolve_name(name) : 0;
		if (!arch)
			ret = husk_error_set(err, 0, "architectures: unknown %.32s", v[i]);
		sc->arches[sc->narches++] = arch;
	}
	free_strv(v);
	return ret;
}

static int parse_seccomp_flags(json_object *arr, struct spec_seccomp *sc, husk_err *err)
{
	char **v = NULL;
	if (!arr)
		return 0;
	if (string_array(arr, SPEC_MAX_SECCOMP_FLAGS, &v, "flags", err) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; v[i] && ret == 0; i++) {
		if (strcmp(v[i], "SECCOMP_FILTER_FLAG_LOG") == 0)
			sc->flag_log = 1;
		else if (strcmp(v[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			sc->flag_spec_allow = 1;
		else if (strcmp(v[i], "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			sc->flag_tsync = 1;
		else
			ret = husk_error_set(err, 0, "flags: unsupported %.48s", v[i]);
	}
	free_strv(v);
	return ret;
}

static int parse_rules(json_object *arr, struct spec_seccomp *sc, husk_err *err)
{
	if (!arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return husk_error_set(err, 0, "syscalls: not an array");
	size_t n = json_object_array_length(arr);
	if (n > SPEC_MAX_RULES)
		return husk_error_set(err, 0, "syscalls: more than %d entries", SPEC_MAX_RULES);
	if (!(sc->rules = calloc(n ? n : 1, sizeof(*sc->rules))))
		return husk_error_set(err, ENOMEM, "syscalls");
	for (; sc->nrules < n; sc->nrules++)
		if (parse_rule(json_object_array_get_idx(arr, sc->nrules), sc,
		               &sc->rules[sc->nrules], err) < 0) {
			sc->nrules++; /* so spec_seccomp_free releases the partial entry */
			return husk_error_prefix(err, "syscalls[%zu]", sc->nrules - 1);
		}
	return 0;
}

static const char *const seccomp_keys[] = {"defaultAction", "defaultErrnoRet", "architectures",
                                           "flags",         "syscalls",        NULL};

static int parse_seccomp(json_object *o, struct spec *s, husk_err *err)
{
	if (!o)
		return 0;
	if (require_object(o, "linux.seccomp", err) < 0 ||
	    only_known_keys(o, seccomp_keys, "linux.seccomp", err) < 0)
		return -1;
	if (!(s->seccomp = calloc(1, sizeof(*s->seccomp))))
		return husk_error_set(err, ENOMEM, "linux.seccomp");
	struct spec_seccomp *sc = s->seccomp;
	if (parse_action(json_member(o, "defaultAction"), json_member(o, "defaultErrnoRet"),
	                 &sc->default_action, "defaultAction", err) < 0 ||
	    parse_arches(json_member(o, "architectures"), sc, err) < 0 ||
	    parse_seccomp_flags(json_member(o, "flags"), sc, err) < 0 ||
	    parse_rules(json_member(o, "syscalls"), sc, err) < 0)
		return husk_error_prefix(err, "linux.seccomp");
	return 0;
}

void spec_seccomp_free(struct spec_seccomp *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->nrules; i++)
		free(sc->rules[i].syscalls);
	free(sc->rules);
	free(sc);
}

/* ---- resources -> cgroup v2 files ---- */

static int add_file(struct spec_resources *r, const char *field, const char *file, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

static int add_file(struct spec_resources *r, const char *field, const char *file, const char *fmt,
                    ...)
{
	if (r->nfiles >= SPEC_MAX_CGFILES)
		return -1;
	struct spec_cgfile *f = &r->files[r->nfiles++];
	va_list ap;
	f->field = field;
	snprintf(f->file, sizeof(f->file), "%s", file);
	va_start(ap, fmt);
	vsnprintf(f->value, sizeof(f->value), fmt, ap);
	va_end(ap);
	return 0;
}

static int too_many(husk_err *err)
{
	return husk_error_set(err, 0, "linux.resources: more than %d settings", SPEC_MAX_CGFILES);
}

/* -1 (or any negative) is "max", as runc writes it */
static int add_limit(struct spec_resources *r, const char *field, const char *file, int64_t v,
                     husk_err *err)
{
	int ret = v < 0 ? add_file(r, field, file, "max")
	                : add_file(r, field, file, "%lld", (long long)v);
	return ret < 0 ? too_many(err) : 0;
}

static const char *const memory_keys[] = {"limit",
                                          "reservation",
                                          "swap",
                                          "kernel",
                                          "kernelTCP",
                                          "swappiness",
                                          "disableOOMKiller",
                                          "useHierarchy",
                                          "checkBeforeUpdate",
                                          NULL};

/* OCI swap is memory+swap; cgroup v2 swap.max is the swap alone (runc's conversion). */
static int add_swap(struct spec_resources *r, json_object *o, int64_t limit, int has_limit,
                    husk_err *err)
{
	int64_t swap = 0;
	if (get_s64(o, &swap, "linux.resources.memory.swap", err) < 0)
		return -1;
	if (swap == 0)
		return 0;
	if (swap < 0)
		return add_limit(r, "linux.resources.memory.swap", "memory.swap.max", -1, err);
	if (!has_limit || limit <= 0)
		return husk_error_set(err, 0, "linux.resources.memory.swap: needs memory.limit");
	if (swap < limit)
		return husk_error_set(err, 0, "linux.resources.memory.swap: below memory.limit");
	return add_limit(r, "linux.resources.memory.swap", "memory.swap.max", swap - limit, err);
}

static int parse_memory(json_object *o, struct spec_resources *r, husk_err *err)
{
	int64_t limit = 0, v = 0;
	int has_limit = 0, flag = 0;
	json_object *x;
	if (require_object(o, "linux.resources.memory", err) < 0 ||
	    only_known_keys(o, memory_keys, "linux.resources.memory", err) < 0)
		return -1;
	if ((x = json_member(o, "limit"))) {
		if (get_s64(x, &limit, "linux.resources.memory.limit", err) < 0 ||
		    add_limit(r, "linux.resources.memory.limit", "memory.max", limit, err) < 0)
			return -1;
		has_limit = 1;
	}
	if ((x = json_member(o, "reservation")) &&
	    (get_s64(x, &v, "linux.resources.memory.reservation", err) < 0 ||
	     add_limit(r, "linux.resources.memory.reservation", "memory.low", v, err) < 0))
		return -1;
	if ((x = json_member(o, "swap")) && add_swap(r, x, limit, has_limit, err) < 0)
		return -1;
	if (json_member(o, "kernel") || json_member(o, "kernelTCP"))
		return husk_error_set(err, 0, "linux.resources.memory.kernel: not in cgroup v2");
	if (json_member(o, "swappiness"))
		return husk_error_set(err, 0,
		                      "linux.resources.memory.swappiness: not in cgroup v2");
	if (parse_bool(json_member(o, "disableOOMKiller"), &flag, "disableOOMKiller", err) < 0)
		return -1;
	if (flag)
		return husk_error_set(err, 0,
		                      "linux.resources.memory.disableOOMKiller: not in cgroup v2");
	return 0;
}

static const char *const cpu_keys[] = {"shares",         "quota", "period", "realtimeRuntime",
                                       "realtimePeriod", "cpus",  "mems",   "idle",
                                       "burst",          NULL};

static int parse_cpuset(json_object *o, struct spec_resources *r, const char *field,
                        const char *file, husk_err *err)
{
	cleanup_free char *v = NULL;
	if (!o)
		return 0;
	if (dup_string(o, SPEC_MAX_CPUSET, &v, field, err) < 0)
		return -1;
	if (strspn(v, "0123456789,-") != strlen(v))
		return husk_error_set(err, 0, "%s: not a cpu/node list", field);
	if (v[0] && add_file(r, field, file, "%s", v) < 0)
		return too_many(err);
	return 0;
}

static int parse_cpu_max(json_object *o, struct spec_resources *r, husk_err *err)
{
	int64_t quota = -1;
	unsigned long long period = 100000;
	json_object *q = json_member(o, "quota"), *p = json_member(o, "period");
	if (!q && !p)
		return 0;
	if ((q && get_s64(q, &quota, "linux.resources.cpu.quota", err) < 0) ||
	    (p && get_u64(p, &period, "linux.resources.cpu.period", err) < 0))
		return -1;
	if (period == 0)
		period = 100000;
	if (period < 1000 || period > 1000000)
		return husk_error_set(err, 0, "linux.resources.cpu.period: out of range");
	int ret = quota > 0
	              ? add_file(r, "linux.resources.cpu.quota", "cpu.max", "%lld %llu",
	                         (long long)quota, period)
	              : add_file(r, "linux.resources.cpu.quota", "cpu.max", "max %llu", period);
	return ret < 0 ? too_many(err) : 0;
}

static int parse_cpu(json_object *o, struct spec_resources *r, husk_err *err)
{
	unsigned long long v;
	json_object *x;
	if (require_object(o, "linux.resources.cpu", err) < 0 ||
	    only_known_keys(o, cpu_keys, "linux.resources.cpu", err) < 0)
		return -1;
	if ((x = json_member(o, "shares"))) {
		if (get_u64(x, &v, "linux.resources.cpu.shares", err) < 0)
			return -1;
		if (v != 0 && (v < 2 || v > 262144))
			return husk_error_set(err, 0, "linux.resources.cpu.shares: out of range");
		/* runc's mapping of shares [2, 262144] onto weight [1, 10000] */
		if (v && add_file(r, "linux.resources.cpu.shares", "cpu.weight", "%llu",
		                  1 + ((v - 2) * 9999) / 262142) < 0)
			return too_many(err);
	}
	if (parse_cpu_max(o, r, err) < 0)
		return -1;
	if ((x = json_member(o, "burst"))) {
		if (get_u64(x, &v, "linux.resources.cpu.burst", err) < 0)
			return -1;
		if (add_file(r, "linux.resources.cpu.burst", "cpu.max.burst", "%llu", v) < 0)
			return too_many(err);
	}
	if ((x = json_member(o, "idle"))) {
		int64_t idle = 0;
		if (get_s64(x, &idle, "linux.resources.cpu.idle", err) < 0)
			return -1;
		if (add_file(r, "linux.resources.cpu.idle", "cpu.idle", "%d", idle != 0) < 0)
			return too_many(err);
	}
	if (json_member(o, "realtimeRuntime") || json_member(o, "realtimePeriod"))
		return husk_error_set(err, 0,
		                      "linux.resources.cpu.realtimeRuntime: not in cgroup v2");
	if (parse_cpuset(json_member(o, "cpus"), r, "linux.resources.cpu.cpus", "cpuset.cpus",
	                 err) < 0)
		return -1;
	return parse_cpuset(json_member(o, "mems"), r, "linux.resources.cpu.mems", "cpuset.mems",
	                    err);
}

static int parse_pids(json_object *o, struct spec_resources *r, husk_err *err)
{
	static const char *const keys[] = {"limit", NULL};
	int64_t v = 0;
	json_object *x;
	if (require_object(o, "linux.resources.pids", err) < 0 ||
	    only_known_keys(o, keys, "linux.resources.pids", err) < 0)
		return -1;
	if (!(x = json_member(o, "limit")))
		return 0;
	if (get_s64(x, &v, "linux.resources.pids.limit", err) < 0)
		return -1;
	return add_limit(r, "linux.resources.pids.limit", "pids.max", v > 0 ? v : -1, err);
}

static int parse_block_io(json_object *o, struct spec_resources *r, husk_err *err)
{
	static const char *const keys[] = {"weight",
	                                   "leafWeight",
	                                   "weightDevice",
	                                   "throttleReadBpsDevice",
	                                   "throttleWriteBpsDevice",
	                                   "throttleReadIOPSDevice",
	                                   "throttleWriteIOPSDevice",
	                                   NULL};
	unsigned long long w;
	json_object *x;
	if (require_object(o, "linux.resources.blockIO", err) < 0 ||
	    only_known_keys(o, keys, "linux.resources.blockIO", err) < 0)
		return -1;
	for (size_t i = 1; keys[i]; i++)
		if (json_member(o, keys[i]) &&
		    reject_nonempty(json_member(o, keys[i]), keys[i],
		                    "per-device I/O settings not supported (the guest has no host "
		                    "block devices)",
		                    err) < 0)
			return husk_error_prefix(err, "linux.resources.blockIO");
	if (!(x = json_member(o, "weight")))
		return 0;
	if (get_u64(x, &w, "linux.resources.blockIO.weight", err) < 0)
		return -1;
	if (w == 0)
		return 0;
	if (w < 10 || w > 1000)
		return husk_error_set(err, 0, "linux.resources.blockIO.weight: out of range");
	/* runc's mapping of blkio weight [10, 1000] onto io.weight [1, 10000] */
	if (add_file(r, "linux.resources.blockIO.weight", "io.weight", "default %llu",
	             1 + ((w - 10) * 9999) / 990) < 0)
		return too_many(err);
	return 0;
}

static int parse_hugepage(json_object *o, struct spec_resources *r, husk_err *err)
{
	cleanup_free char *size = NULL;
	char file[64];
	int64_t limit = 0;
	if (require_object(o, "entry", err) < 0)
		return -1;
	if (!json_member(o, "pageSize"))
		return husk_error_set(err, 0, "pageSize: missing");
	if (dup_string(json_member(o, "pageSize"), 16, &size, "pageSize", err) < 0 ||
	    get_s64(json_member(o, "limit"), &limit, "limit", err) < 0)
		return -1;
	size_t digits = strspn(size, "0123456789");
	if (digits == 0 || !size[digits] || !strchr("KMG", size[digits]) ||
	    strcmp(size + digits + 1, "B") != 0)
		return husk_error_set(err, 0, "pageSize %s: not like 2MB", size);
	snprintf(file, sizeof(file), "hugetlb.%s.max", size);
	return add_limit(r, "linux.resources.hugepageLimits", file, limit, err);
}

static int parse_hugepages(json_object *arr, struct spec_resources *r, husk_err *err)
{
	if (!json_object_is_type(arr, json_type_array))
		return husk_error_set(err, 0, "linux.resources.hugepageLimits: not an array");
	size_t n = json_object_array_length(arr);
	if (n > SPEC_MAX_HUGEPAGES)
		return husk_error_set(err, 0,
		                      "linux.resources.hugepageLimits: more than %d entries",
		                      SPEC_MAX_HUGEPAGES);
	for (size_t i = 0; i < n; i++)
		if (parse_hugepage(json_object_array_get_idx(arr, i), r, err) < 0)
			return husk_error_prefix(err, "linux.resources.hugepageLimits[%zu]", i);
	return 0;
}

/* cgroup v2 file names as linux.resources.unified gives them: "memory.high", no path */
static int valid_cgroup_key(const char *k)
{
	size_t n = strlen(k);
	const char *dot = strchr(k, '.');
	return n > 2 && n < 48 && dot && dot != k && dot[1] &&
	       strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789._") == n &&
	       strncmp(k, "cgroup.", 7) != 0;
}

static int parse_unified(json_object *o, struct spec_resources *r, husk_err *err)
{
	if (require_object(o, "linux.resources.unified", err) < 0)
		return -1;
	json_object_object_foreach(o, key, val)
	{
		if (!valid_cgroup_key(key))
			return husk_error_set(
			    err, 0, "linux.resources.unified.%.48s: not a cgroup file", key);
		const char *v =
		    json_object_is_type(val, json_type_string) ? json_object_get_string(val) : NULL;
		if (!v || strlen(v) >= sizeof(r->files[0].value) || strchr(v, '\n'))
			return husk_error_set(err, 0, "linux.resources.unified.%s: bad value", key);
		if (add_file(r, "linux.resources.unified", key, "%s", v) < 0)
			return too_many(err);
	}
	return 0;
}

/*
 * Allow rules for devices the VM has of its own, under the numbers a host has
 * them: the default nodes (null, zero, full, random, urandom, tty, console,
 * ptmx, pts/N, net/tun), fuse, loop-control and loop devices, and mknod-only
 * rules.
 */
static int rule_is_vm_device(json_object *e)
{
	static const int nodes[][2] = {{1, 3}, {1, 5}, {1, 7},    {1, 8},    {1, 9},   {5, 0},
	                               {5, 1}, {5, 2}, {10, 200}, {10, 229}, {10, 237}};
	json_object *t = json_member(e, "type"), *a = json_member(e, "access");
	json_object *ma = json_member(e, "major"), *mi = json_member(e, "minor");
	const char *access =
	    a && json_object_is_type(a, json_type_string) ? json_object_get_string(a) : "rwm";
	if (strcmp(access, "m") == 0)
		return 1;
	if (!t || !json_object_is_type(t, json_type_string) || !ma ||
	    !json_object_is_type(ma, json_type_int))
		return 0;
	const char *type = json_object_get_string(t);
	int64_t major = json_object_get_int64(ma);
	if (strcmp(type, "b") == 0)
		return major == 7;
	if (strcmp(type, "c") != 0)
		return 0;
	if (major == 136)
		return 1;
	if (!mi || !json_object_is_type(mi, json_type_int))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++)
		if (nodes[i][0] == major && nodes[i][1] == json_object_get_int64(mi))
			return 1;
	return 0;
}

/* "b 8:0", "c 42:*": a rule's device as cgroup v1's devices.allow writes it */
static void describe_rule(json_object *e, char *buf, size_t size)
{
	json_object *t = json_member(e, "type"), *ma = json_member(e, "major"),
	            *mi = json_member(e, "minor");
	const char *type =
	    t && json_object_is_type(t, json_type_string) ? json_object_get_string(t) : "a";
	char major[24] = "*", minor[24] = "*";
	if (ma && json_object_is_type(ma, json_type_int) && json_object_get_int64(ma) >= 0)
		snprintf(major, sizeof(major), "%" PRId64, json_object_get_int64(ma));
	if (mi && json_object_is_type(mi, json_type_int) && json_object_get_int64(mi) >= 0)
		snprintf(minor, sizeof(minor), "%" PRId64, json_object_get_int64(mi));
	snprintf(buf, size, "%.8s %s:%s", type, major, minor);
}

/* A rule's major or minor that matches every number: absent, null or -1 */
static int any_number(json_object *n)
{
	return !n || (json_object_is_type(n, json_type_int) && json_object_get_int64(n) == -1);
}

/* {"allow": true, "access": "rwm"} for every device: what a privileged container asks */
static int rule_allows_all(json_object *e)
{
	json_object *t = json_member(e, "type"), *a = json_member(e, "access");
	const char *access =
	    a && json_object_is_type(a, json_type_string) ? json_object_get_string(a) : "rwm";
	if (t && !(json_object_is_type(t, json_type_string) &&
	           strcmp(json_object_get_string(t), "a") == 0))
		return 0;
	return any_number(json_member(e, "major")) && any_number(json_member(e, "minor")) &&
	       strlen(access) == 3 && strchr(access, 'r') && strchr(access, 'w') &&
	       strchr(access, 'm');
}

static int refuse_host_device(json_object *e, size_t i, husk_err *err)
{
	char dev[64];
	describe_rule(e, dev, sizeof(dev));
	return husk_error_set(err, 0,
	                      "linux.resources.devices[%zu]: %s is a host device: none is "
	                      "passed into the VM (it has its own default nodes, fuse, loop "
	                      "and net/tun)",
	                      i, dev);
}

/*
 * The device allow-list semantics husk gives (the guest has no device
 * controller): the container's /dev holds only the default nodes and
 * linux.devices, whose numbers are the guest kernel's. Deny rules and allow
 * rules for devices the VM has of its own are what that is. An allow rule for
 * every device (privileged) means every device of the VM, and no deny rule may
 * follow it; other allow rules name a host device and are refused.
 */
static int check_device_rules(json_object *arr, husk_err *err)
{
	int all = 0;
	if (!json_object_is_type(arr, json_type_array))
		return husk_error_set(err, 0, "linux.resources.devices: not an array");
	size_t n = json_object_array_length(arr);
	if (n > SPEC_MAX_DEVICE_RULES)
		return husk_error_set(err, 0, "linux.resources.devices: more than %d entries",
		                      SPEC_MAX_DEVICE_RULES);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		int allow = 0;
		if (require_object(e, "linux.resources.devices entry", err) < 0 ||
		    parse_bool(json_member(e, "allow"), &allow, "linux.resources.devices allow",
		               err) < 0)
			return -1;
		if (allow && rule_allows_all(e))
			all = 1;
		else if (allow && !all && !rule_is_vm_device(e))
			return refuse_host_device(e, i, err);
		else if (!allow && all)
			return husk_error_set(err, 0,
			                      "linux.resources.devices[%zu]: a deny rule after "
			                      "allowing every device not supported (the guest "
			                      "has no device controller)",
			                      i);
	}
	return 0;
}

static const char *const resource_keys[] = {"memory",         "cpu",     "pids",    "blockIO",
                                            "hugepageLimits", "unified", "devices", "network",
                                            "rdma",           NULL};

static int parse_resources_object(json_object *o, struct spec_resources *r, husk_err *err)
{
	json_object *x;
	memset(r, 0, sizeof(*r));
	if (require_object(o, "linux.resources", err) < 0 ||
	    only_known_keys(o, resource_keys, "linux.resources", err) < 0)
		return -1;
	if (reject_nonempty(json_member(o, "network"), "linux.resources.network",
	                    "not in cgroup v2 (classID/priorities are v1)", err) < 0 ||
	    reject_nonempty(json_member(o, "rdma"), "linux.resources.rdma", "no RDMA in the guest",
	                    err) < 0)
		return -1;
	if ((x = json_member(o, "memory")) && parse_memory(x, r, err) < 0)
		return -1;
	if ((x = json_member(o, "cpu")) && parse_cpu(x, r, err) < 0)
		return -1;
	if ((x = json_member(o, "pids")) && parse_pids(x, r, err) < 0)
		return -1;
	if ((x = json_member(o, "blockIO")) && parse_block_io(x, r, err) < 0)
		return -1;
	if ((x = json_member(o, "hugepageLimits")) && parse_hugepages(x, r, err) < 0)
		return -1;
	if ((x = json_member(o, "unified")) && parse_unified(x, r, err) < 0)
		return -1;
	if ((x = json_member(o, "devices")) && check_device_rules(x, err) < 0)
		return -1;
	return 0;
}

int spec_parse_resources(const char *json, size_t len, struct spec_resources *out, husk_err *err)
{
	memset(out, 0, sizeof(*out));
	cleanup_json json_object *o = spec_json_parse(json, len, err);
	if (!o)
		return -1;
	return parse_resources_object(o, out, err);
}

/* ---- sysctl ---- */

/* The namespaced sysctls runc allows; net.* because a container gets its own network ns. */
static int sysctl_allowed(const char *k, int net_ns)
{
	static const char *const exact[] = {
	    "kernel.msgmax", "kernel.msgmnb",          "kernel.msgmni",
	    "kernel.sem",    "kernel.shmall",          "kernel.shmmax",
	    "kernel.shmmni", "kernel.shm_rmid_forced", NULL};
	for (size_t i = 0; exact[i]; i++)
		if (strcmp(k, exact[i]) == 0)
			return 1;
	return strncmp(k, "fs.mqueue.", 10) == 0 || (net_ns && strncmp(k, "net.", 4) == 0);
}

static int parse_sysctl(json_object *o, struct spec *s, husk_err *err)
{
	if (!o)
		return 0;
	if (require_object(o, "linux.sysctl", err) < 0)
		return -1;
	json_object_object_foreach(o, key, val)
	{
		size_t n = strlen(key);
		if (n > SPEC_MAX_SYSCTL_KEY)
			return husk_error_set(err, 0, "linux.sysctl %.64s...: longer than %d bytes",
			                      key, SPEC_MAX_SYSCTL_KEY);
		if (n == 0 || strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n ||
		    strstr(key, "..") || key[0] == '.')
			return husk_error_set(err, 0, "linux.sysctl %.64s: not a sysctl name", key);
		if (!sysctl_allowed(key, s->needs_net_ns))
			return husk_error_set(
			    err, 0, "linux.sysctl %s: not namespaced%s", key,
			    strncmp(key, "net.", 4) == 0 ? " without a network namespace" : "");
		if (s->nsysctl >= SPEC_MAX_SYSCTL)
			return husk_error_set(err, 0, "linux.sysctl: more than %d entries",
			                      SPEC_MAX_SYSCTL);
		struct spec_sysctl *e = &s->sysctl[s->nsysctl];
		if (dup_string(val, SPEC_MAX_SYSCTL_VALUE, &e->value, "linux.sysctl value", err) <
		    0)
			return -1;
		if (!(e->key = strdup(key)))
			return husk_error_set(err, ENOMEM, "linux.sysctl");
		s->nsysctl++;
	}
	return 0;
}

/* ---- devices ---- */

static int parse_device(json_object *o, struct spec_device *d, husk_err *err)
{
	cleanup_free char *type = NULL;
	unsigned long long major = 0, minor = 0, mode = 0666;
	json_object *x;
	if (require_object(o, "entry", err) < 0)
		return -1;
	if (!(x = json_member(o, "path")))
		return husk_error_set(err, 0, "path: missing");
	if (dup_string(x, SPEC_MAX_PATH, &d->path, "path", err) < 0)
		return -1;
	if (check_path(d->path, "path", err) < 0)
		return -1;
	if (strncmp(d->path, "/dev/", 5) != 0 || !d->path[5])
		return husk_error_set(err, 0, "path %s: not under /dev", d->path);
	if (!(x = json_member(o, "type")) || dup_string(x, 4, &type, "type", err) < 0)
		return x ? -1 : husk_error_set(err, 0, "type: missing");
	if (strcmp(type, "c") == 0 || strcmp(type, "u") == 0)
		d->type = S_IFCHR;
	else if (strcmp(type, "b") == 0)
		d->type = S_IFBLK;
	else if (strcmp(type, "p") == 0)
		d->type = S_IFIFO;
	else
		return husk_error_set(err, 0, "type %s: not c, b, u or p", type);
	if (d->type != S_IFIFO && (get_u64(json_member(o, "major"), &major, "major", err) < 0 ||
	                           get_u64(json_member(o, "minor"), &minor, "minor", err) < 0))
		return -1;
	if (major > 4095 || minor > 1048575)
		return husk_error_set(err, 0, "major/minor out of range");
	if ((x = json_member(o, "fileMode")) && get_u64(x, &mode, "fileMode", err) < 0)
		return -1;
	if (mode > 07777)
		return husk_error_set(err, 0, "fileMode: out of range");
	d->major = (unsigned)major;
	d->minor = (unsigned)minor;
	d->mode = (unsigned)mode;
	if ((x = json_member(o, "uid"))) {
		if (!json_object_is_type(x, json_type_int) || json_object_get_int64(x) < 0 ||
		    json_object_get_int64(x) >= UINT32_MAX)
			return husk_error_set(err, 0, "uid: out of range");
		d->uid = (uint32_t)json_object_get_int64(x);
	}
	if ((x = json_member(o, "gid"))) {
		if (!json_object_is_type(x, json_type_int) || json_object_get_int64(x) < 0 ||
		    json_object_get_int64(x) >= UINT32_MAX)
			return husk_error_set(err, 0, "gid: out of range");
		d->gid = (uint32_t)json_object_get_int64(x);
	}
	return 0;
}

static int parse_devices(json_object *arr, struct spec *s, husk_err *err)
{
	if (!arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return husk_error_set(err, 0, "linux.devices: not an array");
	size_t n = json_object_array_length(arr);
	if (n > SPEC_MAX_DEVICES)
		return husk_error_set(err, 0, "linux.devices: more than %d entries",
		                      SPEC_MAX_DEVICES);
	if (!(s->devices = calloc(n ? n : 1, sizeof(*s->devices))))
		return husk_error_set(err, ENOMEM, "linux.devices");
	for (; s->ndevices < n; s->ndevices++)
		if (parse_device(json_object_array_get_idx(arr, s->ndevices),
		                 &s->devices[s->ndevices], err) < 0) {
			s->ndevices++;
			return husk_error_prefix(err, "linux.devices[%zu]", s->ndevices - 1);
		}
	return 0;
}

/* ---- namespaces, propagation ---- */

const char *const spec_join_names[JOIN_COUNT] = {"ipc", "uts", "net", "pid"};

/*
 * A joined namespace's path: /proc/<pid>/ns/<name>, name matching the type.
 * The pid names a guest process; the agent joins only a container init's.
 */
static int parse_join_path(json_object *path, const char *type, enum spec_join j, struct spec *s,
                           husk_err *err)
{
	cleanup_free char *p = NULL;
	char tail[8];
	unsigned long pid = 0;
	int used = 0;
	if (dup_string(path, SPEC_MAX_NS_PATH, &p, "linux.namespaces path", err) < 0)
		return husk_error_prefix(err, "linux.namespaces %s", type);
	if (sscanf(p, "/proc/%lu/ns/%7s%n", &pid, tail, &used) != 2 || (size_t)used != strlen(p) ||
	    strcmp(tail, spec_join_names[j]) != 0 || pid == 0 || pid > 4194304 || p[6] < '1' ||
	    p[6] > '9')
		return husk_error_set(err, 0,
		                      "linux.namespaces %s: path %s: not /proc/<pid>/ns/%s of a "
		                      "container in this sandbox",
		                      type, p, spec_join_names[j]);
	if (s->join_pid[j])
		return husk_error_set(err, 0, "linux.namespaces %s: given twice", type);
	s->join_pid[j] = (pid_t)pid;
	return 0;
}

static int parse_namespace(json_object *o, struct spec *s, husk_err *err)
{
	/* the init gets these unless it joins one (pid, ipc, uts) by path */
	static const char *const created[] = {"mount", "cgroup", NULL};
	static const char *const joinable[JOIN_COUNT] = {"ipc", "uts", "network", "pid"};
	json_object *t = json_member(o, "type"), *path = json_member(o, "path");
	if (require_object(o, "linux.namespaces entry", err) < 0 || !t ||
	    !json_object_is_type(t, json_type_string))
		return husk_error_set(err, 0, "linux.namespaces: entry without a type");
	const char *type = json_object_get_string(t);
	if (strcmp(type, "network") == 0)
		s->needs_net_ns = 1;
	for (int j = 0; j < JOIN_COUNT; j++)
		if (strcmp(type, joinable[j]) == 0)
			return path ? parse_join_path(path, type, (enum spec_join)j, s, err) : 0;
	size_t i = 0;
	while (created[i] && strcmp(type, created[i]) != 0)
		i++;
	if (!created[i] && strcmp(type, "user") != 0)
		return husk_error_set(err, 0, "linux.namespaces %.16s: not supported", type);
	if (path)
		return husk_error_set(
		    err, 0, "linux.namespaces %s: joining one by path not supported", type);
	if (!created[i])
		s->userns = 1;
	return 0;
}

static int parse_namespaces(json_object *arr, struct spec *s, husk_err *err)
{
	if (!arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return husk_error_set(err, 0, "linux.namespaces: not an array");
	size_t n = json_object_array_length(arr);
	if (n > SPEC_MAX_NAMESPACES)
		return husk_error_set(err, 0, "linux.namespaces: more than %d entries",
		                      SPEC_MAX_NAMESPACES);
	for (size_t i = 0; i < n; i++)
		if (parse_namespace(json_object_array_get_idx(arr, i), s, err) < 0)
			return -1;
	return 0;
}

/* ---- user namespace: uidMappings, gidMappings ---- */

static int get_u32(json_object *o, uint32_t *out, const char *what, husk_err *err)
{
	unsigned long long v;
	if (!o)
		return husk_error_set(err, 0, "%s: missing", what);
	if (get_u64(o, &v, what, err) < 0)
		return -1;
	if (v > UINT32_MAX)
		return husk_error_set(err, 0, "%s: out of range", what);
	*out = (uint32_t)v;
	return 0;
}

/* The last id of a range; (uint32_t)-1 is no id, so a range must end below it. */
static int range_ok(uint32_t first, uint32_t size)
{
	return size > 0 && (uint64_t)first + size - 1 < UINT32_MAX;
}

static int overlaps(uint32_t a, uint32_t b, uint32_t size_a, uint32_t size_b)
{
	return (uint64_t)a < (uint64_t)b + size_b && (uint64_t)b < (uint64_t)a + size_a;
}

/* What the kernel would refuse in uid_map: empty or wrapping ranges, overlaps on either side. */
static int check_idmap(const struct spec_idmaps *m, size_t i, husk_err *err)
{
	const struct spec_idmap *e = &m->maps[i];
	if (!range_ok(e->container_id, e->size) || !range_ok(e->host_id, e->size))
		return husk_error_set(err, 0, "size %u: empty or past the last id", e->size);
	for (size_t k = 0; k < i; k++) {
		const struct spec_idmap *o = &m->maps[k];
		if (overlaps(e->container_id, o->container_id, e->size, o->size))
			return husk_error_set(err, 0, "containerID %u overlaps [%zu]",
			                      e->container_id, k);
		if (overlaps(e->host_id, o->host_id, e->size, o->size))
			return husk_error_set(err, 0, "hostID %u overlaps [%zu]", e->host_id, k);
	}
	return 0;
}

static int parse_idmap(json_object *o, struct spec_idmap *e, husk_err *err)
{
	static const char *const keys[] = {"containerID", "hostID", "size", NULL};
	if (require_object(o, "entry", err) < 0 || only_known_keys(o, keys, "entry", err) < 0 ||
	    get_u32(json_member(o, "containerID"), &e->container_id, "containerID", err) < 0 ||
	    get_u32(json_member(o, "hostID"), &e->host_id, "hostID", err) < 0 ||
	    get_u32(json_member(o, "size"), &e->size, "size", err) < 0)
		return -1;
	return 0;
}

int spec_idmap_format(const struct spec_idmaps *m, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < m->n; i++) {
		int n = snprintf(buf + used, size - used, "%u %u %u\n", m->maps[i].container_id,
		                 m->maps[i].host_id, m->maps[i].size);
		if (n < 0 || (size_t)n >= size - used)
			return -1;
		used += (size_t)n;
	}
	return (int)used;
}

static int parse_idmaps(json_object *arr, struct spec_idmaps *m, const char *what, husk_err *err)
{
	char text[SPEC_IDMAP_TEXT];
	if (!arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return husk_error_set(err, 0, "%s: not an array", what);
	size_t n = json_object_array_length(arr);
	if (n > SPEC_MAX_IDMAPS)
		return husk_error_set(err, 0, "%s: more than %d entries", what, SPEC_MAX_IDMAPS);
	if (n && !(m->maps = calloc(n, sizeof(*m->maps))))
		return husk_error_set(err, ENOMEM, "%s", what);
	for (; m->n < n; m->n++)
		if (parse_idmap(json_object_array_get_idx(arr, m->n), &m->maps[m->n], err) < 0 ||
		    check_idmap(m, m->n, err) < 0)
			return husk_error_prefix(err, "%s[%zu]", what, m->n);
	if (spec_idmap_format(m, text, sizeof(text)) < 0)
		return husk_error_set(err, 0, "%s: longer than the kernel's %d bytes", what,
		                      SPEC_IDMAP_TEXT);
	return 0;
}

static int mapped(const struct spec_idmaps *m, uint32_t id)
{
	for (size_t i = 0; i < m->n; i++)
		if (id >= m->maps[i].container_id && id - m->maps[i].container_id < m->maps[i].size)
			return 1;
	return 0;
}

int spec_ids_mapped(const struct spec_idmaps *uids, const struct spec_idmaps *gids,
                    const struct spec_process *p, husk_err *err)
{
	if (!mapped(uids, p->uid))
		return husk_error_set(err, 0, "process.user.uid %u: not in linux.uidMappings",
		                      (unsigned)p->uid);
	if (!mapped(gids, p->gid))
		return husk_error_set(err, 0, "process.user.gid %u: not in linux.gidMappings",
		                      (unsigned)p->gid);
	for (size_t i = 0; i < p->ngids; i++)
		if (!mapped(gids, p->gids[i]))
			return husk_error_set(err, 0,
			                      "process.user.additionalGids %u: not in "
			                      "linux.gidMappings",
			                      (unsigned)p->gids[i]);
	return 0;
}

static int check_user_namespace(const struct spec *s, husk_err *err)
{
	if (!s->userns) {
		if (s->uid_maps.n || s->gid_maps.n)
			return husk_error_set(err, 0, "linux.%s: needs a user namespace",
			                      s->uid_maps.n ? "uidMappings" : "gidMappings");
		return 0;
	}
	if (!s->uid_maps.n || !s->gid_maps.n)
		return husk_error_set(err, 0,
		                      "linux.namespaces user: needs linux.uidMappings and "
		                      "linux.gidMappings");
	if (!mapped(&s->uid_maps, 0) || !mapped(&s->gid_maps, 0))
		return husk_error_set(err, 0,
		                      "linux.%s: containerID 0 (the container's root) not mapped",
		                      mapped(&s->uid_maps, 0) ? "gidMappings" : "uidMappings");
	if (spec_ids_mapped(&s->uid_maps, &s->gid_maps, &s->process, err) < 0)
		return -1;
	/* mknod needs CAP_MKNOD in the guest's own user namespace */
	if (s->ndevices)
		return husk_error_set(err, 0, "linux.devices: not supported with a user namespace");
	return 0;
}

static int parse_propagation(json_object *o, struct spec *s, husk_err *err)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} props[] = {
	    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE},       {"slave", MS_SLAVE},
	    {"rslave", MS_SLAVE},          {"shared", MS_SHARED},          {"rshared", MS_SHARED},
	    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE},
	};
	s->rootfs_propagation = MS_PRIVATE;
	if (!o)
		return 0;
	if (!json_object_is_type(o, json_type_string))
		return husk_error_set(err, 0, "linux.rootfsPropagation: not a string");
	for (size_t i = 0; i < ARRAY_SIZE(props); i++)
		if (strcmp(props[i].name, json_object_get_string(o)) == 0) {
			s->rootfs_propagation = props[i].flag;
			return 0;
		}
	return husk_error_set(err, 0, "linux.rootfsPropagation: unknown %.32s",
	                      json_object_get_string(o));
}

static const char *const linux_keys[] = {
    "namespaces", "uidMappings", "gidMappings", "timeOffsets",       "devices",     "cgroupsPath",
    "resources",  "sysctl",      "seccomp",     "rootfsPropagation", "maskedPaths", "readonlyPaths",
    "mountLabel", "personality", "intelRdt",    "memoryPolicy",      NULL};

int parse_linux_isolation(json_object *lx, struct spec *s, husk_err *err)
{
	json_object *x;
	if (only_known_keys(lx, linux_keys, "linux", err) < 0 ||
	    reject_nonempty(json_member(lx, "timeOffsets"), "linux.timeOffsets",
	                    "time namespaces not supported", err) < 0 ||
	    reject_nonempty(json_member(lx, "intelRdt"), "linux.intelRdt", "no RDT in the guest",
	                    err) ||
	    reject_nonempty(json_member(lx, "personality"), "linux.personality", "not supported",
	                    err) ||
	    reject_nonempty(json_member(lx, "memoryPolicy"), "linux.memoryPolicy", "not supported",
	                    err))
		return -1;
	if (json_member(lx, "mountLabel"))
		s->mount_label = 1;
	if (parse_namespaces(json_member(lx, "namespaces"), s, err) < 0 ||
	    parse_propagation(json_member(lx, "rootfsPropagation"), s, err) < 0 ||
	    parse_seccomp(json_member(lx, "seccomp"), s, err) < 0 ||
	    parse_sysctl(json_member(lx, "sysctl"), s, err) < 0 ||
	    parse_devices(json_member(lx, "devices"), s, err) < 0 ||
	    parse_idmaps(json_member(lx, "uidMappings"), &s->uid_maps, "linux.uidMappings", err) <
	        0 ||
	    parse_idmaps(json_member(lx, "gidMappings"), &s->gid_maps, "linux.gidMappings", err) <
	        0 ||
	    check_user_namespace(s, err) < 0)
		return -1;
	if ((x = json_member(lx, "resources")) && parse_resources_object(x, &s->resources, err) < 0)
		return -1;
	return 0;
}

void spec_linux_free(struct spec *s)
{
	spec_seccomp_free(s->seccomp);
	for (size_t i = 0; i < s->nsysctl; i++) {
		free(s->sysctl[i].key);
		free(s->sysctl[i].value);
	}
	for (size_t i = 0; i < s->ndevices; i++)
		free(s->devices[i].path);
	free(s->devices);
	free(s->uid_maps.maps);
	free(s->gid_maps.maps);
}
