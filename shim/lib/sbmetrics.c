#include "sbmetrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metricsdir.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/text.h"
#include "procfig.h"
#include "promtext.h"

#define SBMETRICS_CONNS     4 /* scrapes waiting for the agent at once; more are closed */
#define GUEST_STATS_TIMEOUT 2000

struct sbmetrics_conn {
	struct sbmetrics *m;
	int fd; /* -1: free */
};

struct sbmetrics {
	struct husk_loop *loop;
	struct sandbox *sb;
	int listen_fd;
	char path[METRICS_SOCK_PATH_MAX];
	char labels[PROMTEXT_LABELS_MAX]; /* sandbox="id"[,pod_name=...,pod_namespace=...] */
	const char *kind;
	char state[16];
	struct sbmetrics_conn conns[SBMETRICS_CONNS];
};

/* labels plus one more key="value" */
static const char *with(const struct sbmetrics *m, char *buf, const char *key, const char *value)
{
	snprintf(buf, PROMTEXT_LABELS_MAX, "%s", m->labels);
	promtext_label(buf, PROMTEXT_LABELS_MAX, key, value);
	return buf;
}

static void render_vm(struct promtext *t, const struct sbmetrics *m, const struct sandbox_stats *s)
{
	char l[PROMTEXT_LABELS_MAX];
	promtext_family(t, "husk_sandbox_state", "gauge",
	                "The sandbox's state (1 for the one it is in).");
	promtext_u64(t, "husk_sandbox_state", with(m, l, "state", m->state), 1);
	promtext_family(t, "husk_sandbox_info", "gauge", "The sandbox's front and accelerator.");
	with(m, l, "kind", m->kind);
	promtext_label(l, sizeof(l), "accel", s->accel ? s->accel : "");
	promtext_u64(t, "husk_sandbox_info", l, 1);
	promtext_family(t, "husk_vm_memory_bytes", "gauge", "The VM's RAM.");
	promtext_u64(t, "husk_vm_memory_bytes", m->labels, (uint64_t)s->memory_mib << 20);
	promtext_family(t, "husk_vm_vcpus", "gauge", "The VM's vCPUs.");
	promtext_u64(t, "husk_vm_vcpus", m->labels, s->vcpus);
	if (s->boot_us >= 0) {
		promtext_family(
		    t, "husk_sandbox_boot_seconds", "gauge",
		    "From the boot's admission to the agent's answer (and the guest's network).");
		promtext_f64(t, "husk_sandbox_boot_seconds", m->labels, (double)s->boot_us / 1e6);
	}
	if (s->start_us >= 0) {
		promtext_family(t, "husk_sandbox_start_seconds", "gauge",
		                "From the sandbox's creation to its first container started.");
		promtext_f64(t, "husk_sandbox_start_seconds", m->labels, (double)s->start_us / 1e6);
	}
}

/* A helper's system-call byte counts: what it read under one direction, wrote under the other. */
static void render_io(struct promtext *t, const struct sbmetrics *m, const char *name,
                      const char *help, const char *read_dir, const char *write_dir,
                      const struct proc_figures *f)
{
	char l[PROMTEXT_LABELS_MAX];
	promtext_family(t, name, "counter", help);
	promtext_u64(t, name, with(m, l, "direction", read_dir), f->rchar);
	promtext_u64(t, name, with(m, l, "direction", write_dir), f->wchar);
}

static void render_processes(struct promtext *t, const struct sbmetrics *m,
                             const struct sandbox_stats *s)
{
	const struct {
		const char *name;
		pid_t pid;
	} procs[] = {{"owner", getpid()},
	             {"husk-vsockd", s->vsockd},
	             {"virtiofsd", s->virtiofsd},
	             {"qemu", s->qemu}};
	struct proc_figures f[ARRAY_SIZE(procs)] = {{0}};
	char l[PROMTEXT_LABELS_MAX];
	/* a helper with the processes it forked; the owner alone (the helpers are its children) */
	for (size_t i = 0; i < ARRAY_SIZE(procs); i++)
		if (procs[i].pid > 0)
			procfig_read(procs[i].pid, i > 0, &f[i]);
	static const char *const fam[][2] = {
	    {"husk_host_process_pss_bytes",
	     "Proportional set size of each host process with those it forked (smaps_rollup)."},
	    {"husk_host_process_rss_bytes",
	     "Resident set size of each host process with those it forked (smaps_rollup)."},
	    {"husk_host_process_cpu_seconds_total",
	     "User and system CPU time of each host process with those it forked."},
	};
	for (size_t k = 0; k < ARRAY_SIZE(fam); k++) {
		promtext_family(t, fam[k][0], k == 2 ? "counter" : "gauge", fam[k][1]);
		for (size_t i = 0; i < ARRAY_SIZE(procs); i++) {
			if (procs[i].pid <= 0)
				continue;
			with(m, l, "process", procs[i].name);
			if (k == 2)
				promtext_f64(t, fam[k][0], l, (double)f[i].cpu_ns / 1e9);
			else
				promtext_u64(t, fam[k][0], l, k == 0 ? f[i].pss : f[i].rss);
		}
	}
	/* guest data crosses these helpers through shared memory; their syscalls carry it here */
	if (s->vsockd > 0)
		render_io(
		    t, m, "husk_vsock_host_bytes_total",
		    "Bytes husk-vsockd read from (to the guest) and wrote to (from the guest) "
		    "host sockets, and 8 per eventfd kick.",
		    "to_guest", "from_guest", &f[1]);
	if (s->virtiofsd > 0)
		render_io(t, m, "husk_virtiofs_host_bytes_total",
		          "Bytes virtiofsd read (for the guest) and wrote (from the guest) on the "
		          "host, and 8 per eventfd kick.",
		          "read", "write", &f[2]);
}

static void render_guest(struct promtext *t, const struct sbmetrics *m,
                         const Husk__Agent__V1__GuestStatsResponse *g)
{
	char l[PROMTEXT_LABELS_MAX];
	promtext_family(t, "husk_guest_memory_total_bytes", "gauge",
	                "The guest kernel's MemTotal.");
	promtext_u64(t, "husk_guest_memory_total_bytes", m->labels, g->memory_total);
	promtext_family(t, "husk_guest_memory_available_bytes", "gauge",
	                "The guest kernel's MemAvailable.");
	promtext_u64(t, "husk_guest_memory_available_bytes", m->labels, g->memory_available);
	promtext_family(t, "husk_guest_cpu_seconds_total", "counter", "CPU time the guest used.");
	promtext_f64(t, "husk_guest_cpu_seconds_total", with(m, l, "mode", "user"),
	             (double)g->cpu_user_usec / 1e6);
	promtext_f64(t, "husk_guest_cpu_seconds_total", with(m, l, "mode", "system"),
	             (double)g->cpu_system_usec / 1e6);
	promtext_family(t, "husk_guest_containers", "gauge", "Containers the agent holds.");
	promtext_u64(t, "husk_guest_containers", m->labels, g->containers);
	promtext_family(t, "husk_exec_seconds", "summary",
	                "Execs the agent started (any front) and their latency, request to pid.");
	promtext_f64(t, "husk_exec_seconds_sum", m->labels, (double)g->exec_usec / 1e6);
	promtext_u64(t, "husk_exec_seconds_count", m->labels, g->execs);
}

static void render_agent(struct promtext *t, const struct sbmetrics *m)
{
	struct agent_client_stats a;
	agent_client_stats(sandbox_agent(m->sb), &a);
	promtext_family(t, "husk_agent_rpcs_total", "counter", "The owner's calls to the agent.");
	promtext_u64(t, "husk_agent_rpcs_total", m->labels, a.calls);
	promtext_family(t, "husk_agent_rpc_errors_total", "counter",
	                "The owner's agent calls that failed (timeouts included).");
	promtext_u64(t, "husk_agent_rpc_errors_total", m->labels, a.errors);
	promtext_family(t, "husk_agent_rpc_timeouts_total", "counter",
	                "The owner's agent calls that timed out.");
	promtext_u64(t, "husk_agent_rpc_timeouts_total", m->labels, a.timeouts);
}

static void reply(struct sbmetrics_conn *c, const Husk__Agent__V1__GuestStatsResponse *guest)
{
	struct sbmetrics *m = c->m;
	struct sandbox_stats s;
	struct promtext t = {0};
	sandbox_stats(m->sb, &s);
	render_vm(&t, m, &s);
	render_processes(&t, m, &s);
	if (guest)
		render_guest(&t, m, guest);
	render_agent(&t, m);
	if (t.failed || t.len > SBMETRICS_TEXT_MAX)
		log_warn("metrics of %s: the text did not fit", s.id);
	else if (send(c->fd, t.buf, t.len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)t.len)
		log_debug("metrics of %s: send: %m", s.id);
	promtext_free(&t);
	close_fd(&c->fd);
}

static void on_guest_stats(ProtobufCMessage *resp, husk_err error, void *data)
{
	struct sbmetrics_conn *c = data;
	if (error)
		log_debug("metrics of %s: %s", c->m->labels, husk_error_msg(error));
	reply(c, (const Husk__Agent__V1__GuestStatsResponse *)resp);
}

static void serve(struct sbmetrics_conn *c)
{
	Husk__Agent__V1__Empty req = HUSK__AGENT__V1__EMPTY__INIT;
	cleanup_error husk_err err = NULL;
	struct agent_client *a = sandbox_agent(c->m->sb);
	if (!agent_client_alive(a) ||
	    agent_client_call(a, "GuestStats", &req.base,
	                      &husk__agent__v1__guest_stats_response__descriptor,
	                      GUEST_STATS_TIMEOUT, on_guest_stats, c, &err) < 0)
		reply(c, NULL);
}

static int on_accept(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct sbmetrics *m = data;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return 0;
	/* room for a whole exposition, so the one send never waits */
	int size = 2 * SBMETRICS_TEXT_MAX;
	setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	for (size_t i = 0; i < SBMETRICS_CONNS; i++) {
		if (m->conns[i].fd < 0) {
			m->conns[i].fd = cfd;
			serve(&m->conns[i]);
			return 0;
		}
	}
	close(cfd); /* busy */
	return 0;
}

static int set_labels(struct sbmetrics *m, const char *id, const char *pod_name,
                      const char *pod_namespace, husk_err *err)
{
	if (!promtext_label(m->labels, sizeof(m->labels), "sandbox", id) ||
	    (pod_name && !promtext_label(m->labels, sizeof(m->labels), "pod_name", pod_name)) ||
	    (pod_namespace &&
	     !promtext_label(m->labels, sizeof(m->labels), "pod_namespace", pod_namespace)))
		return husk_error_set(err, E2BIG, "metrics: labels of %s", id);
	return 0;
}

struct sbmetrics *sbmetrics_serve(struct husk_loop *loop, struct sandbox *sb, const char *kind,
                                  const char *pod_name, const char *pod_namespace, husk_err *err)
{
	struct sandbox_stats s;
	struct sbmetrics *m = calloc(1, sizeof(*m));
	if (!m) {
		husk_error_set(err, ENOMEM, "metrics");
		return NULL;
	}
	sandbox_stats(sb, &s);
	*m = (struct sbmetrics){.loop = loop, .sb = sb, .listen_fd = -1, .kind = kind};
	snprintf(m->state, sizeof(m->state), "created");
	for (size_t i = 0; i < SBMETRICS_CONNS; i++)
		m->conns[i] = (struct sbmetrics_conn){.m = m, .fd = -1};
	if (set_labels(m, s.id, pod_name, pod_namespace, err) < 0 || failcount_dir(err) < 0 ||
	    metrics_sock_path(sandbox_dir_fd(sb), m->path, err) < 0 ||
	    (m->listen_fd = unix_listen(m->path, 8, SOCK_NONBLOCK, err)) < 0 ||
	    husk_loop_add(loop, m->listen_fd, EPOLLIN, on_accept, m, err) < 0) {
		sbmetrics_free(m);
		return NULL;
	}
	return m;
}

void sbmetrics_set_state(struct sbmetrics *m, const char *state)
{
	if (m)
		snprintf(m->state, sizeof(m->state), "%s", state);
}

void sbmetrics_free(struct sbmetrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < SBMETRICS_CONNS; i++) {
		if (m->conns[i].fd >= 0) {
			agent_client_forget(sandbox_agent(m->sb), &m->conns[i]);
			close_fd(&m->conns[i].fd);
		}
	}
	if (m->listen_fd >= 0) {
		husk_loop_del(m->loop, m->listen_fd);
		close(m->listen_fd);
		unlink(m->path);
	}
	free(m);
}
