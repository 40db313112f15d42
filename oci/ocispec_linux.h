/* ocispec.c's entry into the isolation parts of the linux object (ocispec_linux.c). */
#ifndef HUSK_AGENT_OCISPEC_LINUX_H
#define HUSK_AGENT_OCISPEC_LINUX_H

#include <json-c/json.h>

#include "lib/error.h"
#include "ocispec.h"

/* Every member of linux but maskedPaths/readonlyPaths; unknown members are errors. */
int parse_linux_isolation(json_object *lx, struct spec *s, husk_err *err);
void spec_linux_free(struct spec *s);

#endif
