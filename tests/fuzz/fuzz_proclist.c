/*
 * libFuzzer target: the agent's /proc parsers for ListProcesses (comm and
 * cmdline are the container's to choose) must never crash or read out of
 * bounds on any input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/proclist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char state;
	uint32_t v;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	proclist_parse_stat(text, &state, &v);
	proclist_parse_uid(text, &v);
	memcpy(text, data, size);
	proclist_join_argv(text, size);
	free(text);
	return 0;
}
