/* Decoding of the Task service's requests (untrusted bytes from the shim's socket). */
#ifndef HUSK_SHIMV2_REQUEST_H
#define HUSK_SHIMV2_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/error.h"

/*
 * Unpacks a request and checks it: every id is a valid container id, every
 * string at most PATH_MAX bytes and every list at most 256 entries, at any
 * depth. Errors name the method. Free the result with
 * protobuf_c_message_free_unpacked.
 */
ProtobufCMessage *task_request_decode(const ProtobufCMessageDescriptor *desc, const char *method,
                                      const uint8_t *payload, size_t len, husk_err *err);

#endif
