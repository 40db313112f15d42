/*
 * Host-side shape checks of an OCI linux.resources object (from config.json
 * or `husk update --resources`), the limits the VM is sized from, and the
 * sizing rule itself. The guest agent validates and applies the values; the
 * host only makes sure the object has the shape the spec gives it before it
 * goes to the guest.
 */
#ifndef HUSK_RESOURCES_H
#define HUSK_RESOURCES_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "oci/limits.h"

#define RESOURCES_MAX_BYTES (64u << 10)
#define RESOURCES_MAX_DEPTH 16
/* the highest CPU number a cpuset may name (QEMU's and the config's vCPU bound) */
#define RESOURCES_MAX_CPUS 64

/*
 * Guest memory on top of the container's memory limit: the guest kernel
 * (about 40 MiB with its page tables and slab), the initrd's files (about
 * 10 MiB), the agent and the page cache the container's own files need.
 */
#define VM_MEMORY_OVERHEAD_MIB 128
#define VM_MEMORY_MAX_MIB      65536

struct resource_limits {
	int64_t memory_limit;  /* memory.limit, bytes; <= 0: none */
	int64_t cpu_quota;     /* cpu.quota, us per period; <= 0: none */
	uint64_t cpu_period;   /* cpu.period, us; 0: the kernel's default 100000 */
	unsigned cpuset_vcpus; /* the highest CPU in cpu.cpus + 1; 0: no cpuset */
	/* the rest is for the host cgroup (hostcg.h) */
	uint64_t cpu_shares;            /* cpu.shares; 0: none */
	int64_t pids_limit;             /* pids.limit; 0: none, < 0: unlimited */
	char cpus[SPEC_MAX_CPUSET + 1]; /* cpu.cpus as given; "": none */
	char mems[SPEC_MAX_CPUSET + 1]; /* cpu.mems as given; "": none */
};

/* Checks o (field names it in errors) and fills *out from it. */
int resources_check(json_object *o, const char *field, struct resource_limits *out, husk_err *err);
/*
 * Parses len bytes (at most RESOURCES_MAX_BYTES) as one linux.resources
 * object and checks it; on success *obj owns the parsed object.
 */
int resources_parse(const char *buf, size_t len, json_object **obj, husk_err *err);
/* The limits of a (host-validated) config.json's linux.resources; all zero without one. */
int resources_from_spec(const char *json, size_t len, struct resource_limits *out, husk_err *err);

/*
 * The VM size for those limits: memory = ceil(limit in MiB) +
 * VM_MEMORY_OVERHEAD_MIB, at most VM_MEMORY_MAX_MIB and host_mib (the guest
 * kernel's page tables for memory it never uses are real); vCPUs = the
 * cpuset's highest CPU + 1 (the guest must have every CPU the cpuset names),
 * else ceil(quota / period), at most host_cpus. *vcpus and *memory_mib hold
 * the defaults on entry and keep them for a limit the spec does not set.
 */
void resources_vm_size(const struct resource_limits *l, unsigned host_cpus, uint64_t host_mib,
                       unsigned *vcpus, unsigned *memory_mib);
/* This host's online CPUs and memory in MiB (0 where unknown), for resources_vm_size. */
void resources_host(unsigned *cpus, uint64_t *mib);

#endif
