/*
 * The parser of an OCI runtime spec (config.json) from host-supplied JSON,
 * every count and length bounded by limits.h. The agent decodes its requests
 * with it, and the host checks a bundle with it before starting anything.
 */
#ifndef HUSK_OCI_OCISPEC_H
#define HUSK_OCI_OCISPEC_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "ocispec_linux.h"
#include "spectypes.h"

/* Parses a whole config.json. On error *out is left empty (spec_free is safe). */
int spec_parse(const char *json, size_t len, struct spec *out, husk_err *err);
/* Warns that what (a spec's process) has ambient capabilities the kernel cannot raise. */
void spec_warn_ambient_skipped(const struct spec_caps *c, const char *what);
/* Parses a bare OCI "process" object (ExecProcess). */
int spec_parse_process(const char *json, size_t len, struct spec_process *out, husk_err *err);
/*
 * Gives bind mount mounts[index] its source, tag under the shared directory
 * (CreateContainerRequest.shared_mounts): index must name a bind mount not
 * given one yet.
 */
int spec_share_mount(struct spec *s, uint32_t index, const char *tag, husk_err *err);
/* Fails naming the first bind mount without a shared source. */
int spec_check_shared(const struct spec *s, husk_err *err);
void spec_free(struct spec *s);
void spec_process_free(struct spec_process *p);

#endif
