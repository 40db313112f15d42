/*
 * OCI hooks (runtime-config.md "POSIX-platform Hooks"): parsing config.json's
 * "hooks" and running one kind of them. Shared by the host (the sandbox owner
 * and husk delete run prestart, createRuntime, poststart, poststop) and the
 * guest agent (the container init runs createContainer and startContainer).
 *
 * A hook gets the container's state JSON on stdin, exactly its own env and
 * args, and is killed (with its process group) at its timeout. Its stdout
 * and stderr are captured: each line is logged at info level, and the last
 * one ends the error message of a failing hook.
 */
#ifndef HUSK_HOOKS_H
#define HUSK_HOOKS_H

#include <stddef.h>

#include "lib/error.h"
#include "limits.h"

/* In the order the lifecycle reaches them. */
enum hook_kind {
	HOOK_PRESTART, /* deprecated; runs with createRuntime, before it */
	HOOK_CREATE_RUNTIME,
	HOOK_CREATE_CONTAINER,
	HOOK_START_CONTAINER,
	HOOK_POSTSTART,
	HOOK_POSTSTOP,
	HOOK_KINDS
};

struct hook {
	char *path;  /* absolute */
	char **args; /* NULL-terminated; { path } when the spec gives none */
	char **env;  /* NULL-terminated, possibly empty */
	int timeout; /* seconds; 0: none */
};

struct hooks {
	struct hook *list[HOOK_KINDS];
	size_t n[HOOK_KINDS];
};

struct json_object;

const char *hook_kind_name(enum hook_kind kind);
/*
 * Parses a config.json "hooks" object (NULL: no hooks). Errors name the
 * field: "hooks.prestart[0].path: must be an absolute path". On error *h is
 * left empty.
 */
int hooks_parse(struct json_object *hooks, struct hooks *h, husk_err *err);
/* hooks_parse of the "hooks" member of a whole config.json held in memory. */
int hooks_parse_spec(const char *json, size_t len, struct hooks *h, husk_err *err);
/*
 * Runs the hooks of kind in order, each with state_json on stdin. A failing
 * prestart, createRuntime, createContainer or startContainer hook stops the
 * run and fails it; a failing poststart or poststop hook is logged as a
 * warning and the rest still run, as the spec says.
 */
int hooks_run(const struct hooks *h, enum hook_kind kind, const char *state_json, husk_err *err);
void hooks_free(struct hooks *h);

#endif
