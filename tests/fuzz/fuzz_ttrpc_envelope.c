/*
 * Arbitrary Request and Response envelopes inside well-formed frames: the input
 * is the frame data of a request to the server (stream 1) and of a response to
 * the client's first pending call.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_ttrpc_peer.h"
#include "ttrpc/ttrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > TTRPC_MAX_DATA)
		return 0;
	uint8_t *buf = malloc(TTRPC_HEADER_LEN + size);
	if (!buf)
		return 0;
	memcpy(buf + TTRPC_HEADER_LEN, data, size);
	struct ttrpc_header h = {.length = size, .stream_id = 1, .type = TTRPC_TYPE_REQUEST};
	ttrpc_header_encode(&h, buf);
	fuzz_ttrpc_feed(FUZZ_SERVER, buf, TTRPC_HEADER_LEN + size);
	h.type = TTRPC_TYPE_RESPONSE;
	ttrpc_header_encode(&h, buf);
	fuzz_ttrpc_feed(FUZZ_CLIENT, buf, TTRPC_HEADER_LEN + size);
	free(buf);
	return 0;
}
