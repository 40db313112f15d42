/*
 * libFuzzer target: the shim's Task request decoding and checks must never
 * crash or leak on any bytes. The first byte picks the request type.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/cleanup.h"
#include "proto/containerd/task.pb-c.h"
#include "shim/v2/task_request.h"

static const ProtobufCMessageDescriptor *const descs[] = {
    &containerd__task__v2__task_request__descriptor,
    &containerd__task__v2__create_task_request__descriptor,
    &containerd__task__v2__id_request__descriptor,
    &containerd__task__v2__checkpoint_task_request__descriptor,
    &containerd__task__v2__kill_request__descriptor,
    &containerd__task__v2__exec_process_request__descriptor,
    &containerd__task__v2__resize_pty_request__descriptor,
    &containerd__task__v2__close_iorequest__descriptor,
    &containerd__task__v2__update_task_request__descriptor,
    &containerd__task__v2__shutdown_request__descriptor,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	husk_err err = NULL;
	if (!size)
		return 0;
	const ProtobufCMessageDescriptor *d = descs[data[0] % ARRAY_SIZE(descs)];
	ProtobufCMessage *m = task_request_decode(d, "Fuzz", data + 1, size - 1, &err);
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
	husk_error_free(&err);
	return 0;
}
