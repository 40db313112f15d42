/* husk exec: placeholder until its implementation lands. */
#include <errno.h>

#include "husk.h"

int cmd_exec(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	husk_error_set(err, ENOTSUP, "exec: not implemented yet");
	return 1;
}
