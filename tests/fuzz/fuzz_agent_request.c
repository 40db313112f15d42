/*
 * The agent's request decoding on hostile bytes: a ttrpc Request envelope
 * (as a frame's payload) whose method selects the agent message that its
 * payload is unpacked and validated as, OCI spec and process JSON included.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "agent/request.h"
#include "proto/ttrpc.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	husk_err err = NULL;
	Ttrpc__Request *req = ttrpc__request__unpack(NULL, size, data);
	if (!req)
		return 0;
	ProtobufCMessage *m =
	    request_decode(req->method, req->payload.data, req->payload.len, &err);
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
	husk_error_free(&err);
	ttrpc__request__free_unpacked(req, NULL);
	return 0;
}
