/*
 * What a host process of a sandbox costs the host, from /proc: memory (smaps_rollup), CPU time
 * (stat) and system-call I/O (io), for it alone or summed over it and its descendants. A helper
 * may fork: virtiofsd serves the guest from a child of the process husk started, which only
 * waits for it, so what the child uses is the sandbox's too.
 */
#ifndef HUSK_PROCFIG_H
#define HUSK_PROCFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Processes of one tree counted at most (a helper taken over could fork without end). */
#define PROCFIG_TREE_MAX 64

struct proc_figures {
	uint64_t pss, rss; /* bytes */
	uint64_t cpu_ns;   /* user and system */
	uint64_t rchar, wchar;
	unsigned procs; /* processes counted (those gone are not) */
};

/* pid's figures, with its descendants' added when tree is set; zeros where unreadable. */
void procfig_read(pid_t pid, bool tree, struct proc_figures *out);

#endif
