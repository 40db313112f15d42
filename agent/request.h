/*
 * Decoding of agent API requests: protobuf-c unpack plus validation of every
 * field the host controls (ids, lengths, signals, specs). Shared by the RPC
 * handlers and the fuzz target.
 */
#ifndef HUSK_AGENT_REQUEST_H
#define HUSK_AGENT_REQUEST_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "oci/limits.h"

#define AGENT_SERVICE    "husk.agent.v1.Agent"
#define AGENT_MAX_IO     (1u << 20)
#define AGENT_DEFAULT_IO (64u << 10)
#define AGENT_MAX_SPEC   SPEC_MAX_JSON /* a spec, a process, resources: oci/limits.h */

/* SetupNetwork's bounds */
#define NET_MAX_INTERFACES 16
#define NET_MAX_ADDRESSES  16 /* per interface */
#define NET_MAX_ROUTES     256
#define NET_MAX_NEIGHBORS  256
#define NET_MIN_MTU        68
#define NET_MAX_MTU        65535

/* The DNS relay's messages: a header at least, EDNS0's usual UDP payload at most */
#define DNS_MESSAGE_MIN 12
#define DNS_MESSAGE_MAX 4096

/* The request message type of an agent method, or NULL if there is none. */
const ProtobufCMessageDescriptor *request_descriptor(const char *method);
/*
 * Unpacks payload as method's request and validates it. Returns the message
 * (free with protobuf_c_message_free_unpacked(msg, NULL)) or NULL with *err set.
 */
ProtobufCMessage *request_decode(const char *method, const uint8_t *payload, size_t len,
                                 husk_err *err);
struct spec;
struct Husk__Agent__V1__CreateContainerRequest;
/*
 * Parses a CreateContainer request's spec and gives its bind mounts their
 * shared sources. On error *s is left empty.
 */
int request_create_spec(const struct Husk__Agent__V1__CreateContainerRequest *r, struct spec *s,
                        husk_err *err);
/* Container and exec ids, rootfs and shared mount tags: 1..64 of [A-Za-z0-9_.-], not "." or "..".
 */
int request_valid_id(const char *id);

#endif
