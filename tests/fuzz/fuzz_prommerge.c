/* husk metrics' merge of an owner's exposition (shim/lib/prommerge.h): any bytes, twice. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shim/lib/prommerge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct prom_merge m;
	/* as gather_one reads it: the bytes alone, no NUL after them */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	memset(&m, 0, sizeof(m));
	prommerge_add(&m, text, size);
	prommerge_add(&m, text, size);
	prommerge_free(&m);
	free(text);
	return 0;
}
