/*
 * What waits on the containers' cgroup events, watched with inotify:
 * GetOOMEvent calls and the queue of OOM kills nobody took yet (from
 * memory.events), and Pause/ResumeContainer calls that are answered once
 * cgroup.events reports the new state (from cgroup.events), bounded by a timer.
 */
#ifndef HUSK_AGENT_EVENTS_H
#define HUSK_AGENT_EVENTS_H

#include "agent.h"
#include "lib/error.h"
#include "ttrpc/ttrpc.h"

#define EVENTS_FREEZE_TIMEOUT_MS 5000

/* At boot with cgroups: the inotify instance, served by ag->loop. */
int events_init(struct agent *ag, husk_err *err);
/* Closes the inotify instance (after every container is gone). */
void events_close(struct agent *ag);
/* Watches c's cgroup (c->cgroup) for OOM kills and freezing; failures are logged. */
void events_watch(struct container *c);
/* Stops watching c; a waiting Pause/ResumeContainer gets NOT_FOUND "container removed". */
void events_unwatch(struct container *c);
/* GetOOMEvent: answers call with the oldest queued OOM kill, or when the next one happens. */
void events_oom_wait(struct agent *ag, struct ttrpc_call *call);
/*
 * Pause/ResumeContainer: writes cgroup.freeze and answers call once
 * cgroup.events reports frozen == want, or with DEADLINE_EXCEEDED after
 * ag->freeze_timeout_ms (a pause that timed out is undone).
 */
void events_freeze(struct container *c, int want, struct ttrpc_call *call);

#endif
