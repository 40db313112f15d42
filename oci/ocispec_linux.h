/*
 * The isolation parts of the linux object (ocispec_linux.c): what ocispec.c's
 * spec_parse calls, and the entry points that need no whole spec.
 */
#ifndef HUSK_OCI_OCISPEC_LINUX_H
#define HUSK_OCI_OCISPEC_LINUX_H

#include <json-c/json.h>
#include <stddef.h>

#include "lib/error.h"
#include "spectypes.h"

/* Every member of linux but maskedPaths/readonlyPaths; unknown members are errors. */
int parse_linux_isolation(json_object *lx, struct spec *s, husk_err *err);
void spec_linux_free(struct spec *s);
/* Parses a bare linux.resources object (UpdateContainer). */
int spec_parse_resources(const char *json, size_t len, struct spec_resources *out, husk_err *err);
/*
 * The process's ids must exist in its user namespace (setuid and setgroups
 * would fail there): fails naming the first of uid, gid, additionalGids that
 * the maps lack.
 */
int spec_ids_mapped(const struct spec_idmaps *uids, const struct spec_idmaps *gids,
                    const struct spec_process *p, husk_err *err);
/*
 * The uid_map/gid_map text of m ("container host size" lines) into buf;
 * returns its length, or -1 when it does not fit in size bytes.
 */
int spec_idmap_format(const struct spec_idmaps *m, char *buf, size_t size);
void spec_seccomp_free(struct spec_seccomp *sc);

#endif
