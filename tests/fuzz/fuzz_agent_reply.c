/*
 * The host's decoding of agent replies (hostile guest bytes): the first byte
 * picks the reply type, the rest is unpacked within its memory budget as the
 * agent client does (ttrpc/pbunpack.h), and escaped as guest text is before
 * it is printed (lib/text.h). Checks: the unpack never allocates more than its
 * budget, and escaped text holds no control byte and fits its buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/text.h"
#include "ttrpc/pbunpack.h"
#include "proto/agent.pb-c.h"

static const ProtobufCMessageDescriptor *const replies[] = {
    &husk__agent__v1__empty__descriptor,
    &husk__agent__v1__health_response__descriptor,
    &husk__agent__v1__start_container_response__descriptor,
    &husk__agent__v1__exec_process_response__descriptor,
    &husk__agent__v1__wait_process_response__descriptor,
    &husk__agent__v1__write_stdin_response__descriptor,
    &husk__agent__v1__read_stream_response__descriptor,
    &husk__agent__v1__oomevent__descriptor,
    &husk__agent__v1__stats_container_response__descriptor,
    &husk__agent__v1__list_processes_response__descriptor,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	husk_err err = NULL;
	size_t used = 0;
	if (size < 1)
		return 0;
	const ProtobufCMessageDescriptor *desc =
	    replies[data[0] % (sizeof(replies) / sizeof(*replies))];
	data++, size--;
	/* a small budget, so that fuzzing reaches the refusals often */
	size_t budget = size < 4096 ? 4096 + 16 * size : pb_unpack_budget(size);
	ProtobufCMessage *m = pb_unpack_within(desc, data, size, budget, &used, "reply", &err);
	if (used > budget)
		abort();
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
	husk_error_free(&err);

	char out[256];
	text_escape(out, sizeof(out), (const char *)data, size);
	size_t n = strlen(out);
	if (n >= sizeof(out))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			abort();
	return 0;
}
