/*
 * The bounds of the OCI spec contract, one table for both sides: the agent's parser
 * (ocispec.c, ocispec_linux.c, hooks.c) enforces them on what the host sends, and the host
 * runs that same parser over a bundle's config.json before it starts anything, so a spec
 * over any of them is refused on the host with the agent's own message.
 */
#ifndef HUSK_OCI_LIMITS_H
#define HUSK_OCI_LIMITS_H

/* the JSON text: a config.json, an exec's process, an update's linux.resources */
#define SPEC_MAX_JSON  (1u << 20)
#define SPEC_MAX_DEPTH 16 /* nesting of arrays and objects */

/* process */
#define SPEC_MAX_STRING  32768 /* one entry of args, env and the other string lists */
#define SPEC_MAX_ARGS    1024
#define SPEC_MAX_ENV     1024
#define SPEC_MAX_GIDS    64 /* process.user.additionalGids */
#define SPEC_MAX_RLIMITS 16

/* mounts, paths, names */
#define SPEC_MAX_ID            255 /* a container or exec id: a file name (NAME_MAX), as runc's */
#define SPEC_MAX_MOUNTS        64
#define SPEC_MAX_MOUNT_OPTIONS 64
#define SPEC_MAX_MOUNT_DATA    4000 /* options that are no flags, comma-joined */
#define SPEC_MAX_FSTYPE        64   /* mounts[].type */
#define SPEC_MAX_PATH          4096 /* cwd, mount destinations and sources, device and hook paths */
#define SPEC_MAX_HOST          64   /* hostname, domainname */
#define SPEC_MAX_MASKS         128  /* linux.maskedPaths, linux.readonlyPaths */

/* linux */
#define SPEC_MAX_NAMESPACES    16
#define SPEC_MAX_NS_PATH       64  /* linux.namespaces[].path: /proc/<pid>/ns/<name> */
#define SPEC_MAX_RULES         512 /* linux.seccomp.syscalls */
#define SPEC_MAX_NAMES         512 /* names of one seccomp rule */
#define SPEC_MAX_ARCHES        16
#define SPEC_MAX_SECCOMP_FLAGS 8
#define SPEC_MAX_SECCOMP_ARGS  6   /* args of one seccomp rule: a syscall has six */
#define SPEC_MAX_CGFILES       64  /* cgroup files linux.resources writes */
#define SPEC_MAX_HUGEPAGES     8   /* linux.resources.hugepageLimits */
#define SPEC_MAX_DEVICE_RULES  256 /* linux.resources.devices */
#define SPEC_MAX_CPUSET        128 /* linux.resources.cpu.cpus, .mems */
#define SPEC_MAX_SYSCTL        64
#define SPEC_MAX_SYSCTL_KEY    128
#define SPEC_MAX_SYSCTL_VALUE  4096
#define SPEC_MAX_DEVICES       4096 /* linux.devices: Docker's --privileged lists every host node */
#define SPEC_MAX_IDMAPS        340  /* the kernel's limit of uid_map/gid_map lines */
#define SPEC_IDMAP_TEXT        4096 /* and its limit of one write (a page) */

/* hooks */
#define HOOKS_MAX        64   /* per kind */
#define HOOK_MAX_ARGS    1024 /* args, and env entries */
#define HOOK_MAX_TIMEOUT 86400

#endif
