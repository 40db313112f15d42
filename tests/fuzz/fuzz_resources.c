/* libFuzzer target: `husk update --resources` input (linux.resources) must never crash or leak. */
#include <stddef.h>
#include <stdint.h>

#include "shim/lib/resources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = NULL;
	struct resource_limits l;
	unsigned vcpus = 1, mib = 256;
	husk_err err = NULL;

	if (resources_parse((const char *)data, size, &o, &err) == 0) {
		resources_check(o, "linux.resources", &l, &err);
		resources_vm_size(&l, 2, 4096, &vcpus, &mib);
		json_object_put(o);
	}
	husk_error_free(&err);
	return 0;
}
