/* husk pause: placeholder until its implementation lands. */
#include <errno.h>

#include "husk.h"

int cmd_pause(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	husk_error_set(err, ENOTSUP, "pause: not implemented yet");
	return 1;
}

int cmd_resume(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	husk_error_set(err, ENOTSUP, "resume: not implemented yet");
	return 1;
}
