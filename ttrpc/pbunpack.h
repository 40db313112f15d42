/*
 * protobuf-c unpacking of a peer's bytes with a memory budget. protobuf-c
 * allocates a struct (and a pointer) per repeated sub-message and a record per
 * field while it parses, so a few wire bytes can cost a hundred bytes of heap:
 * 4 MiB of empty repeated elements would unpack to about 2 M structs. Every
 * unpack of bytes from a peer (the guest's agent replies, ttrpc envelopes) goes
 * through pb_unpack, whose allocator stops at pb_unpack_budget(len) bytes.
 *
 * The budget counts every allocation the unpack makes (requested size plus
 * 16 bytes of malloc overhead), freed or not, so it bounds the peak too. It is
 * PB_BUDGET_BASE + PB_BUDGET_FACTOR * len, at most PB_BUDGET_MAX: bytes and
 * strings cost about their wire size, and the densest reply husk expects (a
 * ListProcesses of 4096 short processes, ~10x its wire size) fits, while a
 * flood of empty elements (~75x) does not. The result is freed as usual
 * (protobuf_c_message_free_unpacked(msg, NULL)).
 */
#ifndef HUSK_PBUNPACK_H
#define HUSK_PBUNPACK_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/error.h"

#define PB_BUDGET_BASE   (1u << 20)
#define PB_BUDGET_FACTOR 8
#define PB_BUDGET_MAX    (16u << 20)

/* The bytes of memory an unpack of len wire bytes may allocate. */
size_t pb_unpack_budget(size_t len);
/*
 * Unpacks len bytes as desc within pb_unpack_budget(len). Errors name what
 * ("StatsContainer: reply"): "WHAT needs more than N bytes of memory" (ENOMEM)
 * or "WHAT: malformed NAME" (EPROTO).
 */
ProtobufCMessage *pb_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                            const char *what, husk_err *err);
/* The same with an explicit budget; *used (if set) gets the bytes it allocated. */
ProtobufCMessage *pb_unpack_within(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                                   size_t len, size_t budget, size_t *used, const char *what,
                                   husk_err *err);

#endif
