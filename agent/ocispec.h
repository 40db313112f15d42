/*
 * The subset of an OCI runtime spec (config.json) the agent honours, parsed
 * from host-supplied JSON with every count and length bounded.
 */
#ifndef HUSK_AGENT_OCISPEC_H
#define HUSK_AGENT_OCISPEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define SPEC_MAX_JSON    (1u << 20)
#define SPEC_MAX_STRING  32768
#define SPEC_MAX_ARGS    1024
#define SPEC_MAX_ENV     1024
#define SPEC_MAX_GIDS    64
#define SPEC_MAX_MOUNTS  64
#define SPEC_MAX_PATH    4096
#define SPEC_MAX_HOST    64
#define SPEC_MAX_RLIMITS 16
#define SPEC_MAX_MASKS   128

struct spec_rlimit {
	int resource; /* RLIMIT_* */
	unsigned long long soft, hard;
};

/* process.capabilities as bit masks (1 << CAP_*) */
struct spec_caps {
	int present; /* without the object the process keeps the agent's capabilities */
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct spec_process {
	char **args; /* NULL-terminated, at least one entry */
	char **env;  /* NULL-terminated */
	char *cwd;   /* absolute */
	uid_t uid;
	gid_t gid;
	gid_t gids[SPEC_MAX_GIDS];
	size_t ngids;
	int no_new_privs;
	int umask; /* -1: keep the agent's (022) */
	struct spec_rlimit rlimits[SPEC_MAX_RLIMITS];
	size_t nrlimits;
	struct spec_caps caps;
};

struct spec_mount {
	char *destination; /* absolute, no ".." component */
	char *type;        /* a filesystem type the agent can mount (see spec.c) */
	char *source;
	unsigned long flags;
	char *data; /* options that are not mount flags, comma-joined, or NULL */
};

struct spec {
	struct spec_process process;
	char *hostname; /* or NULL */
	int root_readonly;
	struct spec_mount *mounts;
	size_t nmounts;
	char **masked_paths;   /* linux.maskedPaths, NULL-terminated, or NULL */
	char **readonly_paths; /* linux.readonlyPaths */
};

/* Parses a whole config.json. On error *out is left empty (spec_free is safe). */
int spec_parse(const char *json, size_t len, struct spec *out, husk_err *err);
/* Parses a bare OCI "process" object (ExecProcess). */
int spec_parse_process(const char *json, size_t len, struct spec_process *out, husk_err *err);
void spec_free(struct spec *s);
void spec_process_free(struct spec_process *p);

#endif
