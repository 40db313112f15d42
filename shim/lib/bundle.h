/*
 * An OCI bundle on the host: its config.json, untrusted, and the facts only
 * the host needs (the rootfs, the bind mounts to share, namespaces to join).
 * The config.json is checked against the agent's own contract (oci/ocispec.h,
 * the limits of oci/limits.h) before anything starts, so the host refuses
 * exactly what the agent would, with the agent's message; the text checked is
 * the text CreateContainerRequest.oci_spec_json carries.
 */
#ifndef HUSK_BUNDLE_H
#define HUSK_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "lib/error.h"
#include "oci/limits.h"

/* A bind mount of the spec: its host source is shared into the guest. */
struct bundle_bind {
	uint32_t index;    /* into the spec's mounts */
	char *destination; /* for errors */
	char *source;      /* absolute: relative ones are resolved against the bundle, as runc */
	bool recursive;    /* rbind */
	bool readonly;
	bool private_; /* (r)private: later host mounts under source stay out, as with runc */
};

struct bundle {
	char *dir;  /* the bundle's absolute path, NULL for a config.json parsed from memory */
	char *json; /* config.json, NUL-terminated: what goes to the agent */
	size_t json_len;
	char *root_path; /* root.path as written (relative to the bundle, or absolute) */
	/* the first linux.namespaces entry but network's with a path (one to join), or NULLs */
	char *join_type, *join_path;
	/* a network namespace entry (none: the host's network), and its path or NULL */
	bool net_ns;
	char *net_path;
	bool pid_ns, ipc_ns, uts_ns; /* entries of these types (none: the host's) */
	json_object *annotations;    /* an object of strings, or NULL: the state carries them */
	/* set by bundle_check */
	bool root_readonly;
	bool terminal;
	struct bundle_bind *binds; /* mounts of type "bind" or with a bind/rbind option */
	size_t nbinds;
};

/*
 * Takes the host's facts from a config.json held in memory: ociVersion,
 * root.path, the first namespace to join. On success *b owns a copy of buf.
 * The rest of the spec is bundle_check's.
 */
int bundle_parse(const char *buf, size_t len, struct bundle *b, husk_err *err);

/*
 * Reads DIR/config.json (at most SPEC_MAX_JSON bytes), bundle_parse's it and
 * checks that root.path names a directory: *rootfs gets its absolute path.
 * Errors read "bundle DIR: config.json: ...".
 */
int bundle_load(const char *dir, struct bundle *b, char **rootfs, husk_err *err);

/*
 * Runs the agent's parser over b->json (rewrite it first if the host does) and
 * records the spec's bind mounts, process.terminal and root.readonly. Errors
 * read as bundle_load's (or "config.json: ..." for a bundle from memory).
 */
int bundle_check(struct bundle *b, husk_err *err);

/*
 * A VM has a network, PIDs, IPC and a hostname of its own: a spec without a network, pid, ipc
 * or uts namespace (sharing the host's: docker --network/--pid/--ipc/--uts host, Kubernetes
 * hostNetwork/hostPID/hostIPC) is refused.
 */
int bundle_ns_check(const struct bundle *b, husk_err *err);
/*
 * The network namespace's path (kept in b->net_path: the host attaches it to the VM) dropped
 * from b->json: the container keeps the guest's network, where the NICs are.
 */
int bundle_drop_net_path(struct bundle *b, husk_err *err);
/* Replaces b->json with root's text. */
int bundle_set_json(struct bundle *b, json_object *root, husk_err *err);

void bundle_free(struct bundle *b);

/*
 * Reads the regular file path, at most max bytes, into *buf (malloc'ed with a byte to spare
 * after *len, not NUL-terminated).
 */
int bundle_read_file(const char *path, size_t max, char **buf, size_t *len, husk_err *err);

/*
 * A container id as runc accepts it, narrowed to what also works as a
 * rootfs_tag and a state directory name: [A-Za-z0-9][A-Za-z0-9_.-]*, at most
 * SPEC_MAX_ID bytes.
 */
int container_id_check(const char *id, husk_err *err);

#endif
