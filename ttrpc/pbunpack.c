/* Budgeted protobuf-c unpacking: see pbunpack.h. */
#include "pbunpack.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

/* what one malloc costs beyond the bytes asked for (glibc: header and rounding) */
#define MALLOC_OVERHEAD 16

struct budget {
	size_t left, used;
	bool over;
};

static void *budget_alloc(void *data, size_t size)
{
	struct budget *b = data;
	size_t cost = size + MALLOC_OVERHEAD;
	if (cost < size || cost > b->left) {
		b->over = true;
		return NULL;
	}
	void *p = malloc(size ? size : 1);
	if (p) {
		b->left -= cost;
		b->used += cost;
	}
	return p;
}

static void budget_free(void *data, void *p)
{
	free(p); /* spent stays spent: the budget bounds the peak as well */
}

size_t pb_unpack_budget(size_t len)
{
	if (len > (PB_BUDGET_MAX - PB_BUDGET_BASE) / PB_BUDGET_FACTOR)
		return PB_BUDGET_MAX;
	return PB_BUDGET_BASE + PB_BUDGET_FACTOR * len;
}

ProtobufCMessage *pb_unpack_within(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                                   size_t len, size_t budget, size_t *used, const char *what,
                                   husk_err *err)
{
	struct budget b = {.left = budget};
	ProtobufCAllocator alloc = {
	    .alloc = budget_alloc, .free = budget_free, .allocator_data = &b};
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, &alloc, len, data);
	if (used)
		*used = b.used;
	if (m)
		return m;
	if (b.over) {
		husk_error_set(err, 0, "%s needs more than %zu bytes of memory", what, budget);
		husk_error_set_code(err, ENOMEM);
	} else {
		husk_error_set(err, 0, "%s: malformed %s", what, desc->name);
		husk_error_set_code(err, EPROTO);
	}
	return NULL;
}

ProtobufCMessage *pb_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                            const char *what, husk_err *err)
{
	return pb_unpack_within(desc, data, len, pb_unpack_budget(len), NULL, what, err);
}
