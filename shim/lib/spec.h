/*
 * Host-side validation of an OCI bundle's config.json. The bundle is
 * untrusted input: the file is size-bounded, the JSON depth-bounded, and every
 * field husk or the agent relies on is checked for shape before the original
 * bytes go to the guest as CreateContainerRequest.oci_spec_json.
 */
#ifndef HUSK_SPEC_H
#define HUSK_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define SPEC_MAX_BYTES   (4u << 20)
#define SPEC_MAX_DEPTH   64
#define SPEC_MAX_ARGS    4096
#define SPEC_MAX_ENV     4096
#define SPEC_MAX_MOUNTS  512
#define CONTAINER_ID_MAX 64

/* A bind mount of the spec: its host source is shared into the guest. */
struct oci_bind {
	uint32_t index;    /* into the spec's mounts */
	char *destination; /* for errors */
	char *source;      /* as written; absolute once spec_load resolved it against the bundle */
	bool recursive;    /* rbind */
	bool readonly;
};

struct oci_spec {
	char *json; /* the validated config.json, NUL-terminated */
	size_t json_len;
	char *root_path; /* root.path as written (relative to the bundle, or absolute) */
	bool root_readonly;
	bool terminal;
	struct oci_bind *binds; /* mounts of type "bind" or with a bind/rbind option */
	size_t nbinds;
	/* the first linux.namespaces entry with a path (one to join), or NULLs */
	char *join_type, *join_path;
};

/*
 * Checks the shape of a config.json held in memory (no file system access).
 * On success *spec owns a copy of buf. Errors name the field: "process.args: ...".
 */
int spec_parse(const char *buf, size_t len, struct oci_spec *spec, husk_err *err);

/*
 * Checks an OCI "process" object held in memory (husk exec's process), as
 * spec_parse checks a config.json's; *terminal gets process.terminal.
 */
int spec_parse_process(const char *buf, size_t len, bool *terminal, husk_err *err);

/* Reads the regular file path, at most max bytes, into *buf (malloc'ed, not NUL-terminated). */
int spec_read_file(const char *path, size_t max, char **buf, size_t *len, husk_err *err);

/*
 * Reads BUNDLE/config.json (at most SPEC_MAX_BYTES), parses it and checks that
 * root.path names a directory. *rootfs gets the absolute rootfs path; relative
 * bind mount sources are made absolute against the bundle, as runc does.
 * Errors read "bundle B: config.json: ...".
 */
int spec_load(const char *bundle, struct oci_spec *spec, char **rootfs, husk_err *err);

void spec_free(struct oci_spec *spec);

/*
 * A container id as runc accepts it, narrowed to what also works as a
 * rootfs_tag and a state directory name: [A-Za-z0-9][A-Za-z0-9_.-]*, at most
 * CONTAINER_ID_MAX bytes.
 */
int container_id_check(const char *id, husk_err *err);

#endif
