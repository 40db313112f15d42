/*
 * The sandbox's host cgroup: linux.cgroupsPath on every cgroup hierarchy of
 * the host, made and removed the way runc's cgroupfs driver does, holding
 * every host process of the sandbox (the owner joins it before it spawns
 * husk-vsockd, virtiofsd and QEMU, which inherit it). The limits written there
 * are the host's side of linux.resources (docs/isolation.md, "The host
 * cgroup"): pids and CPU as given, memory as the VM's size plus the host's
 * overhead.
 *
 * Paths, runc's way: an absolute cgroupsPath is taken from each hierarchy's
 * root, a relative one from the caller's own cgroup in that hierarchy (on a
 * pure cgroup v2 host: from its parent, as runc's fs2 driver, which must not
 * put the sandbox beside processes), ".." never climbs above either; no
 * cgroupsPath is the container id, relative. v1 hierarchies are those of
 * runc's subsystems that are mounted (and name=systemd); a hybrid host's
 * cgroup2 hierarchy is joined too (no controllers there); the limits go to v1,
 * or to cgroup2 on a pure v2 host. The systemd driver's "slice:prefix:name" is
 * refused (see hostcg_plan).
 */
#ifndef HUSK_HOSTCG_H
#define HUSK_HOSTCG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "resources.h"

/* the list of directories the owner made, one a line, deepest first, in the state dir */
#define HOSTCG_RECORD          "cgroups"
#define HOSTCG_MAX_HIERARCHIES 16
/* the longest cgroupsPath taken */
#define HOSTCG_MAX_PATH 1024
/* how long removal waits for the processes left in a cgroup to exit */
#define HOSTCG_EXIT_WAIT_MS 10000
/* extra host memory of a sandbox beyond the VM's RAM: see hostcg_memory_bytes */
#define HOSTCG_MEMORY_OVERHEAD_MIB 256

struct hostcg_hier {
	char controllers[64]; /* "cpu", "cpu,cpuacct", "name=systemd"; "" for cgroup2 */
	char *mount;          /* its mount point */
	char *own;            /* the caller's cgroup in it, a directory under mount */
	char *dir;            /* the sandbox's cgroup: a directory under mount */
	size_t made;          /* how many trailing components of dir hostcg_enter made */
};

struct hostcg {
	struct hostcg_hier h[HOSTCG_MAX_HIERARCHIES];
	size_t n;
	bool v2;           /* a pure cgroup v2 host: the limits go to the one hierarchy */
	bool joined;       /* the owner is in the sandbox's cgroups */
	bool quota_lifted; /* the CPU quota is unlimited until hostcg_restore_cpu_quota */
	char path[HOSTCG_MAX_PATH + 1]; /* the cleaned cgroupsPath, for messages */
};

/* What the host cgroup gets from linux.resources and the VM's size. */
struct hostcg_limits {
	int64_t pids;            /* pids.max: 0 none, < 0 "max" */
	uint64_t cpu_shares;     /* 0: none */
	int64_t cpu_quota;       /* 0: none; < 0: unlimited */
	uint64_t cpu_period;     /* 0: none */
	const char *cpus, *mems; /* NULL: none */
	uint64_t memory;         /* bytes; 0: none */
};

/*
 * runc's CleanPath: lexically cleaned; a relative path cannot climb out with
 * "..". out holds at least strlen(path) + 2 bytes. "" stays "".
 */
void hostcg_clean_path(const char *path, char *out, size_t len);

/*
 * Plans the sandbox's cgroup (fills cg, nothing on the host changes) from
 * cgroupsPath (NULL: none), the container id, the text of /proc/self/cgroup
 * and of /proc/self/mountinfo. A "slice:prefix:name" path (two colons, no
 * slash), or systemd_driver (--systemd-cgroup), is refused: the message says
 * whether the host runs systemd (host_systemd). Errors name linux.cgroupsPath.
 */
int hostcg_plan(struct hostcg *cg, const char *cgroups_path, const char *id, bool systemd_driver,
                bool host_systemd, const char *self_cgroup, const char *mountinfo, husk_err *err);
/* hostcg_plan for this process, with the cgroupsPath of a config.json (host-validated). */
int hostcg_plan_self(struct hostcg *cg, const char *spec_json, size_t spec_len, const char *id,
                     bool systemd_driver, husk_err *err);
void hostcg_free(struct hostcg *cg);

/*
 * The host's limits: pids and CPU as l gives them; memory (when l has a
 * limit) the VM's vm_mib plus HOSTCG_MEMORY_OVERHEAD_MIB. A pids limit below
 * hostcg_tasks_needed(vcpus) is refused with the numbers.
 */
int hostcg_limits(const struct resource_limits *l, unsigned vcpus, unsigned vm_mib,
                  struct hostcg_limits *out, husk_err *err);
/*
 * Tasks (pids counts threads) the sandbox's host processes use at most: the
 * owner and a hook it runs, husk-vsockd, virtiofsd (two processes), QEMU's
 * threads (one a vCPU) and slack for QEMU's workers.
 */
unsigned hostcg_tasks_needed(unsigned vcpus);

/*
 * The limits of the planned cgroup's parent, the kubelet's pod cgroup under CRI (which holds
 * the pod's containers' limits plus the RuntimeClass overhead when every container has them):
 * out->memory_limit from memory.limit_in_bytes (v1) or memory.max (v2), out->cpu_quota and
 * cpu_period from cpu.cfs_quota_us/cfs_period_us or cpu.max; the rest and whatever is
 * unlimited, absent or unreadable stays 0. Only the parent: an ancestor's limit is the node's.
 */
void hostcg_parent_limits(const struct hostcg *cg, struct resource_limits *out);
/*
 * Makes the missing directories of every hierarchy's cgroup, writes the
 * limits and moves this process in. On error (naming the file and the
 * cause) whatever it made is removed and this process is where it was.
 */
int hostcg_enter(struct hostcg *cg, const struct hostcg_limits *l, husk_err *err);
/*
 * A CPU quota is written by hostcg_enter (so one the host refuses fails
 * before the VM starts), then lifted while the VM boots and the container is
 * created, the runtime's work (under TCG a fraction of a CPU would make the
 * boot outlast its deadline); this sets it again, before the container is
 * reported created and its process can run.
 */
int hostcg_restore_cpu_quota(struct hostcg *cg, const struct hostcg_limits *l, husk_err *err);
/* Writes HOSTCG_RECORD (what hostcg_enter made) into the directory dirfd. */
int hostcg_record(const struct hostcg *cg, int dirfd, husk_err *err);
/*
 * Moves this process back to its own cgroups and removes what hostcg_enter
 * made once the processes left in it have exited (at most
 * HOSTCG_EXIT_WAIT_MS). Failures are logged. hostcg_free afterwards.
 */
void hostcg_leave(struct hostcg *cg);
/*
 * husk delete: removes the directories a HOSTCG_RECORD in dir lists (each
 * checked to be a cgroup directory) once their processes have exited, as
 * hostcg_leave. No record: nothing to do. Failures are logged.
 */
void hostcg_remove_recorded(const char *dir);

#endif
