/*
 * CRI writes host namespace paths into a pod's container specs
 * (/proc/<task pid>/ns/ipc, uts, net, pid: the pod sandbox's namespaces, the
 * task pid being our VMM's). Inside the guest they become the sandbox
 * container's: /proc/<its init's guest pid>/ns/<type>, which the agent joins
 * after checking that the pid is a container init of the sandbox. The pod's
 * network namespace (CNI's) is the VM's, attached by the host when the first
 * task boots it (its path gone from the spec by then); any other path cannot
 * reach the guest and is dropped with a warning: the container keeps the
 * guest's network, the VM being the boundary.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/log.h"
#include "oci/limits.h"
#include "oci/specjson.h"
#include "oci/ocispec.h"
#include "shim.h"

/* The guest pid of the group's sandbox container's init, or 0 when it is not running. */
static uint32_t sandbox_guest_pid(struct shim *s, const struct bundle *spec)
{
	cleanup_free char *group = spec_group(spec->json, spec->json_len);
	struct task *t = group ? task_find(s, group) : NULL;
	return t && t->init.state == PROC_RUNNING ? t->guest_pid : 0;
}

static int adapt_namespace(json_object *ns, const char *pod_prefix, uint32_t guest_pid,
                           husk_err *err)
{
	json_object *path, *type;
	char guest[64];
	const char *p =
	    json_object_object_get_ex(ns, "path", &path) ? json_object_get_string(path) : NULL;
	const char *t =
	    json_object_object_get_ex(ns, "type", &type) ? json_object_get_string(type) : "?";
	size_t n = strlen(pod_prefix);
	if (!p || strncmp(p, pod_prefix, n) != 0) {
		log_warn(
		    "linux.namespaces %.16s: path %.256s is not in the pod's VM; the container "
		    "gets its own",
		    t, p ? p : "");
		json_object_object_del(ns, "path");
		return 0;
	}
	if (!guest_pid)
		return husk_error_set(err, 0,
		                      "linux.namespaces %.16s: path %.256s: the pod's sandbox "
		                      "container is not running",
		                      t, p);
	snprintf(guest, sizeof(guest), "/proc/%u/ns/%.16s", guest_pid, p + n);
	log_debug("linux.namespaces %.16s: %s is %s in the guest", t, p, guest);
	json_object_object_add(ns, "path", json_object_new_string(guest));
	return 0;
}

static int adapt_namespaces(json_object *root, const char *pod_prefix, uint32_t guest_pid,
                            bool *changed, husk_err *err)
{
	json_object *linux_obj, *namespaces, *path;
	if (!json_object_object_get_ex(root, "linux", &linux_obj) ||
	    !json_object_object_get_ex(linux_obj, "namespaces", &namespaces) ||
	    !json_object_is_type(namespaces, json_type_array))
		return 0;
	size_t n = json_object_array_length(namespaces);
	for (size_t i = 0; i < n; i++) {
		json_object *ns = json_object_array_get_idx(namespaces, i);
		if (!json_object_is_type(ns, json_type_object) ||
		    !json_object_object_get_ex(ns, "path", &path))
			continue;
		if (adapt_namespace(ns, pod_prefix, guest_pid, err) < 0)
			return -1;
		*changed = true;
	}
	return 0;
}

int pod_spec_adapt(struct shim *s, struct bundle *spec, husk_err *err)
{
	char prefix[64];
	cleanup_json json_object *root = spec_json_parse(spec->json, spec->json_len, err);
	if (!root)
		return husk_error_prefix(err, "config.json");
	bool changed = false;
	snprintf(prefix, sizeof(prefix), "/proc/%u/ns/", shim_task_pid(s));
	int ret = adapt_namespaces(root, prefix, sandbox_guest_pid(s, spec), &changed, err);
	if (ret == 0 && changed)
		ret = bundle_set_json(spec, root, err);
	return ret;
}
