/* libFuzzer target: parsing config.json's hooks must never crash or leak on any input. */
#include <stddef.h>
#include <stdint.h>

#include "oci/hooks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hooks h;
	husk_err err = NULL;

	if (hooks_parse_spec((const char *)data, size, &h, &err) == 0)
		hooks_free(&h);
	husk_error_free(&err);
	return 0;
}
