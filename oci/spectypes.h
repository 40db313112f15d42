/*
 * The subset of an OCI runtime spec (config.json) the agent honours, as its
 * parser (ocispec.c, ocispec_linux.c) hands it out.
 */
#ifndef HUSK_OCI_SPECTYPES_H
#define HUSK_OCI_SPECTYPES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hooks.h"
#include "limits.h"

struct spec_rlimit {
	int resource; /* RLIMIT_* */
	unsigned long long soft, hard;
};

/* process.capabilities as bit masks (1 << CAP_*) */
struct spec_caps {
	int present; /* without the object the process keeps the agent's capabilities */
	uint64_t bounding, effective, inheritable, permitted, ambient;
	/* ambient ones outside permitted and inheritable, which the kernel cannot raise: dropped
	 * from ambient with a warning, as runc does (runc spec writes such bundles) */
	uint64_t ambient_skipped;
};

struct spec_seccomp_arg {
	unsigned index;
	uint64_t value, value_two;
	int op; /* enum scmp_compare */
};

struct spec_seccomp_rule {
	int *syscalls; /* syscall numbers (native arch) */
	size_t nsyscalls;
	uint32_t action; /* SCMP_ACT_* with its errno/trace value */
	struct spec_seccomp_arg args[SPEC_MAX_SECCOMP_ARGS];
	size_t nargs;
};

/* linux.seccomp, syscall and arch names resolved by libseccomp */
struct spec_seccomp {
	uint32_t default_action;
	uint32_t arches[SPEC_MAX_ARCHES]; /* SCMP_ARCH_* */
	size_t narches;
	int flag_log, flag_spec_allow, flag_tsync;
	struct spec_seccomp_rule *rules;
	size_t nrules;
	char unknown[512]; /* syscall names libseccomp does not know, skipped, comma-joined */
};

/* One write linux.resources turns into: value into the container cgroup's file. */
struct spec_cgfile {
	const char *field; /* the OCI field, for errors */
	char file[64];
	char value[256];
};

struct spec_resources {
	struct spec_cgfile files[SPEC_MAX_CGFILES];
	size_t nfiles;
};

struct spec_sysctl {
	char *key; /* dotted name, already checked against the namespaced prefixes */
	char *value;
};

struct spec_device {
	char *path;    /* under /dev */
	unsigned type; /* S_IFCHR, S_IFBLK or S_IFIFO */
	unsigned major, minor;
	unsigned mode;
	uid_t uid;
	gid_t gid;
};

/* One line of linux.uidMappings/gidMappings: size ids from container_id up are host_id up. */
struct spec_idmap {
	uint32_t container_id, host_id, size;
};

struct spec_idmaps {
	struct spec_idmap *maps;
	size_t n;
};

/*
 * The namespaces a spec may join by path (linux.namespaces[].path): only
 * /proc/<pid>/ns/<name> of another container's init in the same sandbox,
 * which the agent checks before joining.
 */
enum spec_join { JOIN_IPC, JOIN_UTS, JOIN_NET, JOIN_PID, JOIN_COUNT };
extern const char *const spec_join_names[JOIN_COUNT]; /* "ipc", "uts", "net", "pid" */

struct spec_process {
	char **args; /* NULL-terminated, at least one entry */
	char **env;  /* NULL-terminated */
	char *cwd;   /* absolute */
	uid_t uid;
	gid_t gid;
	gid_t gids[SPEC_MAX_GIDS];
	size_t ngids;
	int no_new_privs;
	int umask; /* -1: keep the agent's (022) */
	struct spec_rlimit rlimits[SPEC_MAX_RLIMITS];
	size_t nrlimits;
	struct spec_caps caps;
	int has_oom_score_adj;
	int oom_score_adj;
	int lsm_fields; /* apparmorProfile/selinuxLabel given: accepted with a warning */
	int terminal;   /* a pty from the container's devpts on 0-2 */
	unsigned console_rows, console_cols; /* consoleSize, 0 when not given */
};

struct spec_mount {
	char *destination; /* absolute, no ".." component */
	char *type;        /* a filesystem type the agent can mount (see spec.c); NULL for binds */
	char *source;      /* for a bind mount: its shared entry, once the agent resolved it */
	unsigned long flags;       /* MS_BIND (| MS_REC for rbind) marks a bind mount */
	char *data;                /* options that are not mount flags, comma-joined, or NULL */
	unsigned long propagation; /* MS_PRIVATE, MS_SLAVE, MS_SHARED or MS_UNBINDABLE [| MS_REC] */
	char *shared_tag;          /* a bind mount's source under the shared directory */
	int copy_up;               /* tmpcopyup: a tmpfs starts with what the directory held */
};

struct spec {
	struct spec_process process;
	char *hostname; /* or NULL */
	int root_readonly;
	struct spec_mount *mounts;
	size_t nmounts;
	char **masked_paths;          /* linux.maskedPaths, NULL-terminated, or NULL */
	char **readonly_paths;        /* linux.readonlyPaths */
	char *domainname;             /* or NULL */
	struct spec_seccomp *seccomp; /* or NULL */
	struct spec_resources resources;
	struct spec_sysctl sysctl[SPEC_MAX_SYSCTL];
	size_t nsysctl;
	struct spec_device *devices; /* linux.devices */
	size_t ndevices;
	unsigned long
	    rootfs_propagation; /* MS_PRIVATE (default), MS_SLAVE, MS_SHARED, MS_UNBINDABLE */
	int needs_net_ns;   /* linux.namespaces has network: the guest's, which net.* sysctls set */
	int mount_label;    /* linux.mountLabel given: accepted with a warning */
	struct hooks hooks; /* the agent runs createContainer and startContainer */
	int userns;         /* linux.namespaces has user: a new one with these maps */
	struct spec_idmaps uid_maps, gid_maps;
	pid_t join_pid[JOIN_COUNT]; /* > 0: join /proc/<pid>/ns/<spec_join_names[i]> */
};

#endif
