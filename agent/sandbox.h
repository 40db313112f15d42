/* The sandbox's container table and the agent side of container lifecycles. */
#ifndef HUSK_AGENT_SANDBOX_H
#define HUSK_AGENT_SANDBOX_H

#include "agent.h"
#include "ttrpc/ttrpc.h"
#include "lib/error.h"
#include "oci/ocispec.h"

struct container *sandbox_find(struct agent *ag, const char *id);
/* The process exec_id ("" = init) of c, or NULL. */
struct process *sandbox_process(struct container *c, const char *exec_id);
/*
 * The lifecycle calls return 0 when call will be answered once the child got
 * there (from spawn.c, in the event loop), or -1 with *err for the caller to
 * answer. Create sets the container up to its start sync point (rootfs =
 * shared_dir/rootfs_tag; it takes s->seccomp), start releases the init to exec.
 */
int sandbox_create(struct agent *ag, const char *id, struct spec *s, const char *rootfs_tag,
                   int want_stdin, struct ttrpc_call *call, husk_err *err);
int sandbox_start(struct container *c, struct ttrpc_call *call, husk_err *err);
int sandbox_exec(struct container *c, const char *exec_id, const struct spec_process *p,
                 int want_stdin, struct ttrpc_call *call, husk_err *err);
/* Signals p, or with all every process in c's pid namespace. */
int sandbox_signal(struct container *c, struct process *p, int sig, int all, husk_err *err);
/* Forgets a container that is not running (one never started is killed). */
int sandbox_remove(struct container *c, husk_err *err);
/* Reaps every exited child (PID 1 duty) and records the exits of known processes. */
void sandbox_reap(struct agent *ag);
/* Forgets every container (their pending calls get NOT_FOUND), killing nothing. */
void sandbox_free(struct agent *ag);
/* SIGKILLs every container process (everything but the agent when PID 1). */
void sandbox_kill_all(struct agent *ag);

/* Takes c (or p) out of the table and frees it; pending calls get NOT_FOUND why. */
void sandbox_drop(struct container *c, const char *why);
void sandbox_drop_exec(struct process *p, const char *why);
/* Forgets finished execs nobody waits for or reads from. */
void sandbox_prune_execs(struct container *c);
/* Reads the pid reports that are already there (spawn.c; see sandbox_reap). */
void spawn_poll_execs(struct agent *ag);

#endif
