/* Config JSON from arbitrary bytes: must never crash, leak or accept an out-of-range value. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "shim/lib/config.h"
#include "lib/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct husk_config c;
	husk_err err = NULL;
	if (config_parse("fuzz", (const char *)data, size, "/nonexistent/bin", &c, &err) == 0) {
		if (c.vcpus < 1 || c.vcpus > 64 || c.memory_mib < 64 || c.guest_cid < 3 ||
		    !c.qemu || !c.kernel || c.kernel[0] != '/')
			abort();
		config_free(&c);
	}
	husk_error_free(&err);
	return 0;
}
