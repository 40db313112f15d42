/*
 * The guest's container table and the agent side of container lifecycles
 * that need no child: adding (with its cgroup), signals, removal, teardown.
 * spawn.h starts their processes.
 */
#ifndef HUSK_AGENT_CONTAINERS_H
#define HUSK_AGENT_CONTAINERS_H

#include <sys/types.h>

#include "agent.h"
#include "lib/error.h"
#include "oci/ocispec.h"

struct container *containers_find(struct agent *ag, const char *id);
/* The process exec_id ("" = init) of c, or NULL. */
struct process *containers_process(struct container *c, const char *exec_id);
/* The known process pid that has not exited, or NULL. */
struct process *containers_find_pid(struct agent *ag, pid_t pid);
/*
 * Puts a container id (no process yet) into the table with its cgroup,
 * written from r and watched for events; without cgroups (--listen-unix) r
 * must be empty. Returns NULL with *err on failure.
 */
struct container *containers_add(struct agent *ag, const char *id, const struct spec_resources *r,
                                 husk_err *err);
/*
 * The debug console's container (ag->debug, debugcon in main.c): the guest's
 * own view, whose init is the agent itself, so that an exec in it joins the
 * agent's namespaces. It is outside the table: no API call on the agent port
 * reaches it, and it is not a container init a spec may join.
 */
int containers_add_debug(struct agent *ag, const char *id, husk_err *err);
/* Signals p, or with all every process in c's pid namespace. */
int containers_signal(struct container *c, struct process *p, int sig, int all, husk_err *err);
/* Forgets a container that is not running (one never started is killed). */
int containers_remove(struct container *c, husk_err *err);
/* Forgets every container and the debug console's (their pending calls get NOT_FOUND), killing
 * nothing. */
void containers_free_all(struct agent *ag);
/* SIGKILLs every container process (everything but the agent when PID 1). */
void containers_kill_all(struct agent *ag);

/* Takes c (or p) out of the table and frees it; pending calls get NOT_FOUND why. */
void containers_drop(struct container *c, const char *why);
void containers_drop_exec(struct process *p, const char *why);
/* Forgets finished execs nobody waits for or reads from. */
void containers_prune_execs(struct container *c);

#endif
