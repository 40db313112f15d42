#include "task_request.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "shim/lib/bundle.h"

#define MAX_STRING   PATH_MAX
#define MAX_REPEATED 256

static int check_string(const ProtobufCFieldDescriptor *f, const char *v, husk_err *err)
{
	if (!strcmp(f->name, "id"))
		return container_id_check(v, err);
	if (!strcmp(f->name, "exec_id") && v[0])
		return container_id_check(v, err) < 0 ? husk_error_prefix(err, "exec_id") : 0;
	if (strlen(v) > MAX_STRING)
		return husk_error_set(err, E2BIG, "%s: longer than %d bytes", f->name, MAX_STRING);
	return 0;
}

static int check_message(const ProtobufCMessage *m, int depth, husk_err *err);

static int check_value(const ProtobufCFieldDescriptor *f, const void *v, int depth, husk_err *err)
{
	if (f->type == PROTOBUF_C_TYPE_STRING)
		return check_string(f, *(char *const *)v, err);
	if (f->type == PROTOBUF_C_TYPE_MESSAGE && *(ProtobufCMessage *const *)v)
		return check_message(*(ProtobufCMessage *const *)v, depth + 1, err);
	return 0;
}

/* Ids are valid container ids, strings and lists bounded, recursively. */
static int check_message(const ProtobufCMessage *m, int depth, husk_err *err)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	if (depth > 4)
		return husk_error_set(err, EINVAL, "request nested too deeply");
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m + f->offset;
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			if (check_value(f, base, depth, err) < 0)
				return -1;
			continue;
		}
		size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
		if (n > MAX_REPEATED)
			return husk_error_set(err, E2BIG, "%s: more than %d entries", f->name,
			                      MAX_REPEATED);
		const char *arr = *(const char *const *)base;
		size_t stride =
		    f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE
		        ? sizeof(void *)
		        : 0;
		for (size_t j = 0; stride && j < n; j++)
			if (check_value(f, arr + j * stride, depth, err) < 0)
				return -1;
	}
	return 0;
}

ProtobufCMessage *task_request_decode(const ProtobufCMessageDescriptor *desc, const char *method,
                                      const uint8_t *payload, size_t len, husk_err *err)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, payload);
	if (!m) {
		husk_error_set(err, EINVAL, "%s: malformed request", method);
		return NULL;
	}
	if (check_message(m, 0, err) < 0) {
		husk_error_prefix(err, "%s", method);
		husk_error_set_code(err, EINVAL); /* whatever the check said: InvalidArgument */
		protobuf_c_message_free_unpacked(m, NULL);
		return NULL;
	}
	return m;
}
