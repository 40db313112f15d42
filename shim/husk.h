/* The husk CLI: one file per verb (shim/<verb>.c), dispatched from shim/main.c. */
#ifndef HUSK_CLI_H
#define HUSK_CLI_H

#include <stdbool.h>

#include "error.h"

#define HUSK_VERSION      "0.1.0"
#define HUSK_OCI_VERSION  "1.1.0"
#define HUSK_DEFAULT_ROOT "/run/husk"

struct husk_globals {
	const char *root; /* --root, default HUSK_DEFAULT_ROOT */
	bool debug;
};

/*
 * A verb: argv[0] is the verb's name. Returns the process exit status; on
 * failure also sets *err, which main prints as the one "husk: ..." line.
 */
typedef int (*husk_command)(const struct husk_globals *g, int argc, char **argv, husk_err *err);

int cmd_run(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_check(const struct husk_globals *g, int argc, char **argv, husk_err *err);

#endif
