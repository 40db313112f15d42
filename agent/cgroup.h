/*
 * The containers' cgroups (v2, in the guest only) as files: one <parent>/<id>
 * directory per container holding all its processes, written from
 * linux.resources, read for OOM kills, freezing and stats. Every function
 * takes the directory, so tests point it at plain files.
 */
#ifndef HUSK_AGENT_CGROUP_H
#define HUSK_AGENT_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "proto/agent.pb-c.h"
#include "lib/error.h"
#include "oci/limits.h"
#include "oci/ocispec.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/*
 * At boot: mounts cgroup2 on root if it is not there, makes root/husk (the
 * containers' parent, written into parent) and enables the controllers in both.
 */
int cgroup_init(const char *root, char *parent, size_t size, husk_err *err);
/* Makes parent/id (into dir, "" on failure) and writes r into it. */
int cgroup_create(const char *parent, const char *id, const struct spec_resources *r, char *dir,
                  size_t size, husk_err *err);
/* Writes r's files into dir (a file the kernel lacks is "not supported by the guest kernel"). */
int cgroup_write_resources(const char *dir, const struct spec_resources *r, husk_err *err);
/*
 * Cgroups whose processes were killed but not yet gone (a container removed before its start:
 * its init is SIGKILLed, not yet reaped): removed once empty, at the next reap.
 */
#define CGROUP_DOOMED_MAX 16
#define CGROUP_DIR_MAX    (64 + 1 + SPEC_MAX_ID) /* parent/id */
struct cgroup_doomed {
	char dir[CGROUP_DOOMED_MAX][CGROUP_DIR_MAX];
	size_t n;
};
/*
 * Removes dir. One still holding processes (EBUSY) has them killed (cgroup.kill) and, with
 * doomed, is kept there for cgroup_reap; other failures (or a full doomed) are logged.
 */
void cgroup_remove(struct cgroup_doomed *doomed, const char *dir);
/* dir belongs to a container again (one of a removed one's id): cgroup_reap leaves it. */
void cgroup_spare(struct cgroup_doomed *doomed, const char *dir);
/* Removes each kept cgroup that is empty now (call after reaping). */
void cgroup_reap(struct cgroup_doomed *doomed);
/* Writes cgroup.freeze. Returns 0, or -1 with errno. */
int cgroup_set_freeze(const char *dir, int frozen);
/* Whether cgroup.freeze asks for frozen (a pause done or under way). */
int cgroup_freeze_requested(const char *dir);
/* Whether cgroup.events reports the cgroup frozen. */
int cgroup_frozen(const char *dir);
/* memory.events oom_kill: how many OOM kills there were. */
uint64_t cgroup_oom_kills(const char *dir);
/* Fills r's cgroup fields from dir's statistics files (missing ones read as 0). */
void cgroup_stats(const char *dir, Husk__Agent__V1__StatsContainerResponse *r);
/* Fills r's memory (/proc/meminfo) and CPU (root's cpu.stat) fields. */
void cgroup_guest_stats(const char *root, Husk__Agent__V1__GuestStatsResponse *r);

#endif
