/*
 * containerd-shim-husk-v2: containerd's runtime v2 front over the sandbox
 * library (shim/lib). One shim process serves one pod (or one lone
 * container): the first task created boots the VM, later tasks of the same
 * group join it, and the shim exits on Shutdown once no task is left.
 *
 * Every ttrpc request is queued and served from the top of the event loop,
 * one at a time, so a handler may run the loop (sandbox boot, synchronous
 * agent calls) without re-entering another handler. Agent callbacks only
 * record what happened; shim_progress() acts on it at the top level.
 */
#ifndef HUSK_SHIMV2_H
#define HUSK_SHIMV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "shim/lib/config.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/loop.h"
#include "shim/lib/relay.h"
#include "shim/lib/ratelimit.h"
#include "shim/lib/hostcg.h"
#include "shim/lib/resources.h"
#include "shim/lib/sandbox.h"
#include "shim/lib/bundle.h"
#include "ttrpc/ttrpc.h"

#define SHIM_NAME       "containerd-shim-husk-v2"
#define SHIM_STATE_ROOT STATEDIR_SHIM_V2_ROOT
#define SHIM_SOCKET_DIR "/run/containerd/s"
#define TASK_SERVICE    "containerd.task.v2.Task"
#define DRAIN_MS        5000

struct shim_args {
	const char *ns;
	const char *address; /* containerd's gRPC socket (start/delete), our own (serving) */
	const char *publish_binary;
	const char *id;
	const char *bundle;
	const char *action; /* "start", "delete" or NULL (serve) */
	bool debug;
};

int shim_action_start(const struct shim_args *a);
int shim_action_delete(const struct shim_args *a);
int shim_serve(const struct shim_args *a);

/* The group a task belongs to (the pod): from its bundle's config.json annotations. */
char *shim_group_id(const char *bundle, const char *id, husk_err *err);
/* The group named by config.json text's annotations (the pod sandbox's id), or NULL. */
char *spec_group(const char *json, size_t len);
/* The JSON string value of annotations[key] in config.json text, or NULL. */
char *spec_annotation(const char *json, size_t len, const char *key);

struct shim;
/*
 * Turns the host namespace paths CRI writes into pod container specs
 * (/proc/<the pod's task pid>/ns/<type>) into the pod sandbox container's
 * namespaces in the guest (podspec.c).
 */
int pod_spec_adapt(struct shim *s, struct bundle *spec, husk_err *err);

/* --- stdio (stdio.c) --- */

struct stdio_paths {
	char *in, *out, *err; /* "" = no stream; FIFO path, fifo://, file://, binary:// */
	bool terminal;
};

struct task_io;
struct task_io *task_io_open(const struct stdio_paths *paths, const char *id, const char *ns,
                             husk_err *err);
int task_io_in(const struct task_io *io);  /* -1: no stdin */
int task_io_out(const struct task_io *io); /* -1: discard */
int task_io_err(const struct task_io *io);
/*
 * Once the relay has its own descriptions of the outputs: without ours a
 * reader that goes away shows as EPIPE and the end of output as EOF.
 */
void task_io_drop_outputs(struct task_io *io);
/* CloseIO: drops our own write end of the stdin FIFO so the writer's EOF gets through. */
void task_io_close_stdin(struct task_io *io);
/* Closes everything; a binary:// logger gets its EOF and SIGTERM. NULL is a no-op. */
void task_io_free(struct task_io *io);

/* --- rootfs (rootfs.c) --- */

struct mount_req {
	const char *type, *source;
	const char *const *options;
	size_t noptions;
};
/* Mounts each of containerd's rootfs mounts on target, in order. */
int rootfs_mount(const struct mount_req *mounts, size_t n, const char *target, husk_err *err);
void rootfs_unmount(const char *target);

/* --- events (publish.c) --- */

struct publisher;
/* address: $TTRPC_ADDRESS (NULL: events are dropped with a debug line). */
struct publisher *publisher_new(struct husk_loop *loop, const char *address, const char *ns,
                                husk_err *err);
/* Queues the event for /tasks/<topic>; events go out in order, retried on failure. */
void publish(struct publisher *p, const char *topic, const ProtobufCMessage *event);
/*
 * An event the guest causes (TaskOOM): at most 64 of them wait in the queue,
 * more are dropped, so they never take the place of a lifecycle event.
 */
void publish_guest(struct publisher *p, const char *topic, const ProtobufCMessage *event);
/* Runs the loop until every queued event is sent or timeout_ms passes. */
void publisher_flush(struct publisher *p, int timeout_ms);
void publisher_free(struct publisher *p);

/* --- tasks (task.c) --- */

enum proc_state { PROC_CREATED, PROC_RUNNING, PROC_STOPPED };

/* The shim's record of one of a task's processes: its init or an exec. */
struct task_proc {
	struct task *task;
	char *exec_id; /* "" = the container's init */
	struct stdio_paths paths;
	uint8_t *spec; /* exec: the OCI process JSON */
	size_t spec_len;
	enum proc_state state;
	uint32_t pid; /* the host pid reported for it (the VMM's) */
	struct task_io *io;
	struct stdio_relay *relay;
	bool waited, drained; /* WaitProcess answered, output relayed */
	int64_t drain_deadline_ms;
	uint32_t exit_status;
	struct timespec exited_at;
	struct ttrpc_call **waiters;
	size_t nwaiters;
	struct task_proc *next;
};

struct task {
	struct shim *shim;
	char *id, *bundle, *rootfs;
	bool rootfs_mounted, paused;
	bool pod_sandbox;   /* the CRI's pause container: its stats are the pod's host side */
	uint32_t guest_pid; /* its init's in the guest once started: the pod joins its namespaces */
	struct rate_limit oom_events; /* TaskOOM: one per second, more coalesced */
	struct task_proc init;
	struct task_proc *execs;
	struct task *next;
};

struct job {
	struct ttrpc_call *call;
	const uint8_t *payload;
	size_t len;
	const struct rpc *rpc;
	struct job *next;
};

struct shim {
	const struct shim_args *args;
	struct husk_loop *loop;
	struct ttrpc_server *srv;
	int listen_fd;
	struct husk_config cfg;
	bool cfg_loaded;
	struct sandbox *sb;
	struct sbmetrics *metrics; /* once the VM is up */
	/* the pod's host cgroup, the sandbox spec's cgroupsPath: the shim and the VM's helpers */
	struct hostcg cg;
	struct resource_limits cg_res;
	struct hostcg_limits cg_limits;
	bool vm_dead;
	struct task *tasks;
	struct job *jobs, **jobs_tail;
	struct publisher *pub;
	struct rate_limit oom_polls; /* GetOOMEvent answers taken per second */
	int oom_timer;               /* the next poll once they are used up, or -1 */
	bool shutdown;
};

struct task *task_find(struct shim *s, const char *id);
/* The process (id, exec_id) or NULL. */
struct task_proc *task_proc_find(struct shim *s, const char *id, const char *exec_id);
/* Relays the stdio of a process that now exists in the guest and waits for it. */
int task_proc_run(struct task_proc *p, husk_err *err);
/* Records an exit (from WaitProcess, a kill before start, a dead VM). */
void task_proc_exited(struct task_proc *p, uint32_t status);
void task_proc_reply_wait(struct task_proc *p, struct ttrpc_call *call);
void task_proc_free(struct task_proc *p);
int stdio_paths_set(struct stdio_paths *sp, const char *in, const char *out, const char *errp,
                    bool terminal);
/* Unlinks t, unbinds its rootfs from the sandbox and frees it. */
void task_remove(struct shim *s, struct task *t);
/* Acts on exits and drained output, replies to Waits; returns the loop timeout to use. */
int shim_progress(struct shim *s);
/* Long-polls the agent's GetOOMEvent for the VM's life: each OOM kill becomes a TaskOOM. */
int shim_watch_oom(struct shim *s, husk_err *err);
/* The VM is gone: every process not yet stopped exits with 255. */
void shim_vm_died(struct shim *s, husk_err cause);
void tasks_free(struct shim *s);
/* After the VM's helpers are gone: the shim leaves the pod's host cgroup and removes it. */
void shim_leave_pod_cgroup(struct shim *s);
uint32_t shim_task_pid(struct shim *s);

/* --- the task service (service.c, rpc.c) --- */

struct rpc {
	const char *method;
	const ProtobufCMessageDescriptor *req_desc;
	int (*serve)(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *req);
};

#define TASK_MAX_RPCS 32
extern const struct rpc task_rpcs[];
extern const size_t task_nrpcs;
/* Serves the queued requests. */
void shim_run_jobs(struct shim *s);
int shim_listen(struct shim *s, int fd, husk_err *err);

#endif
