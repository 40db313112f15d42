/*
 * containerd.task.v2.Task, one function per RPC. Each runs at the top of the
 * event loop (see shim.h) and replies exactly once. Unknown ids answer
 * NotFound, as containerd expects of State, Kill and Delete.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "proto/containerd/cgroups.pb-c.h"
#include "proto/containerd/events.pb-c.h"
#include "proto/containerd/task.pb-c.h"
#include "lib/log.h"
#include "shim.h"
#include "shim/lib/bundle.h"
#include "shim/lib/metricsdir.h"
#include "lib/json.h"
#include "shim/lib/podnet.h"
#include "shim/lib/procfig.h"
#include "shim/lib/sbmetrics.h"

#define MAX_MOUNTS          16
#define MAX_PIDS            4096
#define RUNTIME_OPTIONS_URL "runtimeoptions.v1.Options"
#define METRICS_URL         "io.containerd.cgroups.v2.Metrics"

typedef Containerd__Task__V2__TaskRequest TaskRequest;
typedef Containerd__Task__V2__IdRequest IdRequest;

/* Answers call with code and a formatted message; a handler returns 0 once it replied. */
#define reply_status(call, ...) (ttrpc_reply_error((call), __VA_ARGS__), 0)

static int reply_error(struct ttrpc_call *call, husk_err err)
{
	ttrpc_reply_husk_error(call, err);
	return 0;
}

static int reply_empty(struct ttrpc_call *call)
{
	ttrpc_reply(call, TTRPC_OK, NULL, NULL, 0);
	return 0;
}

static int not_found(struct ttrpc_call *call, const char *id, const char *exec_id)
{
	if (exec_id && exec_id[0])
		return reply_status(call, TTRPC_NOT_FOUND, "process %s of task %s: not found",
		                    exec_id, id);
	return reply_status(call, TTRPC_NOT_FOUND, "task %s: not found", id);
}

/* A synchronous agent call; resp may be NULL to discard the reply. */
static int agent_sync(struct shim *s, const char *method, const ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp,
                      husk_err *err)
{
	ProtobufCMessage *out = NULL;
	if (!s->sb || s->vm_dead)
		return husk_error_set(err, ENOTCONN, "%s: the VM is gone", method);
	if (agent_client_call_sync(sandbox_agent(s->sb), method, req, desc,
	                           (int)s->cfg.timeouts.agent_call_ms, &out, err) < 0)
		return -1;
	if (resp)
		*resp = out;
	else
		protobuf_c_message_free_unpacked(out, NULL);
	return 0;
}

static void set_timestamp(Containerd__Types__Timestamp *ts, const struct timespec *t)
{
	ts->seconds = t->tv_sec;
	ts->nanos = (int32_t)t->tv_nsec;
}

/* --- Create ----------------------------------------------------------------------------- */

static int load_config(struct shim *s, const Containerd__Types__Any *options, husk_err *err)
{
	Containerd__Types__RuntimeOptions *opts = NULL;
	if (s->cfg_loaded)
		return 0;
	if (options && !strcmp(options->type_url, RUNTIME_OPTIONS_URL)) {
		opts = containerd__types__runtime_options__unpack(NULL, options->value.len,
		                                                  options->value.data);
		if (!opts)
			return husk_error_set(err, EINVAL, "runtime options: malformed");
	} else if (options && options->type_url[0]) {
		log_warn("runtime options of type %s ignored", options->type_url);
	}
	const char *path = opts && opts->config_path[0] ? opts->config_path : NULL;
	int r = config_load(path, &s->cfg, err);
	containerd__types__runtime_options__free_unpacked(opts, NULL);
	if (r < 0)
		return -1;
	s->cfg_loaded = true;
	log_debug("configuration from %s", s->cfg.source);
	return 0;
}

static struct task *task_new(struct shim *s, const char *id, const char *bundle)
{
	struct task *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->shim = s;
	t->init.task = t;
	t->id = strdup(id);
	t->bundle = strdup(bundle);
	t->init.exec_id = strdup("");
	if (!t->id || !t->bundle || !t->init.exec_id) {
		free(t->id);
		free(t->bundle);
		free(t->init.exec_id);
		free(t);
		return NULL;
	}
	return t;
}

static int open_sandbox(struct shim *s, struct task *t, husk_err *err)
{
	cleanup_free char *group = shim_group_id(t->bundle, t->id, err);
	if (!group)
		return -1;
	s->sb = sandbox_create(s->loop, SHIM_STATE_ROOT, group, &s->cfg, err);
	return s->sb ? 0 : -1;
}

/*
 * The pod's VM holds all its containers: the kubelet limits the pod cgroup (the parent of the
 * sandbox's cgroupsPath) to their limits plus the RuntimeClass overhead when each has limits,
 * so the VM gets that memory less the host's overhead, and the CPUs of its quota. A pod
 * without such limits keeps the config's size.
 */
static int size_for_pod(struct shim *s, unsigned *vcpus, unsigned *mib, husk_err *err)
{
	struct resource_limits pod;
	unsigned host_cpus;
	uint64_t host_mib;
	hostcg_parent_limits(&s->cg, &pod);
	resources_host(&host_cpus, &host_mib);
	if (host_mib && pod.memory_limit > 0 && (uint64_t)pod.memory_limit >> 20 > host_mib)
		return husk_error_set(
		    err, 0,
		    "the pod's memory limit (its cgroup's) is %lld MiB, more than "
		    "this host's %llu MiB: no VM can hold its containers",
		    (long long)(pod.memory_limit >> 20), (unsigned long long)host_mib);
	int64_t vm = pod.memory_limit -
	             ((int64_t)(HOSTCG_MEMORY_OVERHEAD_MIB + VM_MEMORY_OVERHEAD_MIB) << 20);
	pod.memory_limit = vm > 0 ? vm : 0;
	sandbox_size_at_least(s->sb, &pod, vcpus, mib);
	return 0;
}

/*
 * The pod's host cgroup, the sandbox spec's cgroupsPath (below the kubelet's pod cgroup): the
 * shim joins it before the VM's helpers start, so they inherit it; it goes in tear_down, or
 * with the delete action after a dead shim (the record in the sandbox's state).
 */
static int enter_pod_cgroup(struct shim *s, const struct bundle *spec, const char *id,
                            husk_err *err)
{
	unsigned vcpus, mib;
	if (resources_from_spec(spec->json, spec->json_len, &s->cg_res, err) < 0 ||
	    hostcg_plan_self(&s->cg, spec->json, spec->json_len, id, false, err) < 0)
		return -1;
	if (size_for_pod(s, &vcpus, &mib, err) < 0 ||
	    hostcg_limits(&s->cg_res, vcpus, mib, &s->cg_limits, err) < 0 ||
	    hostcg_enter(&s->cg, &s->cg_limits, err) < 0)
		return -1;
	return hostcg_record(&s->cg, sandbox_dir_fd(s->sb), err);
}

void shim_leave_pod_cgroup(struct shim *s)
{
	hostcg_leave(&s->cg);
	hostcg_free(&s->cg);
}

/* Labelled with the pod's name and namespace, as the CRI annotates its sandbox. */
#define CRI_SANDBOX_NAME      "io.kubernetes.cri.sandbox-name"
#define CRI_SANDBOX_NAMESPACE "io.kubernetes.cri.sandbox-namespace"
static int serve_metrics(struct shim *s, const struct bundle *spec, husk_err *err)
{
	json_object *name = json_member(spec->annotations, CRI_SANDBOX_NAME);
	json_object *ns = json_member(spec->annotations, CRI_SANDBOX_NAMESPACE);
	s->metrics =
	    sbmetrics_serve(s->loop, s->sb, "pod", name ? json_object_get_string(name) : NULL,
	                    ns ? json_object_get_string(ns) : NULL, err);
	if (!s->metrics)
		return -1;
	sbmetrics_set_state(s->metrics, "running");
	return 0;
}

/* The CRI's pod sandbox (pause) container, as it annotates it. */
#define CRI_CONTAINER_TYPE "io.kubernetes.cri.container-type"
static bool is_pod_sandbox(const struct bundle *spec)
{
	json_object *type = json_member(spec->annotations, CRI_CONTAINER_TYPE);
	return json_object_is_type(type, json_type_string) &&
	       !strcmp(json_object_get_string(type), "sandbox");
}

static int mount_task_rootfs(struct task *t, const Containerd__Task__V2__CreateTaskRequest *req,
                             husk_err *err)
{
	struct mount_req mounts[MAX_MOUNTS];
	if (!req->n_rootfs)
		return 0;
	if (req->n_rootfs > MAX_MOUNTS)
		return husk_error_set(err, E2BIG, "more than %d rootfs mounts", MAX_MOUNTS);
	for (size_t i = 0; i < req->n_rootfs; i++)
		mounts[i] =
		    (struct mount_req){.type = req->rootfs[i]->type,
		                       .source = req->rootfs[i]->source,
		                       .options = (const char *const *)req->rootfs[i]->options,
		                       .noptions = req->rootfs[i]->n_options};
	if (rootfs_mount(mounts, req->n_rootfs, t->rootfs, err) < 0)
		return -1;
	t->rootfs_mounted = true;
	return 0;
}

/*
 * The spec as the agent will get it (namespace paths made the guest's, the pod's network
 * namespace the VM's), checked against the agent's contract; then rootfs, VM (the group's first
 * task boots it), stdio and the container in the guest. A refused spec starts and leaves nothing.
 */
static int create_in_sandbox(struct shim *s, struct task *t,
                             const Containerd__Task__V2__CreateTaskRequest *req, husk_err *err)
{
	struct bundle spec = {0};
	bool boot = !s->sb;
	int r = -1;
	if (bundle_load(t->bundle, &spec, &t->rootfs, err) < 0 || bundle_ns_check(&spec, err) < 0 ||
	    (boot && spec.net_path && bundle_drop_net_path(&spec, err) < 0) ||
	    pod_spec_adapt(s, &spec, err) < 0 || bundle_check(&spec, err) < 0) {
		failcount_add(FAIL_BUNDLE);
		goto out;
	}
	t->pod_sandbox = is_pod_sandbox(&spec);
	if (load_config(s, req->options, err) < 0 || (boot && open_sandbox(s, t, err) < 0) ||
	    mount_task_rootfs(t, req, err) < 0 ||
	    /* read-write: the agent remounts a read-only root itself once the spec's mount
	       points exist (runc's order); CRI's read-only sandbox root lacks some of them */
	    sandbox_add_rootfs(s->sb, t->id, t->rootfs, false, err) < 0 ||
	    sandbox_add_mounts(s->sb, t->id, &spec, err) < 0)
		goto out;
	if (boot &&
	    (enter_pod_cgroup(s, &spec, t->id, err) < 0 ||
	     (spec.net_path && sandbox_attach_network(s->sb, spec.net_path, err) < 0) ||
	     sandbox_set_debug_console(s->sb, &spec, err) < 0 || sandbox_boot(s->sb, err) < 0 ||
	     hostcg_restore_cpu_quota(&s->cg, &s->cg_limits, err) < 0 ||
	     shim_watch_oom(s, err) < 0 || serve_metrics(s, &spec, err) < 0))
		goto out;
	t->init.io = task_io_open(&t->init.paths, t->id, s->args->ns, err);
	if (!t->init.io ||
	    sandbox_create_container(s->sb, t->id, &spec, t->init.paths.in[0], err) < 0)
		goto out;
	r = 0;
out:
	bundle_free(&spec);
	if (r < 0 && s->sb)
		sandbox_release_container(s->sb, t->id);
	if (r < 0 && boot && s->sb && !s->tasks) {
		sbmetrics_free(s->metrics);
		s->metrics = NULL;
		sandbox_destroy(s->sb);
		s->sb = NULL;
		shim_leave_pod_cgroup(s);
	}
	return r;
}

static void publish_create(struct shim *s, struct task *t,
                           const Containerd__Task__V2__CreateTaskRequest *req)
{
	Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
	Containerd__Events__TaskIO io = CONTAINERD__EVENTS__TASK_IO__INIT;
	io.stdin = req->stdin;
	io.stdout = req->stdout;
	io.stderr = req->stderr;
	io.terminal = req->terminal;
	ev.container_id = t->id;
	ev.bundle = t->bundle;
	ev.n_rootfs = req->n_rootfs;
	ev.rootfs = req->rootfs;
	ev.io = &io;
	ev.pid = shim_task_pid(s);
	publish(s->pub, "/tasks/create", &ev.base);
}

static int rpc_create(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	const Containerd__Task__V2__CreateTaskRequest *req = (const void *)m;
	Containerd__Task__V2__CreateTaskResponse resp =
	    CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;
	cleanup_error husk_err err = NULL;
	if (task_find(s, req->id))
		return reply_status(call, TTRPC_ALREADY_EXISTS, "task %s: already exists", req->id);
	if (req->checkpoint[0] || req->parent_checkpoint[0])
		return reply_status(call, TTRPC_UNIMPLEMENTED, "create %s: restoring a checkpoint",
		                    req->id);
	if (s->vm_dead)
		return reply_status(call, TTRPC_FAILED_PRECONDITION, "create %s: the VM is gone",
		                    req->id);
	if (!req->bundle[0] || req->bundle[0] != '/')
		return reply_status(call, TTRPC_INVALID_ARGUMENT,
		                    "create %s: bundle %s: not absolute", req->id, req->bundle);
	struct task *t = task_new(s, req->id, req->bundle);
	if (!t || stdio_paths_set(&t->init.paths, req->stdin, req->stdout, req->stderr,
	                          req->terminal) < 0) {
		if (t)
			task_remove(s, t);
		return reply_status(call, TTRPC_RESOURCE_EXHAUSTED, "create %s: out of memory",
		                    req->id);
	}
	if (create_in_sandbox(s, t, req, &err) < 0) {
		task_remove(s, t);
		husk_error_prefix(&err, "create %s", req->id);
		log_error("%s", husk_error_msg(err));
		return reply_error(call, err);
	}
	t->next = s->tasks;
	s->tasks = t;
	t->init.pid = shim_task_pid(s);
	publish_create(s, t, req);
	resp.pid = t->init.pid;
	ttrpc_reply_pb(call, &resp.base);
	return 0;
}

/* --- Start, Exec ------------------------------------------------------------------------ */

static int exec_in_guest(struct shim *s, struct task_proc *p, husk_err *err)
{
	Husk__Agent__V1__ExecProcessRequest req = HUSK__AGENT__V1__EXEC_PROCESS_REQUEST__INIT;
	req.container_id = p->task->id;
	req.exec_id = p->exec_id;
	req.process_json.data = p->spec;
	req.process_json.len = p->spec_len;
	req.stdin = p->paths.in[0] != '\0';
	return agent_sync(s, "ExecProcess", &req.base,
	                  &husk__agent__v1__exec_process_response__descriptor, NULL, err);
}

static int start_in_guest(struct shim *s, struct task *t, husk_err *err)
{
	if (s->vm_dead)
		return husk_error_set(err, ENOTCONN, "the VM is gone");
	return sandbox_start_container(s->sb, t->id, &t->guest_pid, err);
}

static void publish_started(struct shim *s, struct task_proc *p)
{
	if (p->exec_id[0]) {
		Containerd__Events__TaskExecStarted ev =
		    CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
		ev.container_id = p->task->id;
		ev.exec_id = p->exec_id;
		ev.pid = p->pid;
		publish(s->pub, "/tasks/exec-started", &ev.base);
	} else {
		Containerd__Events__TaskStart ev = CONTAINERD__EVENTS__TASK_START__INIT;
		ev.container_id = p->task->id;
		ev.pid = p->pid;
		publish(s->pub, "/tasks/start", &ev.base);
	}
}

static int rpc_start(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	const TaskRequest *req = (const void *)m;
	Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;
	cleanup_error husk_err err = NULL;
	struct task_proc *p = task_proc_find(s, req->id, req->exec_id);
	if (!p)
		return not_found(call, req->id, req->exec_id);
	if (p->state != PROC_CREATED || p->waited)
		return reply_status(call, TTRPC_FAILED_PRECONDITION, "start %s: already started",
		                    req->id);
	int r = p->exec_id[0] ? exec_in_guest(s, p, &err) : start_in_guest(s, p->task, &err);
	if (r < 0) {
		husk_error_prefix(&err, "start %s", req->id);
		return reply_error(call, err);
	}
	if (task_proc_run(p, &err) < 0) {
		log_error("start %s/%s: %s", req->id, req->exec_id, husk_error_msg(err));
		task_proc_exited(p, 255);
	}
	publish_started(s, p);
	resp.pid = p->pid;
	ttrpc_reply_pb(call, &resp.base);
	return 0;
}

static int rpc_exec(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	const Containerd__Task__V2__ExecProcessRequest *req = (const void *)m;
	cleanup_error husk_err err = NULL;
	struct task *t = task_find(s, req->id);
	if (!t)
		return not_found(call, req->id, NULL);
	if (!req->exec_id[0] || !req->spec || !req->spec->value.len)
		return reply_status(call, TTRPC_INVALID_ARGUMENT, "exec %s: no exec id or spec",
		                    req->id);
	if (task_proc_find(s, req->id, req->exec_id))
		return reply_status(call, TTRPC_ALREADY_EXISTS, "exec %s: %s already exists",
		                    req->id, req->exec_id);
	if (t->init.state != PROC_RUNNING || t->init.waited)
		return reply_status(call, TTRPC_FAILED_PRECONDITION,
		                    "exec %s: container not running", req->id);
	struct task_proc *p = calloc(1, sizeof(*p));
	if (!p)
		return reply_status(call, TTRPC_RESOURCE_EXHAUSTED, "exec: out of memory");
	p->task = t;
	p->pid = shim_task_pid(s);
	p->exec_id = strdup(req->exec_id);
	p->spec = malloc(req->spec->value.len);
	p->spec_len = req->spec->value.len;
	if (!p->exec_id || !p->spec ||
	    stdio_paths_set(&p->paths, req->stdin, req->stdout, req->stderr, req->terminal) < 0) {
		task_proc_free(p);
		return reply_status(call, TTRPC_RESOURCE_EXHAUSTED, "exec: out of memory");
	}
	memcpy(p->spec, req->spec->value.data, p->spec_len);
	if (!(p->io = task_io_open(&p->paths, t->id, s->args->ns, &err))) {
		task_proc_free(p);
		husk_error_prefix(&err, "exec %s", req->id);
		return reply_error(call, err);
	}
	p->next = t->execs;
	t->execs = p;
	Containerd__Events__TaskExecAdded ev = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;
	ev.container_id = t->id;
	ev.exec_id = p->exec_id;
	publish(s->pub, "/tasks/exec-added", &ev.base);
	return reply_empty(call);
}

/* --- State, Wait, Kill, Delete ---------------------------------------------------------- */

static Containerd__Task__V2__Status task_proc_status(const struct task_proc *p)
{
	switch (p->state) {
	case PROC_CREATED:
		return CONTAINERD__TASK__V2__STATUS__CREATED;
	case PROC_RUNNING:
		return p->task->paused ? CONTAINERD__TASK__V2__STATUS__PAUSED
		                       : CONTAINERD__TASK__V2__STATUS__RUNNING;
	default:
		return CONTAINERD__TASK__V2__STATUS__STOPPED;
	}
}

static int rpc_state(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	const TaskRequest *req = (const void *)m;
	Containerd__Task__V2__StateResponse resp = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
	Containerd__Types__Timestamp ts = CONTAINERD__TYPES__TIMESTAMP__INIT;
	struct task_proc *p = task_proc_find(s, req->id, req->exec_id);
	if (!p)
		return not_found(call, req->id, req->exec_id);
	resp.id = p->task->id;
	resp.bundle = p->task->bundle;
	resp.pid = p->pid;
	resp.status = task_proc_status(p);
	resp.stdin = p->paths.in;
	resp.stdout = p->paths.out;
	resp.stderr = p->paths.err;
	resp.terminal = p->paths.terminal;
	resp.exec_id = p->exec_id;
	if (p->state == PROC_STOPPED) {
		resp.exit_status = p->exit_status;
		set_timestamp(&ts, &p->exited_at);
		resp.exited_at = &ts;
	}
	ttrpc_reply_pb(call, &resp.base);
	return 0;
}

static int rpc_wait(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	const TaskRequest *req = (const void *)m;
	struct task_proc *p = task_proc_find(s, req->id, req->exec_id);
	if (!p)
		return not_found(call, req->id, req->exec_id);
	if (p->state == PROC_STOPPED) {
		task_proc_reply_wait(p, call);
		return 0;
	}
	struct ttrpc_call **grown = realloc(p->waiters, (p->nwaiters + 1) * sizeof(*grown));
	if (!grown)
		return reply_status(call, TTRPC_RESOURCE_EXHAUSTED, "wait: out of memory");
	p->waiters = grown;
	p->waiters[p->nwaiters++] = call;
	return 0;
}

static int rpc_kill(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	const Containerd__Task__V2__KillRequest *req = (const void *)m;
	Husk__Agent__V1__SignalProcessRequest sig = HUSK__AGENT__V1__SIGNAL_PROCESS_REQUEST__INIT;
	cleanup_error husk_err err = NULL;
	struct task_proc *p = task_proc_find(s, req->id, req->exec_id);
	if (!p)
		return not_found(call, req->id, req->exec_id);
	if (req->signal > 64)
		return reply_status(call, TTRPC_INVALID_ARGUMENT, "kill %s: invalid signal %u",
		                    req->id, req->signal);
	if (p->state == PROC_STOPPED || p->waited)
		return reply_status(call, TTRPC_NOT_FOUND, "kill %s: process already finished",
		                    req->id);
	if (p->state == PROC_CREATED) {
		/* nothing runs yet: the process ends as if the signal had killed it */
		if (req->signal)
			task_proc_exited(p, 128 + req->signal);
		return reply_empty(call);
	}
	sig.container_id = p->task->id;
	sig.exec_id = p->exec_id;
	sig.signal = req->signal;
	sig.all = req->all;
	if (agent_sync(s, "SignalProcess", &sig.base, &husk__agent__v1__empty__descriptor, NULL,
	               &err) < 0) {
		husk_error_prefix(&err, "kill %s", req->id);
		return reply_error(call, err);
	}
	return reply_empty(call);
}

static void reply_deleted(struct ttrpc_call *call, const struct task_proc *p)
{
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Containerd__Types__Timestamp ts = CONTAINERD__TYPES__TIMESTAMP__INIT;
	set_timestamp(&ts, &p->exited_at);
	resp.pid = p->pid;
	resp.exit_status = p->exit_status;
	resp.exited_at = &ts;
	ttrpc_reply_pb(call, &resp.base);
}

static void delete_exec(struct task *t, struct task_proc *p, struct ttrpc_call *call)
{
	for (struct task_proc **pp = &t->execs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	reply_deleted(call, p);
	task_proc_free(p);
}

static void remove_in_guest(struct shim *s, struct task *t)
{
	Husk__Agent__V1__ContainerRequest req = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	cleanup_error husk_err err = NULL;
	req.container_id = t->id;
	if (!s->vm_dead && agent_sync(s, "RemoveContainer", &req.base,
	                              &husk__agent__v1__empty__descriptor, NULL, &err) < 0)
		log_warn("delete %s: %s", t->id, husk_error_msg(err));
}

static int rpc_delete(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	const TaskRequest *req = (const void *)m;
	struct task_proc *p = task_proc_find(s, req->id, req->exec_id);
	if (!p)
		return not_found(call, req->id, req->exec_id);
	if (p->state == PROC_RUNNING)
		return reply_status(call, TTRPC_FAILED_PRECONDITION,
		                    "delete %s: process is running", req->id);
	if (p->state == PROC_CREATED)
		clock_gettime(CLOCK_REALTIME, &p->exited_at);
	struct task *t = p->task;
	if (p != &t->init) {
		delete_exec(t, p, call);
		return 0;
	}
	remove_in_guest(s, t);
	Containerd__Events__TaskDelete ev = CONTAINERD__EVENTS__TASK_DELETE__INIT;
	Containerd__Types__Timestamp ts = CONTAINERD__TYPES__TIMESTAMP__INIT;
	set_timestamp(&ts, &p->exited_at);
	ev.container_id = t->id;
	ev.pid = p->pid;
	ev.exit_status = p->exit_status;
	ev.exited_at = &ts;
	ev.id = t->id;
	publish(s->pub, "/tasks/delete", &ev.base);
	reply_deleted(call, p);
	task_remove(s, t);
	return 0;
}

/* --- Pids, Pause, Resume, Update, Stats, ResizePty, CloseIO ----------------------------- */

static int rpc_pids(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	const IdRequest *req = (const void *)m;
	Husk__Agent__V1__ContainerRequest areq = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	Husk__Agent__V1__ListProcessesResponse *list = NULL;
	Containerd__Task__V2__PidsResponse resp = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;
	cleanup_error husk_err err = NULL;
	if (!task_find(s, req->id))
		return not_found(call, req->id, NULL);
	areq.container_id = req->id;
	if (agent_sync(s, "ListProcesses", &areq.base,
	               &husk__agent__v1__list_processes_response__descriptor,
	               (ProtobufCMessage **)&list, &err) < 0) {
		husk_error_prefix(&err, "pids %s", req->id);
		return reply_error(call, err);
	}
	size_t n = list->n_processes < MAX_PIDS ? list->n_processes : MAX_PIDS;
	cleanup_free Containerd__Types__ProcessInfo *infos = calloc(n + 1, sizeof(*infos));
	cleanup_free Containerd__Types__ProcessInfo **ptrs = calloc(n + 1, sizeof(*ptrs));
	if (!infos || !ptrs) {
		protobuf_c_message_free_unpacked(&list->base, NULL);
		return reply_status(call, TTRPC_RESOURCE_EXHAUSTED, "pids: out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		containerd__types__process_info__init(&infos[i]);
		infos[i].pid = list->processes[i]->pid;
		ptrs[i] = &infos[i];
	}
	resp.n_processes = n;
	resp.processes = ptrs;
	ttrpc_reply_pb(call, &resp.base);
	protobuf_c_message_free_unpacked(&list->base, NULL);
	return 0;
}

/* Pause or Resume through the agent's freezer, then the event. */
static int freeze(struct shim *s, struct ttrpc_call *call, const char *id, bool pause)
{
	Husk__Agent__V1__ContainerRequest areq = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	cleanup_error husk_err err = NULL;
	struct task *t = task_find(s, id);
	if (!t)
		return not_found(call, id, NULL);
	areq.container_id = t->id;
	if (agent_sync(s, pause ? "PauseContainer" : "ResumeContainer", &areq.base,
	               &husk__agent__v1__empty__descriptor, NULL, &err) < 0) {
		husk_error_prefix(&err, "%s %s", pause ? "pause" : "resume", id);
		return reply_error(call, err);
	}
	t->paused = pause;
	if (pause) {
		Containerd__Events__TaskPaused ev = CONTAINERD__EVENTS__TASK_PAUSED__INIT;
		ev.container_id = t->id;
		publish(s->pub, "/tasks/paused", &ev.base);
	} else {
		Containerd__Events__TaskResumed ev = CONTAINERD__EVENTS__TASK_RESUMED__INIT;
		ev.container_id = t->id;
		publish(s->pub, "/tasks/resumed", &ev.base);
	}
	return reply_empty(call);
}

static int rpc_pause(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	return freeze(s, call, ((const IdRequest *)m)->id, true);
}

static int rpc_resume(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	return freeze(s, call, ((const IdRequest *)m)->id, false);
}

static int rpc_update(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	const Containerd__Task__V2__UpdateTaskRequest *req = (const void *)m;
	Husk__Agent__V1__UpdateContainerRequest areq =
	    HUSK__AGENT__V1__UPDATE_CONTAINER_REQUEST__INIT;
	cleanup_error husk_err err = NULL;
	if (!task_find(s, req->id))
		return not_found(call, req->id, NULL);
	if (!req->resources || !req->resources->value.len)
		return reply_empty(call);
	areq.container_id = req->id;
	areq.resources_json.data = req->resources->value.data;
	areq.resources_json.len = req->resources->value.len;
	if (agent_sync(s, "UpdateContainer", &areq.base, &husk__agent__v1__empty__descriptor, NULL,
	               &err) < 0) {
		husk_error_prefix(&err, "update %s", req->id);
		return reply_error(call, err);
	}
	return reply_empty(call);
}

static int guest_metrics(struct shim *s, const char *id, Io__Containerd__Cgroups__V2__Metrics *m,
                         husk_err *err)
{
	Husk__Agent__V1__ContainerRequest areq = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	Husk__Agent__V1__StatsContainerResponse *st = NULL;
	areq.container_id = (char *)id;
	if (agent_sync(s, "StatsContainer", &areq.base,
	               &husk__agent__v1__stats_container_response__descriptor,
	               (ProtobufCMessage **)&st, err) < 0)
		return -1;
	m->pids->current = st->pids_current;
	m->pids->limit = st->pids_max;
	m->cpu->usage_usec = st->cpu_usage_usec;
	m->cpu->user_usec = st->cpu_user_usec;
	m->cpu->system_usec = st->cpu_system_usec;
	m->memory->usage = st->memory_current;
	m->memory->usage_limit = st->memory_max;
	m->memory_events->oom_kill = st->memory_oom_kill;
	m->io->usage[0]->rbytes = st->io_rbytes;
	m->io->usage[0]->wbytes = st->io_wbytes;
	protobuf_c_message_free_unpacked(&st->base, NULL);
	return 0;
}

/*
 * The pod's host side, where the pause container has nothing to report: the shim and every
 * process under it (QEMU, the helpers, what they forked), QEMU's memory holding the guest RAM
 * it touched; the limit is the pod's host cgroup's.
 */
static void host_metrics(struct shim *s, Io__Containerd__Cgroups__V2__Metrics *m)
{
	struct proc_figures f;
	procfig_read(getpid(), true, &f);
	m->pids->current = f.procs;
	m->cpu->usage_usec = f.cpu_ns / 1000;
	m->memory->usage = f.pss;
	m->memory->usage_limit = s->cg_limits.memory;
}

static int rpc_stats(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	const IdRequest *req = (const void *)m;
	cleanup_error husk_err err = NULL;
	struct task *t = task_find(s, req->id);
	if (!t)
		return not_found(call, req->id, NULL);
	Io__Containerd__Cgroups__V2__PidsStat pids = IO__CONTAINERD__CGROUPS__V2__PIDS_STAT__INIT;
	Io__Containerd__Cgroups__V2__CPUStat cpu = IO__CONTAINERD__CGROUPS__V2__CPUSTAT__INIT;
	Io__Containerd__Cgroups__V2__MemoryStat mem =
	    IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
	Io__Containerd__Cgroups__V2__MemoryEvents ev =
	    IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;
	Io__Containerd__Cgroups__V2__IOEntry entry = IO__CONTAINERD__CGROUPS__V2__IOENTRY__INIT;
	Io__Containerd__Cgroups__V2__IOEntry *entries[] = {&entry};
	Io__Containerd__Cgroups__V2__IOStat io = IO__CONTAINERD__CGROUPS__V2__IOSTAT__INIT;
	Io__Containerd__Cgroups__V2__Metrics metrics = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
	io.n_usage = 1;
	io.usage = entries;
	metrics.pids = &pids;
	metrics.cpu = &cpu;
	metrics.memory = &mem;
	metrics.memory_events = &ev;
	metrics.io = &io;
	if (t->pod_sandbox) {
		host_metrics(s, &metrics);
	} else if (guest_metrics(s, req->id, &metrics, &err) < 0) {
		husk_error_prefix(&err, "stats %s", req->id);
		return reply_error(call, err);
	}

	uint8_t buf[512];
	Containerd__Types__Any any = CONTAINERD__TYPES__ANY__INIT;
	Containerd__Task__V2__StatsResponse resp = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
	any.type_url = METRICS_URL;
	any.value.data = buf;
	any.value.len = io__containerd__cgroups__v2__metrics__pack(&metrics, buf);
	resp.stats = &any;
	ttrpc_reply_pb(call, &resp.base);
	return 0;
}

static int rpc_resize_pty(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	const Containerd__Task__V2__ResizePtyRequest *req = (const void *)m;
	Husk__Agent__V1__ResizePtyRequest areq = HUSK__AGENT__V1__RESIZE_PTY_REQUEST__INIT;
	cleanup_error husk_err err = NULL;
	if (!task_proc_find(s, req->id, req->exec_id))
		return not_found(call, req->id, req->exec_id);
	areq.container_id = (char *)req->id;
	areq.exec_id = (char *)req->exec_id;
	areq.width = req->width;
	areq.height = req->height;
	if (agent_sync(s, "ResizePty", &areq.base, &husk__agent__v1__empty__descriptor, NULL,
	               &err) < 0) {
		husk_error_prefix(&err, "resize %s", req->id);
		return reply_error(call, err);
	}
	return reply_empty(call);
}

static int rpc_close_io(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	const Containerd__Task__V2__CloseIORequest *req = (const void *)m;
	struct task_proc *p = task_proc_find(s, req->id, req->exec_id);
	if (!p)
		return not_found(call, req->id, req->exec_id);
	if (req->stdin && p->io)
		task_io_close_stdin(p->io);
	return reply_empty(call);
}

/* --- Connect, Shutdown, Checkpoint ------------------------------------------------------ */

static int rpc_connect(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
	resp.shim_pid = (uint32_t)getpid();
	resp.task_pid = shim_task_pid(s);
	resp.version = "";
	ttrpc_reply_pb(call, &resp.base);
	return 0;
}

static int rpc_shutdown(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	if (!s->tasks)
		s->shutdown = true;
	return reply_empty(call);
}

static int rpc_checkpoint(struct shim *s, struct ttrpc_call *call, const ProtobufCMessage *m)
{
	return reply_status(call, TTRPC_UNIMPLEMENTED, "checkpoint: not supported by husk");
}

#define RPC(name, type, fn)                                                                        \
	{                                                                                          \
		name, &containerd__task__v2__##type##__descriptor, fn                              \
	}

const struct rpc task_rpcs[] = {
    RPC("State", task_request, rpc_state),
    RPC("Create", create_task_request, rpc_create),
    RPC("Start", task_request, rpc_start),
    RPC("Delete", task_request, rpc_delete),
    RPC("Pids", id_request, rpc_pids),
    RPC("Pause", id_request, rpc_pause),
    RPC("Resume", id_request, rpc_resume),
    RPC("Checkpoint", checkpoint_task_request, rpc_checkpoint),
    RPC("Kill", kill_request, rpc_kill),
    RPC("Exec", exec_process_request, rpc_exec),
    RPC("ResizePty", resize_pty_request, rpc_resize_pty),
    RPC("CloseIO", close_iorequest, rpc_close_io),
    RPC("Update", update_task_request, rpc_update),
    RPC("Wait", task_request, rpc_wait),
    RPC("Stats", id_request, rpc_stats),
    RPC("Connect", id_request, rpc_connect),
    RPC("Shutdown", shutdown_request, rpc_shutdown),
};
const size_t task_nrpcs = ARRAY_SIZE(task_rpcs);
