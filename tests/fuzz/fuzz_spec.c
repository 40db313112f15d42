/*
 * libFuzzer target: the one spec contract. On any input neither the host's bundle check
 * (bundle_parse, bundle_check) nor the agent's parser (spec_parse, spec_parse_process) may crash
 * or leak, and once the host's own facts are there the two must agree: both accept, or both
 * refuse with the same message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/ocispec.h"
#include "shim/lib/bundle.h"

static void check_agreement(const char *text, size_t size, int agent_ret, husk_err agent_err)
{
	struct bundle b;
	husk_err err = NULL;
	if (bundle_parse(text, size, &b, &err) < 0) {
		husk_error_free(&err);
		return;
	}
	int host_ret = bundle_check(&b, &err);
	if (host_ret != agent_ret ||
	    (host_ret < 0 && strcmp(husk_error_msg(err), husk_error_msg(agent_err)) != 0))
		abort();
	bundle_free(&b);
	husk_error_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct spec s;
	struct spec_process p;
	husk_err err = NULL;

	int ret = spec_parse(text, size, &s, &err);
	if (ret == 0)
		spec_free(&s);
	check_agreement(text, size, ret, err);
	husk_error_free(&err);
	if (spec_parse_process(text, size, &p, &err) == 0)
		spec_process_free(&p);
	husk_error_free(&err);
	return 0;
}
