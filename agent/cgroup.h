/*
 * Agent side of the containers' cgroups (v2, in the guest only): one
 * /sys/fs/cgroup/husk/<id> per container holding all its processes, written
 * from linux.resources, watched for OOM kills, read for stats.
 */
#ifndef HUSK_AGENT_CGROUP_H
#define HUSK_AGENT_CGROUP_H

#include "agent.h"
#include "proto/agent.pb-c.h"
#include "lib/error.h"
#include "oci/ocispec.h"

#define CGROUP_HUSK "/sys/fs/cgroup/husk"

/* At boot: mounts cgroup2 if needed and enables the controllers for husk/. */
int cgroup_init(struct agent *ag, husk_err *err);
/* Makes c's cgroup and writes r into it; without cgroups (--listen-unix) r must be empty. */
int cgroup_create(struct container *c, const struct spec_resources *r, husk_err *err);
/* Writes r into c's cgroup (UpdateContainer). */
int cgroup_update(struct container *c, const struct spec_resources *r, husk_err *err);
/* Removes c's cgroup (its processes are gone). */
void cgroup_remove(struct container *c);
/* GetOOMEvent: answers call with the oldest queued OOM kill, or when the next one happens. */
void cgroup_oom_wait(struct agent *ag, struct ttrpc_call *call);
/*
 * Pause/ResumeContainer: writes cgroup.freeze and answers call once
 * cgroup.events reports frozen == want, or with an error after
 * FREEZE_TIMEOUT_MS (a pause that timed out is undone).
 */
void cgroup_freeze(struct container *c, int want, struct ttrpc_call *call);
/* Whether c's cgroup is frozen (or being frozen) by PauseContainer. */
int cgroup_frozen(struct container *c);
int cgroup_stats(struct container *c, Husk__Agent__V1__StatsContainerResponse *r, husk_err *err);

#endif
