/* State shared by the agent's parts: the sandbox's containers and their processes. */
#ifndef HUSK_AGENT_AGENT_H
#define HUSK_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/loop.h"
#include "lib/token.h"
#include "cgroup.h"
#include "oci/ocispec.h"
#include "request.h"

#define AGENT_VERSION        "0.1.0"
#define AGENT_MAX_CONTAINERS 256
#define AGENT_MAX_EXECS      1024
#define AGENT_OOM_QUEUE      64
#define AGENT_OOM_WAITERS    8

struct ttrpc_call;
struct read_req;
struct wait_req;
struct dns_relay;

/* One output pipe of a process; read only while a ReadStdout/ReadStderr waits (flow control). */
struct stream {
	int fd; /* read end, -1 once closed */
	int eof;
	struct read_req *reads; /* FIFO of pending reads */
	struct husk_loop *loop;
};

struct process {
	char exec_id[SPEC_MAX_ID + 1]; /* "" for the container's init */
	pid_t pid;                     /* in the agent's pid namespace */
	int exited;
	int exit_status; /* as a shell reports it */
	int stdin_fd;    /* write end, -1 if none or closed */
	uint8_t *held;   /* a WriteStdin's bytes stdin could not take yet (watched for EPOLLOUT) */
	size_t held_len;
	struct ttrpc_call *held_call; /* its call, NULL if the host hung up */
	struct stream out, err;
	int terminal;   /* process.terminal: out.fd/stdin_fd are dups of pty_fd */
	int want_stdin; /* the host asked for stdin */
	int pty_fd;     /* the pty master, once the process sent it, else -1 */
	struct wait_req *waits;
	int report_fd;              /* an exec's setup report pipe, until it exec'd */
	struct ttrpc_call *pending; /* the ExecProcess call awaiting that */
	int64_t requested_us;       /* an exec's: when ExecProcess came (monotonic_us) */
	struct container *ctr;
	struct process *next;
};

enum container_state {
	CONTAINER_CREATING, /* the init sets up; CreateContainer awaits READY */
	CONTAINER_CREATED,  /* the init waits for the start byte */
	CONTAINER_STARTING, /* StartContainer awaits the exec */
	CONTAINER_STARTED,
};

struct container {
	char id[SPEC_MAX_ID + 1];
	struct process *init;
	struct process *execs;
	size_t nexecs;
	enum container_state state;
	int report_fd;                     /* the init's setup report pipe, until started */
	int start_fd;                      /* write end of the start sync pipe, until started */
	struct ttrpc_call *pending;        /* the Create/StartContainer call awaiting the init */
	char pidns[64];                    /* readlink of /proc/<init>/ns/pid */
	char cgroup[64 + 1 + SPEC_MAX_ID]; /* cgroup_parent/id, "" without cgroups */
	struct spec_seccomp *seccomp;      /* linux.seccomp for the init and every exec, or NULL */
	int userns;                        /* its own user namespace, which its execs join */
	struct spec_idmaps uid_maps, gid_maps; /* its maps, which an exec's ids must be in */
	int shared_pidns;                      /* it joined another container's pid namespace */
	int oom_wd;                            /* inotify watch of its memory.events, or -1 */
	uint64_t oom_kills;                    /* memory.events oom_kill last seen */
	int events_wd;                         /* inotify watch of its cgroup.events, or -1 */
	struct ttrpc_call *freezing; /* the Pause/ResumeContainer call awaiting cgroup.events */
	int freeze_want;             /* the "frozen" value that call waits for */
	int freeze_timer;            /* bounds that wait; -1 when none */
	struct agent *ag;
	struct container *next;
};

struct agent {
	struct husk_loop *loop;
	struct container *containers;
	size_t ncontainers;
	const char *shared_dir; /* where rootfs tags live: /run/husk/shared */
	int pid1;               /* running as the guest's init */
	char cgroup_parent[64]; /* where containers get cgroups, "" without (--listen-unix) */
	int inotify_fd;         /* watches the containers' memory.events and cgroup.events */
	int freeze_timeout_ms;  /* how long Pause/ResumeContainer wait for cgroup.events */
	struct ttrpc_call *oom_waiters[AGENT_OOM_WAITERS]; /* pending GetOOMEvent calls */
	char oom_queue[AGENT_OOM_QUEUE][SPEC_MAX_ID + 1];  /* ids of OOM kills nobody took yet */
	size_t oom_first, oom_count;
	int destroying;
	struct dns_relay *dns;     /* after StartDnsRelay */
	int debug_console;         /* the kernel command line enabled it (husk.debug_console=1) */
	struct container *debug;   /* the debug console's, when enabled; else NULL */
	uint64_t execs, exec_usec; /* execs started, their summed latency (GuestStats) */
	struct token token;        /* what every host connection must show first (auth.h) */
	struct cgroup_doomed doomed_cgroups; /* removed containers' cgroups not yet empty */
	bool token_set;
};

/*
 * What the calls of one ttrpc server reach (its handlers' data): the agent
 * port's reach the containers; the debug console port's only the execs of
 * ag->debug.
 */
struct rpc_scope {
	struct agent *ag;
	int debug;
};

#endif
