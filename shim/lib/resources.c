#include "resources.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/json.h"
#include "oci/limits.h"
#include "oci/specjson.h"
#include "oci/ocispec.h"

enum kind { K_INT, K_UINT, K_BOOL, K_STRING, K_OBJECT, K_ARRAY };

struct key {
	const char *name;
	enum kind kind;
};

static const struct key top_keys[] = {
    {"devices", K_ARRAY},  {"memory", K_OBJECT},  {"cpu", K_OBJECT},
    {"pids", K_OBJECT},    {"blockIO", K_OBJECT}, {"hugepageLimits", K_ARRAY},
    {"network", K_OBJECT}, {"rdma", K_OBJECT},    {"unified", K_OBJECT},
};
static const struct key memory_keys[] = {
    {"limit", K_INT},
    {"reservation", K_INT},
    {"swap", K_INT},
    {"kernel", K_INT},
    {"kernelTCP", K_INT},
    {"swappiness", K_UINT},
    {"disableOOMKiller", K_BOOL},
    {"useHierarchy", K_BOOL},
    {"checkBeforeUpdate", K_BOOL},
};
static const struct key cpu_keys[] = {
    {"shares", K_UINT}, {"quota", K_INT},           {"burst", K_UINT},
    {"period", K_UINT}, {"realtimeRuntime", K_INT}, {"realtimePeriod", K_UINT},
    {"cpus", K_STRING}, {"mems", K_STRING},         {"idle", K_INT},
};
static const struct key pids_keys[] = {{"limit", K_INT}};

static const char *const kind_names[] = {
    "an integer", "a non-negative integer", "a boolean", "a string", "an object", "an array"};

static bool has_kind(json_object *v, enum kind k)
{
	switch (k) {
	case K_INT:
		return json_object_is_type(v, json_type_int);
	case K_UINT:
		return json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0;
	case K_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case K_STRING:
		return json_object_is_type(v, json_type_string) &&
		       strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
	case K_OBJECT:
		return json_object_is_type(v, json_type_object);
	case K_ARRAY:
		return json_object_is_type(v, json_type_array);
	}
	return false;
}

/* Every member of the object o is one of keys, of its kind. */
static int check_members(json_object *o, const char *field, const struct key *keys, size_t n,
                         husk_err *err)
{
	if (!json_object_is_type(o, json_type_object))
		return husk_error_set(err, 0, "%s: must be an object", field);
	json_object_object_foreach(o, name, v)
	{
		size_t i = 0;
		while (i < n && strcmp(keys[i].name, name))
			i++;
		if (i == n)
			return husk_error_set(err, 0, "%s.%.64s: unknown field", field, name);
		if (!has_kind(v, keys[i].kind))
			return husk_error_set(err, 0, "%s.%s: must be %s", field, name,
			                      kind_names[keys[i].kind]);
	}
	return 0;
}

static int check_array_of_objects(json_object *a, const char *field, husk_err *err)
{
	size_t n = a ? json_object_array_length(a) : 0;
	for (size_t i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(a, i), json_type_object))
			return husk_error_set(err, 0, "%s[%zu]: must be an object", field, i);
	return 0;
}

static int check_unified(json_object *u, const char *field, husk_err *err)
{
	if (!u)
		return 0;
	json_object_object_foreach(u, name, v)
	{
		if (!has_kind(v, K_STRING))
			return husk_error_set(err, 0, "%s.unified.%.64s: must be a string", field,
			                      name);
	}
	return 0;
}

/* "0-3,6": the highest CPU + 1, or 0 for ""; -1 when it is not a CPU list. */
static int cpuset_span(const char *s)
{
	int top = -1;
	while (*s) {
		char *end;
		if (*s < '0' || *s > '9')
			return -1;
		long lo = strtol(s, &end, 10), hi = lo;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return -1;
			hi = strtol(end + 1, &end, 10);
		}
		if (lo > hi || hi >= RESOURCES_MAX_CPUS)
			return -1;
		top = hi > top ? (int)hi : top;
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return -1;
		s = end;
	}
	return top + 1;
}

static int64_t int_json_member(json_object *o, const char *key)
{
	json_object *v = json_member(o, key);
	return v ? json_object_get_int64(v) : 0;
}

static int read_limits(json_object *o, const char *field, struct resource_limits *out,
                       husk_err *err)
{
	json_object *mem = json_member(o, "memory"), *cpu = json_member(o, "cpu");
	*out = (struct resource_limits){0};
	json_object *pids = json_member(o, "pids");
	if (mem)
		out->memory_limit = int_json_member(mem, "limit");
	if (pids)
		out->pids_limit = int_json_member(pids, "limit");
	if (!cpu)
		return 0;
	out->cpu_quota = int_json_member(cpu, "quota");
	json_object *period = json_member(cpu, "period"), *cpus = json_member(cpu, "cpus");
	json_object *shares = json_member(cpu, "shares"), *mems = json_member(cpu, "mems");
	out->cpu_period = period ? json_object_get_uint64(period) : 0;
	out->cpu_shares = shares ? json_object_get_uint64(shares) : 0;
	if (mems && json_object_get_string_len(mems) > SPEC_MAX_CPUSET)
		return husk_error_set(err, 0, "%s.cpu.mems: longer than %d bytes", field,
		                      SPEC_MAX_CPUSET);
	if (mems)
		snprintf(out->mems, sizeof(out->mems), "%s", json_object_get_string(mems));
	if (!cpus)
		return 0;
	if (json_object_get_string_len(cpus) > SPEC_MAX_CPUSET)
		return husk_error_set(err, 0, "%s.cpu.cpus: longer than %d bytes", field,
		                      SPEC_MAX_CPUSET);
	snprintf(out->cpus, sizeof(out->cpus), "%s", json_object_get_string(cpus));
	int span = cpuset_span(json_object_get_string(cpus));
	if (span < 0)
		return husk_error_set(err, 0, "%s.cpu.cpus: \"%.64s\" is not a list of CPUs 0..%d",
		                      field, json_object_get_string(cpus), RESOURCES_MAX_CPUS - 1);
	out->cpuset_vcpus = (unsigned)span;
	return 0;
}

int resources_check(json_object *o, const char *field, struct resource_limits *out, husk_err *err)
{
	char sub[96];
	const struct {
		const char *name;
		const struct key *keys;
		size_t n;
	} parts[] = {{"memory", memory_keys, ARRAY_SIZE(memory_keys)},
	             {"cpu", cpu_keys, ARRAY_SIZE(cpu_keys)},
	             {"pids", pids_keys, ARRAY_SIZE(pids_keys)}};
	if (check_members(o, field, top_keys, ARRAY_SIZE(top_keys), err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		json_object *v = json_member(o, parts[i].name);
		snprintf(sub, sizeof(sub), "%s.%s", field, parts[i].name);
		if (v && check_members(v, sub, parts[i].keys, parts[i].n, err) < 0)
			return -1;
	}
	snprintf(sub, sizeof(sub), "%s.devices", field);
	if (check_array_of_objects(json_member(o, "devices"), sub, err) < 0)
		return -1;
	snprintf(sub, sizeof(sub), "%s.hugepageLimits", field);
	if (check_array_of_objects(json_member(o, "hugepageLimits"), sub, err) < 0 ||
	    check_unified(json_member(o, "unified"), field, err) < 0)
		return -1;
	return read_limits(o, field, out, err);
}

int resources_parse(const char *buf, size_t len, json_object **obj, husk_err *err)
{
	struct resource_limits ignored;
	json_object *o = json_parse_text(buf, len, RESOURCES_MAX_BYTES, RESOURCES_MAX_DEPTH, err);
	if (!o)
		return -1;
	if (resources_check(o, "linux.resources", &ignored, err) < 0) {
		json_object_put(o);
		return -1;
	}
	*obj = o;
	return 0;
}

int resources_from_spec(const char *json, size_t len, struct resource_limits *out, husk_err *err)
{
	*out = (struct resource_limits){0};
	cleanup_json json_object *root = spec_json_parse(json, len, err);
	if (!root)
		return -1;
	json_object *res = json_member(json_member(root, "linux"), "resources");
	return res ? resources_check(res, "linux.resources", out, err) : 0;
}

void resources_vm_size(const struct resource_limits *l, unsigned host_cpus, uint64_t host_mib,
                       unsigned *vcpus, unsigned *memory_mib)
{
	if (l->memory_limit > 0) {
		uint64_t mib =
		    (((uint64_t)l->memory_limit + (1u << 20) - 1) >> 20) + VM_MEMORY_OVERHEAD_MIB;
		if (host_mib && mib > host_mib)
			mib = host_mib;
		*memory_mib = mib > VM_MEMORY_MAX_MIB ? VM_MEMORY_MAX_MIB : (unsigned)mib;
	}
	uint64_t n = l->cpuset_vcpus;
	if (!n && l->cpu_quota > 0) {
		uint64_t period = l->cpu_period ? l->cpu_period : 100000;
		uint64_t quota = (uint64_t)l->cpu_quota;
		n = quota / period + (quota % period != 0);
	}
	if (!n)
		return;
	if (host_cpus && n > host_cpus)
		n = host_cpus;
	*vcpus = n > RESOURCES_MAX_CPUS ? RESOURCES_MAX_CPUS : (unsigned)n;
}

void resources_host(unsigned *cpus, uint64_t *mib)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES);
	*cpus = n > 0 ? (unsigned)n : 0;
	*mib = pages > 0 ? (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE) >> 20 : 0;
}
