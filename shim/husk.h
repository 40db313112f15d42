/* The husk CLI: one file per verb (shim/<verb>.c), dispatched from shim/main.c. */
#ifndef HUSK_CLI_H
#define HUSK_CLI_H

#include <stdbool.h>

#include "config.h"
#include "error.h"
#include "spec.h"

#define HUSK_VERSION      "0.1.0"
#define HUSK_OCI_VERSION  "1.1.0"
#define HUSK_DEFAULT_ROOT "/run/husk"

struct husk_globals {
	const char *root; /* --root, default HUSK_DEFAULT_ROOT */
	bool debug;
	int log_fd; /* --log's fd, or -1 */
};

/*
 * A verb: argv[0] is the verb's name. Returns the process exit status; on
 * failure also sets *err, which main prints as the one "husk: ..." line.
 */
typedef int (*husk_command)(const struct husk_globals *g, int argc, char **argv, husk_err *err);

int cmd_run(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_check(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_create(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_start(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_state(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_kill(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_delete(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_list(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_spec(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_features(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_exec(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_ps(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_pause(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_resume(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_update(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_events(const struct husk_globals *g, int argc, char **argv, husk_err *err);

/* What husk create hands the sandbox owner it forks (shim/owner.c). */
struct owner_args {
	const char *root, *id;
	const char *bundle, *rootfs; /* absolute */
	const struct oci_spec *spec;
	const struct husk_config *cfg;
};
/* Runs the owner; reports "ok" or the error on ready_fd (then closed). Returns the exit status. */
int owner_main(const struct owner_args *a, int ready_fd);

#endif
