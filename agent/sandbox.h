/* The sandbox's container table and the agent side of container lifecycles. */
#ifndef HUSK_AGENT_SANDBOX_H
#define HUSK_AGENT_SANDBOX_H

#include "agent.h"
#include "error.h"
#include "ocispec.h"

struct container *sandbox_find(struct agent *ag, const char *id);
/* The process exec_id ("" = init) of c, or NULL. */
struct process *sandbox_process(struct container *c, const char *exec_id);
/* Sets the container up to its start sync point (rootfs = shared_dir/rootfs_tag). */
int sandbox_create(struct agent *ag, const char *id, const struct spec *s, const char *rootfs_tag,
                   int want_stdin, husk_err *err);
/* Releases the init to exec; fails if the exec fails. */
int sandbox_start(struct container *c, husk_err *err);
int sandbox_exec(struct container *c, const char *exec_id, const struct spec_process *p,
                 int want_stdin, struct husk_loop *loop, husk_err *err);
/* Signals p, or with all every process in c's pid namespace. */
int sandbox_signal(struct container *c, struct process *p, int sig, int all, husk_err *err);
/* Forgets a container that is not running (one never started is killed). */
int sandbox_remove(struct agent *ag, struct container *c, husk_err *err);
/* Reaps every exited child (PID 1 duty) and records the exits of known processes. */
void sandbox_reap(struct agent *ag);
/* Forgets every container (their pending calls get NOT_FOUND), killing nothing. */
void sandbox_free(struct agent *ag);
/* SIGKILLs every container process (everything but the agent when PID 1). */
void sandbox_kill_all(struct agent *ag);

#endif
