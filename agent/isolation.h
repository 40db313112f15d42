/*
 * Child side of the isolation settings, run in a container process between
 * clone/fork and exec: seccomp, sysctl, oom_score_adj, device nodes, cgroup
 * membership; and the agent's side of a user namespace.
 */
#ifndef HUSK_AGENT_ISOLATION_H
#define HUSK_AGENT_ISOLATION_H

#include "lib/error.h"
#include "oci/ocispec.h"

/* Loads the filter; needs no_new_privs or CAP_SYS_ADMIN (it does not set no_new_privs). */
int seccomp_apply(const struct spec_seccomp *sc, husk_err *err);
/* Writes the sysctls through the agent's /proc (before the root switch). */
int sysctl_apply(const struct spec *s, husk_err *err);
/*
 * process.rlimits and oomScoreAdj of process pid (0: the caller), applied
 * from outside its user namespace (as runc does): inside one, raising a limit
 * or lowering the score is not allowed.
 */
int process_limits_apply(pid_t pid, const struct spec_process *p, husk_err *err);
/*
 * Creates linux.devices in the container's /dev (after its mounts), with their
 * parent directories; the numbers are the guest kernel's.
 */
int devices_create(const struct spec *s, husk_err *err);
/*
 * The agent's side of a user namespace: writes /proc/<pid>/uid_map and
 * gid_map (setgroups stays allowed: the writer is privileged outside).
 */
int userns_write_maps(pid_t pid, const struct spec_idmaps *uids, const struct spec_idmaps *gids,
                      husk_err *err);
/* Moves the calling process into the cgroup directory dir ("" = none). */
int cgroup_join(const char *dir, husk_err *err);

#endif
