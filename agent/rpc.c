#include "rpc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent.h"
#include "proto/agent.pb-c.h"
#include "cgroup.h"
#include "containers.h"
#include "events.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "dns.h"
#include "network.h"
#include "process.h"
#include "proclist.h"
#include "request.h"
#include "spawn.h"

#define SHUTDOWN_GRACE_S 1

static void free_msg_fn(void *p)
{
	ProtobufCMessage **m = p;
	if (*m)
		protobuf_c_message_free_unpacked(*m, NULL);
}
#define cleanup_msg __attribute__((cleanup(free_msg_fn)))

static void reply_empty(struct ttrpc_call *call)
{
	ttrpc_reply_pb(call, NULL);
}

static void *decode(struct ttrpc_call *call, const char *method, const uint8_t *payload, size_t len)
{
	cleanup_error husk_err err = NULL;
	ProtobufCMessage *m = request_decode(method, payload, len, &err);
	if (!m)
		ttrpc_reply_error(call, TTRPC_INVALID_ARGUMENT, "%s", husk_error_msg(err));
	return m;
}

static struct agent *agent_of(void *data)
{
	return ((struct rpc_scope *)data)->ag;
}

/* The debug console port reaches only the debug console's container, the agent port never. */
static struct container *scope_container(void *data, const char *id)
{
	const struct rpc_scope *scope = data;
	struct container *debug = scope->ag->debug;
	if (!scope->debug)
		return containers_find(scope->ag, id);
	return debug && strcmp(debug->id, id) == 0 ? debug : NULL;
}

static struct container *find_container(struct ttrpc_call *call, void *data, const char *what,
                                        const char *id)
{
	struct container *c = scope_container(data, id);
	if (!c)
		ttrpc_reply_error(call, TTRPC_NOT_FOUND, "%s %s: container not found", what, id);
	return c;
}

/* The debug console's init is the agent: no call may name it. */
static struct process *find_process(struct ttrpc_call *call, void *data, const char *what,
                                    const char *cid, const char *eid)
{
	struct container *c = find_container(call, data, what, cid);
	struct process *p =
	    c && (eid[0] || c != agent_of(data)->debug) ? containers_process(c, eid) : NULL;
	if (c && !p)
		ttrpc_reply_error(call, TTRPC_NOT_FOUND, "%s %s: exec %s not found", what, cid,
		                  eid);
	return p;
}

/* Whether c has a cgroup; else answers call (--listen-unix makes none). */
static int has_cgroup(struct ttrpc_call *call, struct container *c, const char *what)
{
	if (!c->cgroup[0])
		ttrpc_reply_error(call, TTRPC_FAILED_PRECONDITION,
		                  "%s %s: cgroups are only managed in the guest", what, c->id);
	return c->cgroup[0] != '\0';
}

static void read_line(const char *path, char *buf, size_t size)
{
	buf[0] = '\0';
	cleanup_fclose FILE *f = fopen(path, "re");
	if (f && fgets(buf, (int)size, f))
		buf[strcspn(buf, "\n")] = '\0';
}

static void on_health(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__HealthRequest *req = decode(call, "Health", payload, len);
	Husk__Agent__V1__HealthResponse resp = HUSK__AGENT__V1__HEALTH_RESPONSE__INIT;
	struct utsname u;
	char boot_id[64];
	if (!req)
		return;
	uname(&u);
	read_line("/proc/sys/kernel/random/boot_id", boot_id, sizeof(boot_id));
	resp.agent_version = AGENT_VERSION;
	resp.kernel_release = u.release;
	resp.boot_id = boot_id;
	ttrpc_reply_pb(call, &resp.base);
}

static void on_create(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__CreateContainerRequest *req =
	    decode(call, "CreateContainer", payload, len);
	cleanup_error husk_err err = NULL;
	struct agent *ag = agent_of(data);
	struct spec s;
	if (!req)
		return;
	if (containers_find(ag, req->container_id)) {
		ttrpc_reply_error(call, TTRPC_ALREADY_EXISTS, "create %s: container already exists",
		                  req->container_id);
		return;
	}
	if (ag->ncontainers >= AGENT_MAX_CONTAINERS) {
		ttrpc_reply_error(call, TTRPC_RESOURCE_EXHAUSTED, "create %s: too many containers",
		                  req->container_id);
		return;
	}
	if (request_create_spec(req, &s, &err) < 0) {
		ttrpc_reply_error(call, TTRPC_INVALID_ARGUMENT, "create %s: %s", req->container_id,
		                  husk_error_msg(err));
		return;
	}
	if (s.process.lsm_fields || s.mount_label)
		log_warn("create %s: apparmorProfile, selinuxLabel and mountLabel are ignored: the "
		         "guest has no LSM",
		         req->container_id);
	if (s.seccomp && s.seccomp->unknown[0])
		log_warn("create %s: linux.seccomp: skipping syscalls libseccomp does not know: %s",
		         req->container_id, s.seccomp->unknown);
	int ret =
	    spawn_container(ag, req->container_id, &s, req->rootfs_tag, req->stdin, call, &err);
	spec_free(&s);
	if (ret < 0)
		ttrpc_reply_error(call, TTRPC_UNKNOWN, "create %s: %s", req->container_id,
		                  husk_error_msg(err));
}

static void on_start(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__ContainerRequest *req =
	    decode(call, "StartContainer", payload, len);
	cleanup_error husk_err err = NULL;
	struct container *c = req ? find_container(call, data, "start", req->container_id) : NULL;
	if (!c)
		return;
	if (c->state != CONTAINER_CREATED) {
		ttrpc_reply_error(call, TTRPC_FAILED_PRECONDITION, "start %s: container %s", c->id,
		                  c->state == CONTAINER_CREATING ? "is being created"
		                                                 : "already started");
		return;
	}
	if (spawn_start(c, call, &err) < 0)
		ttrpc_reply_error(call, TTRPC_UNKNOWN, "start %s: %s", c->id, husk_error_msg(err));
}

static void on_exec(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__ExecProcessRequest *req =
	    decode(call, "ExecProcess", payload, len);
	cleanup_error husk_err err = NULL;
	struct spec_process p;
	struct container *c = req ? find_container(call, data, "exec", req->container_id) : NULL;
	if (!c)
		return;
	if (containers_process(c, req->exec_id)) {
		ttrpc_reply_error(call, TTRPC_ALREADY_EXISTS, "exec %s in %s: already exists",
		                  req->exec_id, c->id);
		return;
	}
	if (c->state != CONTAINER_STARTED || c->init->exited) {
		ttrpc_reply_error(call, TTRPC_FAILED_PRECONDITION,
		                  "exec %s in %s: container is not running", req->exec_id, c->id);
		return;
	}
	if (c->cgroup[0] && cgroup_freeze_requested(c->cgroup)) {
		/* the new process would join the frozen cgroup and never report its pid */
		ttrpc_reply_error(call, TTRPC_FAILED_PRECONDITION,
		                  "exec %s in %s: container is paused", req->exec_id, c->id);
		return;
	}
	if (spec_parse_process((const char *)req->process_json.data, req->process_json.len, &p,
	                       &err) < 0) {
		ttrpc_reply_error(call, TTRPC_INVALID_ARGUMENT, "exec %s in %s: process: %s",
		                  req->exec_id, c->id, husk_error_msg(err));
		return;
	}
	if (c->userns && spec_ids_mapped(&c->uid_maps, &c->gid_maps, &p, &err) < 0) {
		ttrpc_reply_error(call, TTRPC_INVALID_ARGUMENT, "exec %s in %s: %s", req->exec_id,
		                  c->id, husk_error_msg(err));
		spec_process_free(&p);
		return;
	}
	if (p.lsm_fields)
		log_warn(
		    "exec %s in %s: apparmorProfile and selinuxLabel are ignored: the guest has "
		    "no LSM",
		    req->exec_id, c->id);
	int ret = spawn_exec(c, req->exec_id, &p, req->stdin, call, &err);
	spec_process_free(&p);
	if (ret < 0)
		ttrpc_reply_error(call, TTRPC_UNKNOWN, "exec %s in %s: %s", req->exec_id, c->id,
		                  husk_error_msg(err));
}

static void on_signal(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__SignalProcessRequest *req =
	    decode(call, "SignalProcess", payload, len);
	cleanup_error husk_err err = NULL;
	struct process *p =
	    req ? find_process(call, data, "signal", req->container_id, req->exec_id) : NULL;
	if (!p)
		return;
	if (p->exited && !req->all) {
		ttrpc_reply_error(call, TTRPC_NOT_FOUND, "signal %s: process already exited",
		                  req->container_id);
		return;
	}
	if (containers_signal(scope_container(data, req->container_id), p, (int)req->signal,
	                      req->all, &err) < 0) {
		ttrpc_reply_error(call, TTRPC_UNKNOWN, "signal %s: %s", req->container_id,
		                  husk_error_msg(err));
		return;
	}
	reply_empty(call);
}

static void on_wait(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__ProcessRequest *req =
	    decode(call, "WaitProcess", payload, len);
	struct process *p =
	    req ? find_process(call, data, "wait", req->container_id, req->exec_id) : NULL;
	if (p)
		process_wait(p, call);
}

static void on_write_stdin(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__WriteStdinRequest *req =
	    decode(call, "WriteStdin", payload, len);
	Husk__Agent__V1__WriteStdinResponse resp = HUSK__AGENT__V1__WRITE_STDIN_RESPONSE__INIT;
	cleanup_error husk_err err = NULL;
	struct process *p =
	    req ? find_process(call, data, "write stdin", req->container_id, req->exec_id) : NULL;
	if (!p)
		return;
	int r = process_write_stdin(p, call, req->data.data, req->data.len, &resp.written, &err);
	if (r < 0)
		ttrpc_reply_error(call, TTRPC_FAILED_PRECONDITION, "write stdin %s: %s",
		                  req->container_id, husk_error_msg(err));
	else if (r > 0)
		ttrpc_reply_pb(call, &resp.base);
}

static void on_close_stdin(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__ProcessRequest *req = decode(call, "CloseStdin", payload, len);
	struct process *p =
	    req ? find_process(call, data, "close stdin", req->container_id, req->exec_id) : NULL;
	if (!p)
		return;
	process_close_stdin(p);
	reply_empty(call);
}

static void read_stream(struct ttrpc_call *call, const char *method, const uint8_t *payload,
                        size_t len, void *data)
{
	int is_out = strcmp(method, "ReadStdout") == 0;
	cleanup_msg Husk__Agent__V1__ReadStreamRequest *req = decode(call, method, payload, len);
	struct process *p = req ? find_process(call, data, is_out ? "read stdout" : "read stderr",
	                                       req->container_id, req->exec_id)
	                        : NULL;
	if (p)
		stream_read(is_out ? &p->out : &p->err, call, req->max_bytes);
}

static void on_read_stdout(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	read_stream(call, "ReadStdout", payload, len, data);
}

static void on_read_stderr(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	read_stream(call, "ReadStderr", payload, len, data);
}

static void on_remove(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__ContainerRequest *req =
	    decode(call, "RemoveContainer", payload, len);
	cleanup_error husk_err err = NULL;
	struct container *c = req ? find_container(call, data, "remove", req->container_id) : NULL;
	if (!c)
		return;
	if (containers_remove(c, &err) < 0) {
		ttrpc_reply_error(call, TTRPC_FAILED_PRECONDITION, "remove %s: %s",
		                  req->container_id, husk_error_msg(err));
		return;
	}
	reply_empty(call);
}

static int on_shutdown_timer(struct husk_loop *loop, int fd, uint32_t events, void *data,
                             husk_err *err)
{
	husk_loop_stop(loop, 0);
	return 0;
}

/* Stops the agent once the host has closed its connection (it got the reply) or after a grace. */
static void shutdown_after_reply(struct agent *ag)
{
	cleanup_error husk_err err = NULL;
	struct itimerspec its = {.it_value = {.tv_sec = SHUTDOWN_GRACE_S}};
	ag->destroying = 1;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0 || timerfd_settime(fd, 0, &its, NULL) < 0 ||
	    husk_loop_add(ag->loop, fd, EPOLLIN, on_shutdown_timer, ag, &err) < 0)
		husk_loop_stop(ag->loop, 0);
}

static void on_destroy(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__Empty *req = decode(call, "DestroySandbox", payload, len);
	struct agent *ag = agent_of(data);
	if (!req)
		return;
	log_info("destroying the sandbox");
	containers_kill_all(ag);
	reply_empty(call);
	shutdown_after_reply(ag);
}

static void on_oom_event(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__Empty *req = decode(call, "GetOOMEvent", payload, len);
	if (req)
		events_oom_wait(agent_of(data), call);
}

static void on_update(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__UpdateContainerRequest *req =
	    decode(call, "UpdateContainer", payload, len);
	cleanup_error husk_err err = NULL;
	struct spec_resources r;
	struct container *c = req ? find_container(call, data, "update", req->container_id) : NULL;
	if (!c)
		return;
	if (spec_parse_resources((const char *)req->resources_json.data, req->resources_json.len,
	                         &r, &err) < 0) {
		ttrpc_reply_error(call, TTRPC_INVALID_ARGUMENT, "update %s: resources: %s", c->id,
		                  husk_error_msg(err));
		return;
	}
	if (!has_cgroup(call, c, "update"))
		return;
	if (cgroup_write_resources(c->cgroup, &r, &err) < 0) {
		ttrpc_reply_error(call, TTRPC_FAILED_PRECONDITION, "update %s: %s", c->id,
		                  husk_error_msg(err));
		return;
	}
	reply_empty(call);
}

static void on_stats(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__ContainerRequest *req =
	    decode(call, "StatsContainer", payload, len);
	Husk__Agent__V1__StatsContainerResponse resp =
	    HUSK__AGENT__V1__STATS_CONTAINER_RESPONSE__INIT;
	struct container *c = req ? find_container(call, data, "stats", req->container_id) : NULL;
	if (!c || !has_cgroup(call, c, "stats"))
		return;
	cgroup_stats(c->cgroup, &resp);
	ttrpc_reply_pb(call, &resp.base);
}

static void on_guest_stats(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__Empty *req = decode(call, "GuestStats", payload, len);
	Husk__Agent__V1__GuestStatsResponse resp = HUSK__AGENT__V1__GUEST_STATS_RESPONSE__INIT;
	struct agent *ag = agent_of(data);
	if (!req)
		return;
	cgroup_guest_stats(CGROUP_ROOT, &resp);
	resp.execs = ag->execs;
	resp.exec_usec = ag->exec_usec;
	resp.containers = (uint32_t)ag->ncontainers;
	ttrpc_reply_pb(call, &resp.base);
}

static void on_list_processes(struct ttrpc_call *call, const uint8_t *payload, size_t len,
                              void *data)
{
	cleanup_msg Husk__Agent__V1__ContainerRequest *req =
	    decode(call, "ListProcesses", payload, len);
	cleanup_error husk_err err = NULL;
	struct proclist l;
	struct container *c = req ? find_container(call, data, "ps", req->container_id) : NULL;
	if (!c || !has_cgroup(call, c, "ps"))
		return;
	if (proclist_read(c->cgroup, &l, &err) < 0)
		ttrpc_reply_error(call, TTRPC_UNKNOWN, "ps %s: %s", c->id, husk_error_msg(err));
	else
		ttrpc_reply_pb(call, &l.resp.base);
	proclist_free(&l);
}

static void on_resize(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	cleanup_msg Husk__Agent__V1__ResizePtyRequest *req =
	    decode(call, "ResizePty", payload, len);
	cleanup_error husk_err err = NULL;
	struct process *p =
	    req ? find_process(call, data, "resize", req->container_id, req->exec_id) : NULL;
	if (!p)
		return;
	if (process_resize(p, req->width, req->height, &err) < 0) {
		ttrpc_reply_error(call, TTRPC_FAILED_PRECONDITION, "resize %s: %s",
		                  req->container_id, husk_error_msg(err));
		return;
	}
	reply_empty(call);
}

static void freeze(struct ttrpc_call *call, const char *method, const uint8_t *payload, size_t len,
                   void *data)
{
	int want = strcmp(method, "PauseContainer") == 0;
	cleanup_msg Husk__Agent__V1__ContainerRequest *req = decode(call, method, payload, len);
	struct container *c =
	    req ? find_container(call, data, want ? "pause" : "resume", req->container_id) : NULL;
	if (c)
		events_freeze(c, want, call);
}

static void on_pause(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	freeze(call, "PauseContainer", payload, len, data);
}

static void on_resume(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	freeze(call, "ResumeContainer", payload, len, data);
}

static void on_setup_network(struct ttrpc_call *call, const uint8_t *payload, size_t len,
                             void *data)
{
	cleanup_msg Husk__Agent__V1__SetupNetworkRequest *req =
	    decode(call, "SetupNetwork", payload, len);
	cleanup_error husk_err err = NULL;
	if (!req)
		return;
	if (network_setup(req, NETWORK_LINK_TIMEOUT_MS, &err) < 0) {
		ttrpc_reply_error(call, TTRPC_UNKNOWN, "setup network: %s", husk_error_msg(err));
		return;
	}
	log_info("network set up: %zu interfaces, %zu routes, %zu neighbors", req->n_interfaces,
	         req->n_routes, req->n_neighbors);
	reply_empty(call);
}

static void on_start_dns_relay(struct ttrpc_call *call, const uint8_t *payload, size_t len,
                               void *data)
{
	cleanup_msg Husk__Agent__V1__StartDnsRelayRequest *req =
	    decode(call, "StartDnsRelay", payload, len);
	cleanup_error husk_err err = NULL;
	if (!req)
		return;
	if (dns_relay_start(agent_of(data), req->address.data, &err) < 0) {
		ttrpc_reply_error(call, TTRPC_FAILED_PRECONDITION, "%s", husk_error_msg(err));
		return;
	}
	reply_empty(call);
}

static void on_read_dns_query(struct ttrpc_call *call, const uint8_t *payload, size_t len,
                              void *data)
{
	cleanup_msg Husk__Agent__V1__Empty *req = decode(call, "ReadDnsQuery", payload, len);
	if (req)
		dns_relay_read(agent_of(data), call);
}

static void on_write_dns_answer(struct ttrpc_call *call, const uint8_t *payload, size_t len,
                                void *data)
{
	cleanup_msg Husk__Agent__V1__DnsMessage *req = decode(call, "WriteDnsAnswer", payload, len);
	cleanup_error husk_err err = NULL;
	if (!req)
		return;
	if (dns_relay_answer(agent_of(data), req->tag, req->data.data, req->data.len, &err) < 0) {
		ttrpc_reply_error(call, TTRPC_NOT_FOUND, "WriteDnsAnswer: %s", husk_error_msg(err));
		return;
	}
	reply_empty(call);
}

const struct ttrpc_method rpc_methods[] = {
    {AGENT_SERVICE, "Health", on_health},
    {AGENT_SERVICE, "CreateContainer", on_create},
    {AGENT_SERVICE, "StartContainer", on_start},
    {AGENT_SERVICE, "ExecProcess", on_exec},
    {AGENT_SERVICE, "SignalProcess", on_signal},
    {AGENT_SERVICE, "WaitProcess", on_wait},
    {AGENT_SERVICE, "WriteStdin", on_write_stdin},
    {AGENT_SERVICE, "CloseStdin", on_close_stdin},
    {AGENT_SERVICE, "ReadStdout", on_read_stdout},
    {AGENT_SERVICE, "ReadStderr", on_read_stderr},
    {AGENT_SERVICE, "RemoveContainer", on_remove},
    {AGENT_SERVICE, "DestroySandbox", on_destroy},
    {AGENT_SERVICE, "GetOOMEvent", on_oom_event},
    {AGENT_SERVICE, "UpdateContainer", on_update},
    {AGENT_SERVICE, "StatsContainer", on_stats},
    {AGENT_SERVICE, "ListProcesses", on_list_processes},
    {AGENT_SERVICE, "ResizePty", on_resize},
    {AGENT_SERVICE, "PauseContainer", on_pause},
    {AGENT_SERVICE, "ResumeContainer", on_resume},
    {AGENT_SERVICE, "SetupNetwork", on_setup_network},
    {AGENT_SERVICE, "StartDnsRelay", on_start_dns_relay},
    {AGENT_SERVICE, "ReadDnsQuery", on_read_dns_query},
    {AGENT_SERVICE, "WriteDnsAnswer", on_write_dns_answer},
    {AGENT_SERVICE, "GuestStats", on_guest_stats},
};
const size_t rpc_nmethods = ARRAY_SIZE(rpc_methods);

/* What a debug console needs: a shell started as an exec, its stdio, terminal and exit. */
const struct ttrpc_method rpc_debug_methods[] = {
    {AGENT_SERVICE, "ExecProcess", on_exec},       {AGENT_SERVICE, "SignalProcess", on_signal},
    {AGENT_SERVICE, "WaitProcess", on_wait},       {AGENT_SERVICE, "WriteStdin", on_write_stdin},
    {AGENT_SERVICE, "CloseStdin", on_close_stdin}, {AGENT_SERVICE, "ReadStdout", on_read_stdout},
    {AGENT_SERVICE, "ReadStderr", on_read_stderr}, {AGENT_SERVICE, "ResizePty", on_resize},
};
const size_t rpc_debug_nmethods = ARRAY_SIZE(rpc_debug_methods);
