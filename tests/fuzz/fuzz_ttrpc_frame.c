/* Arbitrary bytes on a ttrpc connection: the first byte picks server or client role. */
#include "fuzz_ttrpc_peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	fuzz_ttrpc_feed(data[0] & 1 ? FUZZ_CLIENT : FUZZ_SERVER, data + 1, size - 1);
	return 0;
}
