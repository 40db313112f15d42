/*
 * ListProcesses: the processes of a container's cgroup as the guest sees
 * them (pids in the agent's pid namespace), read from /proc. The fields come
 * from files the container's processes control in part (comm, cmdline): every
 * length is bounded and the whole reply stays under the ttrpc frame limit.
 */
#ifndef HUSK_AGENT_PROCLIST_H
#define HUSK_AGENT_PROCLIST_H

#include <stddef.h>
#include <stdint.h>

#include "proto/agent.pb-c.h"
#include "lib/error.h"

#define PROCLIST_MAX_PROCS   4096
#define PROCLIST_MAX_CMDLINE 4096
/* cmdline bytes in one reply; later processes get shorter (or empty) cmdlines */
#define PROCLIST_CMDLINE_BUDGET (2u << 20)

struct proclist {
	Husk__Agent__V1__ListProcessesResponse resp;
	Husk__Agent__V1__ProcessInfo *infos;
	Husk__Agent__V1__ProcessInfo **ptrs;
	char (*states)[2];
	size_t budget; /* cmdline bytes left */
};

/* Fills l from the pids listed in cgroup_dir/cgroup.procs. */
int proclist_read(const char *cgroup_dir, struct proclist *l, husk_err *err);
void proclist_free(struct proclist *l);

/* The state letter and ppid of a /proc/<pid>/stat line; -1 if malformed. */
int proclist_parse_stat(const char *stat, char *state, uint32_t *ppid);
/* The real uid of a /proc/<pid>/status text; -1 without a Uid: line. */
int proclist_parse_uid(const char *status, uint32_t *uid);
/* argv with its NULs as spaces, trailing ones dropped; in place, returns the new length. */
size_t proclist_join_argv(char *buf, size_t len);

#endif
