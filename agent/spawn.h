/*
 * Agent side of container processes: pipes, clone/fork, the setup reports
 * that answer CreateContainer, StartContainer and ExecProcess once the child
 * got there (read in the event loop), and reaping.
 *
 * The lifecycle calls return 0 when call will be answered once the child got
 * there, or -1 with *err for the caller to answer.
 */
#ifndef HUSK_AGENT_SPAWN_H
#define HUSK_AGENT_SPAWN_H

#include "agent.h"
#include "lib/error.h"
#include "oci/ocispec.h"
#include "ttrpc/ttrpc.h"

/*
 * Sets container id up to its start sync point (rootfs = shared_dir/rootfs_tag;
 * it takes s->seccomp and the id maps).
 */
int spawn_container(struct agent *ag, const char *id, struct spec *s, const char *rootfs_tag,
                    int want_stdin, struct ttrpc_call *call, husk_err *err);
/* Releases c's init to exec the container's process. */
int spawn_start(struct container *c, struct ttrpc_call *call, husk_err *err);
int spawn_exec(struct container *c, const char *exec_id, const struct spec_process *p,
               int want_stdin, struct ttrpc_call *call, husk_err *err);
/* Reaps every exited child (PID 1 duty) and records the exits of known processes. */
void spawn_reap(struct agent *ag);

#endif
