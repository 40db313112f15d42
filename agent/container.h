/*
 * Child side of container processes: namespaces, mounts, root switch, user,
 * exec. A child tells the agent how setup went through a report pipe; setup
 * errors reach the host as the RPC's error message.
 */
#ifndef HUSK_AGENT_CONTAINER_H
#define HUSK_AGENT_CONTAINER_H

#include <stdint.h>
#include <sys/types.h>

#include "oci/ocispec.h"

/* REPORT_CONSOLE carries the pty master of a process.terminal process (SCM_RIGHTS). */
enum report_kind { REPORT_READY = 1, REPORT_PID = 2, REPORT_ERROR = 3, REPORT_CONSOLE = 4 };

/* One record per message on a SOCK_SEQPACKET pair. */
struct report {
	int32_t kind;
	int32_t pid;
	char msg[248];
};

/* fds a child puts on 0, 1, 2 */
struct child_stdio {
	int in, out, err;
};

/*
 * Runs in the container init right after its clone into new mount, pid, uts
 * and ipc namespaces (but those the spec joins; the agent entered them for
 * the clone) and the spec's user namespace. With a user namespace it first
 * waits for a byte on start_fd (the agent wrote the maps). Joins cgroup_dir
 * ("" = stays) and makes its cgroup namespace there, sets up the container
 * from spec with rootfs as its root, runs the createContainer hooks, reports
 * READY, waits for the start byte on start_fd, runs the startContainer hooks,
 * then execs. Never returns.
 */
__attribute__((noreturn)) void container_init_main(const char *id, const struct spec *s,
                                                   const char *rootfs, const char *cgroup_dir,
                                                   const struct child_stdio *stdio, int report_fd,
                                                   int start_fd);
/*
 * Runs in a forked child: joins cgroup_dir and the namespaces of init_pid
 * (its user namespace too when userns), forks the exec'd process (reporting
 * its pid) and exits; the process gets the container's seccomp filter sc.
 * Never returns.
 */
__attribute__((noreturn)) void container_exec_main(pid_t init_pid, int userns,
                                                   const char *cgroup_dir,
                                                   const struct spec_seccomp *sc,
                                                   const struct spec_process *p,
                                                   const struct child_stdio *stdio, int report_fd);

#endif
