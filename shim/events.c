/* husk events: placeholder until its implementation lands. */
#include <errno.h>

#include "husk.h"

int cmd_events(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	husk_error_set(err, ENOTSUP, "events: not implemented yet");
	return 1;
}
