/*
 * CRI writes host namespace paths into a pod's container specs
 * (/proc/<task pid>/ns/ipc, uts, net: the pod sandbox's namespaces, the task
 * pid being our VMM's). Inside the guest those paths mean nothing and the
 * agent does not join namespaces by path, so each such entry loses its path:
 * the container gets a namespace of that type of its own, inside the pod's
 * VM. Any other path (a CNI network namespace) cannot reach the guest either
 * and is dropped with a warning.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "shim.h"

static bool drop_namespace_path(json_object *ns, const char *pod_prefix)
{
	json_object *path, *type;
	if (!json_object_object_get_ex(ns, "path", &path))
		return false;
	const char *p = json_object_get_string(path);
	const char *t =
	    json_object_object_get_ex(ns, "type", &type) ? json_object_get_string(type) : "?";
	if (!p || strncmp(p, pod_prefix, strlen(pod_prefix)) != 0)
		log_warn(
		    "linux.namespaces %.16s: path %.256s is not in the pod's VM; the container "
		    "gets its own",
		    t, p ? p : "");
	else
		log_debug("linux.namespaces %.16s: the pod's (%s) stays the container's own", t, p);
	json_object_object_del(ns, "path");
	return true;
}

int pod_spec_adapt(struct oci_spec *spec, uint32_t vmm_pid, husk_err *err)
{
	char prefix[64];
	json_object *linux_obj, *namespaces;
	struct json_tokener *tok = json_tokener_new_ex(SPEC_MAX_DEPTH);
	if (!tok)
		return husk_error_set(err, ENOMEM, "config.json");
	json_object *root = json_tokener_parse_ex(tok, spec->json, (int)spec->json_len);
	json_tokener_free(tok);
	if (!root)
		return husk_error_set(err, EINVAL, "config.json: not JSON");
	bool changed = false;
	snprintf(prefix, sizeof(prefix), "/proc/%u/ns/", vmm_pid);
	if (json_object_object_get_ex(root, "linux", &linux_obj) &&
	    json_object_object_get_ex(linux_obj, "namespaces", &namespaces) &&
	    json_object_is_type(namespaces, json_type_array)) {
		size_t n = json_object_array_length(namespaces);
		for (size_t i = 0; i < n; i++) {
			json_object *ns = json_object_array_get_idx(namespaces, i);
			if (json_object_is_type(ns, json_type_object) &&
			    drop_namespace_path(ns, prefix))
				changed = true;
		}
	}
	int ret = 0;
	if (changed) {
		size_t len;
		const char *text =
		    json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN, &len);
		char *copy = text ? malloc(len + 1) : NULL;
		if (!copy) {
			ret = husk_error_set(err, ENOMEM, "config.json");
		} else {
			memcpy(copy, text, len + 1);
			free(spec->json);
			spec->json = copy;
			spec->json_len = len;
		}
	}
	json_object_put(root);
	return ret;
}
