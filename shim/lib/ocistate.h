/*
 * The OCI lifecycle state of a container run by `husk create`:
 * <root>/<id>/state.json (written by the sandbox owner, atomically: temp file
 * + rename) and <root>/<id>/lock (flock'ed by CLI commands around a state
 * transition). The owner pid is the --pid-file process; its start time (from
 * /proc/<pid>/stat) guards against pid reuse. A dead owner means "stopped".
 *
 * "paused" is not in state.json: `husk pause` (holding the lock) creates
 * <root>/<id>/paused once the guest froze the container and `husk resume`
 * removes it after the thaw, so the owner stays the only writer of
 * state.json. A running container with that file reads as paused; the owner
 * clears the directory down to state.json and lock when it exits, and a dead
 * owner reads as stopped whatever is left.
 */
#ifndef HUSK_OCISTATE_H
#define HUSK_OCISTATE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "lib/error.h"
#include "oci/limits.h"
#include "bundle.h"

#define OCISTATE_FILE    "state.json"
#define OCISTATE_LOCK    "lock"
#define OCISTATE_CONTROL "control.sock"
#define OCISTATE_CONFIG  "config.json" /* the bundle's, kept for poststop hooks if it has any */
#define OCISTATE_PAUSED  "paused"
/* the annotations come from config.json, so state.json may be as large */
#define OCISTATE_MAX (SPEC_MAX_JSON + (64u << 10))

enum oci_status { OCI_CREATING, OCI_CREATED, OCI_RUNNING, OCI_STOPPED, OCI_PAUSED };

struct oci_state {
	char id[SPEC_MAX_ID + 1];
	enum oci_status status;
	pid_t pid;                    /* the sandbox owner (--pid-file process) */
	unsigned long long pid_start; /* its start time, clock ticks since boot */
	char *bundle;                 /* absolute */
	char *rootfs;                 /* absolute */
	char created[64];             /* RFC 3339, UTC, nanoseconds */
	int exit_status;              /* -1 until stopped */
	json_object *annotations;     /* the spec's (an object of strings; a reference), or NULL */
};

const char *oci_status_name(enum oci_status s);
/*
 * Fills id, pid (this process), pid_start, created; status creating; copies bundle/rootfs and
 * takes a reference to annotations (NULL: none).
 */
int ocistate_init(struct oci_state *s, const char *id, const char *bundle, const char *rootfs,
                  json_object *annotations, husk_err *err);
int ocistate_write(const char *dir, const struct oci_state *s, husk_err *err);
/*
 * ENOENT with "container ID does not exist" when there is no such container.
 * A running container whose paused marker exists reads as OCI_PAUSED.
 */
int ocistate_read(const char *root, const char *id, struct oci_state *s, husk_err *err);
void ocistate_free(struct oci_state *s);
/* The recorded status, or stopped when the owner is gone. */
enum oci_status ocistate_live_status(const struct oci_state *s);
/* A pidfd for the owner if it is still the recorded process, else -1. */
int ocistate_owner_pidfd(const struct oci_state *s);
/* The state as `runc state` prints it (status as live; pid 0 when stopped). */
void ocistate_print(FILE *f, const struct oci_state *s, bool pretty);
/*
 * The same, on one line, as a string the caller frees (what hooks get on stdin), with status
 * in place of the live one; NULL: ENOMEM.
 */
char *ocistate_json(const struct oci_state *s, enum oci_status status);
/* Creates or removes root/id's paused marker; the caller holds the lock. */
int ocistate_set_paused(const char *root, const char *id, bool paused, husk_err *err);
/* Takes the exclusive lock of root/id; returns the fd holding it. */
int ocistate_lock(const char *root, const char *id, husk_err *err);
int proc_start_time(pid_t pid, unsigned long long *out);

#endif
