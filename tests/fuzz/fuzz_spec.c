/* libFuzzer target: config.json and process JSON validation must never crash or leak on any input.
 */
#include <stddef.h>
#include <stdint.h>

#include "shim/lib/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_spec spec;
	husk_err err = NULL;
	bool terminal;

	if (spec_parse((const char *)data, size, &spec, &err) == 0)
		spec_free(&spec);
	husk_error_free(&err);
	spec_parse_process((const char *)data, size, &terminal, &err);
	husk_error_free(&err);
	return 0;
}
