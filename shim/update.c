/* husk update: placeholder until its implementation lands. */
#include <errno.h>

#include "husk.h"

int cmd_update(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	husk_error_set(err, ENOTSUP, "update: not implemented yet");
	return 1;
}
