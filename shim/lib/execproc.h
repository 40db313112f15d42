/*
 * The process of husk exec, as the OCI "process" object sent in
 * ExecProcessRequest.process_json: either a --process file, or the bundle's
 * own process with exec's flags applied (as runc exec does).
 */
#ifndef HUSK_EXECPROC_H
#define HUSK_EXECPROC_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"
#include "oci/limits.h"

/* What the agent accepts as process_json. */
#define EXEC_PROCESS_MAX SPEC_MAX_JSON

struct exec_flags {
	char **args; /* replaces process.args */
	size_t nargs;
	char **env; /* KEY=VALUE: replaces the entry of that KEY, or is appended */
	size_t nenv;
	const char *cwd;  /* NULL: the bundle's */
	const char *user; /* "UID[:GID]", or NULL */
	char **gids;      /* appended to process.user.additionalGids */
	size_t ngids;
	bool tty; /* process.terminal (false without --tty, as with runc) */
	bool no_new_privs;
};

/* Reads and validates a --process file; errors name it. *json is NUL-terminated. */
int execproc_load(const char *path, char **json, bool *terminal, husk_err *err);

/* The process of bundle's config.json with f applied, validated. */
int execproc_build(const char *bundle, const struct exec_flags *f, char **json, bool *terminal,
                   husk_err *err);

#endif
