#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/agent.pb-c.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/cmsg.h"
#include "container.h"
#include "containers.h"
#include "isolation.h"
#include "lib/log.h"
#include "process.h"

/*
 * Returns 1 with a record, 0 on EOF (the child exec'd or died), -1 when
 * nothing is there yet. A broken record becomes an error record. *passed
 * gets the fd a REPORT_CONSOLE record carries, else -1.
 */
static int read_report(int fd, struct report *r, int *passed)
{
	size_t nfds = 0;
	*passed = -1;
	ssize_t got = cmsg_recv(fd, r, sizeof(*r), passed, 1, &nfds);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	if (got == 0 && nfds == 0)
		return 0;
	if (got != sizeof(*r) || (nfds && r->kind != REPORT_CONSOLE)) {
		if (nfds)
			close_fd(passed);
		*r = (struct report){.kind = REPORT_ERROR};
		snprintf(r->msg, sizeof(r->msg), "setup report: %s",
		         got < 0 ? strerror(errno) : "malformed record");
	}
	r->msg[sizeof(r->msg) - 1] = '\0';
	return 1;
}

/*
 * Takes the pty master of a REPORT_CONSOLE record (returns 1). An unexpected
 * one turns r into an error record (returns 0), as does failing to adopt it.
 */
static int take_console(struct process *p, struct report *r, int passed)
{
	cleanup_error husk_err err = NULL;
	if (r->kind != REPORT_CONSOLE)
		return 0;
	if (passed < 0 || !p->terminal || p->pty_fd >= 0) {
		close_fd(&passed);
		husk_error_set(&err, 0, "unexpected terminal");
	} else if (process_set_terminal(p, passed, &err) == 0) {
		return 1;
	}
	*r = (struct report){.kind = REPORT_ERROR};
	snprintf(r->msg, sizeof(r->msg), "%s", husk_error_msg(err));
	return 0;
}

static const char *report_error(int n, const struct report *r)
{
	if (n == 0)
		return "container process died during setup";
	return r->kind == REPORT_ERROR ? r->msg : "unexpected setup report";
}

/* Both ends of the child's stdio: the agent keeps in_w, out_r, err_r. */
struct stdio_pipes {
	struct child_stdio child;
	int in_w, out_r, err_r;
};

static void close_pipes(struct stdio_pipes *p)
{
	close_fd(&p->child.in);
	close_fd(&p->child.out);
	close_fd(&p->child.err);
	close_fd(&p->in_w);
	close_fd(&p->out_r);
	close_fd(&p->err_r);
}

/* A terminal process has /dev/null on 0-2 until its pty replaces them. */
static int null_stdio(struct stdio_pipes *p, husk_err *err)
{
	if ((p->child.in = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 ||
	    (p->child.out = fcntl(p->child.in, F_DUPFD_CLOEXEC, 0)) < 0 ||
	    (p->child.err = fcntl(p->child.in, F_DUPFD_CLOEXEC, 0)) < 0) {
		int e = errno;
		close_pipes(p);
		return husk_error_set(err, e, "/dev/null");
	}
	return 0;
}

static int open_pipes(struct stdio_pipes *p, int want_stdin, int terminal, husk_err *err)
{
	int fds[2];
	*p = (struct stdio_pipes){{-1, -1, -1}, -1, -1, -1};
	if (terminal)
		return null_stdio(p, err);
	if (want_stdin) {
		if (pipe2(fds, O_CLOEXEC) < 0)
			goto fail;
		p->child.in = fds[0];
		p->in_w = fds[1];
	} else if ((p->child.in = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		goto fail;
	}
	if (pipe2(fds, O_CLOEXEC) < 0)
		goto fail;
	p->out_r = fds[0];
	p->child.out = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		goto fail;
	p->err_r = fds[0];
	p->child.err = fds[1];
	return 0;
fail:;
	int e = errno;
	close_pipes(p);
	return husk_error_set(err, e, "stdio pipes");
}

/* Hands the agent's ends to the process and closes the child's. */
static void adopt_pipes(struct process *proc, struct stdio_pipes *p)
{
	process_set_stdio(proc, p->in_w, p->out_r, p->err_r);
	p->in_w = p->out_r = p->err_r = -1;
	close_pipes(p);
}

static void read_pidns(struct container *c)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)c->init->pid);
	ssize_t n = readlink(path, c->pidns, sizeof(c->pidns) - 1);
	c->pidns[n > 0 ? n : 0] = '\0';
}

/* A socket pair, so that a report can carry an fd; fds[0] (the agent's) is non-blocking. */
static int report_channel(int fds[2], husk_err *err)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return husk_error_set(err, errno, "socketpair");
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	return 0;
}

static void init_ready(struct container *c, int n, const struct report *r)
{
	struct ttrpc_call *call = call_take(&c->pending);
	husk_loop_del(c->ag->loop, c->report_fd);
	if (n == 1 && r->kind == REPORT_READY) {
		c->state = CONTAINER_CREATED;
		read_pidns(c);
		log_info("container %s created, init pid %d", c->id, (int)c->init->pid);
		if (call)
			ttrpc_reply_pb(call, NULL);
		return;
	}
	if (call)
		ttrpc_reply_error(call, TTRPC_UNKNOWN, "create %s: %s", c->id, report_error(n, r));
	kill(c->init->pid, SIGKILL);
	containers_drop(c, NULL);
}

static void init_execd(struct container *c, int n, const struct report *r)
{
	Husk__Agent__V1__StartContainerResponse resp =
	    HUSK__AGENT__V1__START_CONTAINER_RESPONSE__INIT;
	struct ttrpc_call *call = call_take(&c->pending);
	husk_loop_del(c->ag->loop, c->report_fd);
	close_fd(&c->report_fd);
	c->state = CONTAINER_STARTED;
	if (n != 0) {
		if (call)
			ttrpc_reply_error(call, TTRPC_UNKNOWN, "start %s: %s", c->id,
			                  r->kind == REPORT_ERROR ? r->msg
			                                          : "unexpected setup report");
		return;
	}
	log_info("container %s started", c->id);
	resp.pid = (uint32_t)c->init->pid;
	if (call)
		ttrpc_reply_pb(call, &resp.base);
}

static int on_init_report(struct husk_loop *loop, int fd, uint32_t events, void *data,
                          husk_err *err)
{
	struct container *c = data;
	struct report r;
	int passed;
	int n = read_report(fd, &r, &passed);
	if (n < 0 ||
	    (n == 1 && c->state == CONTAINER_CREATING && take_console(c->init, &r, passed)))
		return 0;
	if (c->state == CONTAINER_CREATING)
		init_ready(c, n, &r);
	else
		init_execd(c, n, &r);
	return 0;
}

/* The namespaces the init is cloned into: the spec's user namespace, and all but those it joins. */
static unsigned long clone_flags(const struct spec *s)
{
	unsigned long f = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
	if (s->join_pid[JOIN_IPC])
		f &= ~(unsigned long)CLONE_NEWIPC;
	if (s->join_pid[JOIN_UTS])
		f &= ~(unsigned long)CLONE_NEWUTS;
	if (s->join_pid[JOIN_PID])
		f &= ~(unsigned long)CLONE_NEWPID;
	return f | (s->userns ? CLONE_NEWUSER : 0);
}

/* A namespace path joins only the namespace of a live container init of this sandbox. */
static int check_joins(struct agent *ag, const struct spec *s, husk_err *err)
{
	for (int j = 0; j < JOIN_COUNT; j++) {
		struct container *c = ag->containers;
		while (c && !(s->join_pid[j] && c->init && c->init->pid == s->join_pid[j] &&
		              !c->init->exited && c->state != CONTAINER_CREATING))
			c = c->next;
		if (s->join_pid[j] && !c)
			return husk_error_set(
			    err, 0,
			    "linux.namespaces %s: path /proc/%d/ns/%s: not the init "
			    "of a running container in this sandbox",
			    spec_join_names[j], (int)s->join_pid[j], spec_join_names[j]);
	}
	return 0;
}

static int open_ns(pid_t pid, const char *name, husk_err *err)
{
	char path[64];
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		husk_error_set(err, errno, "open %s", path);
	return fd;
}

/*
 * The agent itself enters the namespaces the spec joins, for the clone to
 * inherit (as runc joins before it creates), and leave_joined returns it to
 * its own: own[j] keeps them. For pid this sets only the children's.
 */
static int enter_joined(const struct spec *s, int own[JOIN_COUNT], husk_err *err)
{
	for (int j = 0; j < JOIN_COUNT; j++)
		own[j] = -1;
	for (int j = 0; j < JOIN_COUNT; j++) {
		if (!s->join_pid[j])
			continue;
		cleanup_close int target = open_ns(s->join_pid[j], spec_join_names[j], err);
		if (target < 0 || (own[j] = open_ns(0, spec_join_names[j], err)) < 0)
			return -1;
		if (setns(target, 0) < 0)
			return husk_error_set(
			    err, errno, "linux.namespaces %s: setns /proc/%d/ns/%s",
			    spec_join_names[j], (int)s->join_pid[j], spec_join_names[j]);
	}
	return 0;
}

static void leave_joined(int own[JOIN_COUNT])
{
	for (int j = 0; j < JOIN_COUNT; j++)
		if (own[j] >= 0) {
			if (setns(own[j], 0) < 0)
				log_error("setns back to the agent's %s namespace: %s",
				          spec_join_names[j], strerror(errno));
			close_fd(&own[j]);
		}
}

static pid_t clone_init(const struct spec *s, husk_err *err)
{
	int own[JOIN_COUNT];
	pid_t pid = -1;
	if (enter_joined(s, own, err) == 0) {
		pid = (pid_t)syscall(SYS_clone, clone_flags(s) | SIGCHLD, NULL, NULL, NULL, 0);
		if (pid < 0)
			husk_error_set(err, errno, "clone");
	}
	if (pid != 0)
		leave_joined(own);
	return pid;
}

/*
 * With a user namespace the agent writes the init's maps (as root outside,
 * so setgroups stays allowed and any host id may be mapped) before the init
 * may go on: a byte on the start pipe.
 */
static int release_userns(pid_t pid, const struct spec *s, int start_fd, husk_err *err)
{
	if (!s->userns)
		return 0;
	if (userns_write_maps(pid, &s->uid_maps, &s->gid_maps, err) < 0)
		return -1;
	if (write(start_fd, "u", 1) != 1)
		return husk_error_set(err, errno, "release container init");
	return 0;
}

/* Clones the init into its new namespaces; its READY report answers call. */
static int spawn_init(struct container *c, const struct spec *s, const char *rootfs,
                      struct stdio_pipes *pipes, husk_err *err)
{
	int report[2], start[2];
	if (report_channel(report, err) < 0)
		return -1;
	if (pipe2(start, O_CLOEXEC) < 0) {
		close(report[0]);
		close(report[1]);
		return husk_error_set(err, errno, "pipe");
	}
	pid_t pid = clone_init(s, err);
	if (pid == 0)
		container_init_main(c->id, s, rootfs, c->cgroup, &pipes->child, report[1],
		                    start[0]);
	close(report[1]);
	close(start[0]);
	c->report_fd = report[0];
	c->start_fd = start[1];
	if (pid < 0)
		return -1;
	c->init->pid = pid;
	c->userns = s->userns;
	c->shared_pidns = s->join_pid[JOIN_PID] != 0;
	if (process_limits_apply(pid, &s->process, err) < 0 ||
	    release_userns(pid, s, c->start_fd, err) < 0 ||
	    husk_loop_add(c->ag->loop, c->report_fd, EPOLLIN, on_init_report, c, err) < 0) {
		kill(pid, SIGKILL);
		return -1;
	}
	return 0;
}

static int rootfs_path(struct agent *ag, const char *tag, char *buf, size_t size, husk_err *err)
{
	struct stat st;
	snprintf(buf, size, "%s/%s", ag->shared_dir, tag);
	if (lstat(buf, &st) < 0)
		return husk_error_set(err, errno, "rootfs %s", buf);
	if (!S_ISDIR(st.st_mode))
		return husk_error_set(err, ENOTDIR, "rootfs %s", buf);
	return 0;
}

/* A bind mount's source becomes its tag's entry in the shared directory (the host put it there). */
static int bind_sources(struct agent *ag, struct spec *s, husk_err *err)
{
	struct stat st;
	for (size_t i = 0; i < s->nmounts; i++) {
		struct spec_mount *m = &s->mounts[i];
		if (!m->shared_tag)
			continue;
		free(m->source);
		if (asprintf(&m->source, "%s/%s", ag->shared_dir, m->shared_tag) < 0) {
			m->source = NULL;
			return husk_error_set(err, ENOMEM, "mount %s", m->destination);
		}
		if (lstat(m->source, &st) < 0)
			return husk_error_set(err, errno, "mount %s: shared source %s",
			                      m->destination, m->source);
		if (S_ISLNK(st.st_mode))
			return husk_error_set(err, ELOOP, "mount %s: shared source %s",
			                      m->destination, m->source);
	}
	return 0;
}

int spawn_container(struct agent *ag, const char *id, struct spec *s, const char *rootfs_tag,
                    int want_stdin, struct ttrpc_call *call, husk_err *err)
{
	char rootfs[SPEC_MAX_PATH];
	struct stdio_pipes pipes;
	if (check_joins(ag, s, err) < 0 ||
	    rootfs_path(ag, rootfs_tag, rootfs, sizeof(rootfs), err) < 0 ||
	    bind_sources(ag, s, err) < 0)
		return -1;
	struct container *c = containers_add(ag, id, &s->resources, err);
	if (!c)
		return -1;
	if (!(c->init = process_new("", ag->loop, err)) ||
	    open_pipes(&pipes, want_stdin, s->process.terminal, err) < 0) {
		containers_drop(c, NULL);
		return -1;
	}
	if (spawn_init(c, s, rootfs, &pipes, err) < 0) {
		close_pipes(&pipes);
		containers_drop(c, NULL);
		return -1;
	}
	adopt_pipes(c->init, &pipes);
	c->init->terminal = s->process.terminal;
	c->init->want_stdin = want_stdin;
	c->seccomp = s->seccomp; /* for the execs */
	s->seccomp = NULL;
	c->uid_maps = s->uid_maps;
	c->gid_maps = s->gid_maps;
	s->uid_maps = s->gid_maps = (struct spec_idmaps){0};
	call_hold(&c->pending, call);
	return 0;
}

int spawn_start(struct container *c, struct ttrpc_call *call, husk_err *err)
{
	ssize_t n = write(c->start_fd, "s", 1);
	int e = errno;
	close_fd(&c->start_fd);
	if (n != 1 ||
	    husk_loop_add(c->ag->loop, c->report_fd, EPOLLIN, on_init_report, c, err) < 0) {
		c->state = CONTAINER_STARTED;
		close_fd(&c->report_fd);
		return n != 1 ? husk_error_set(err, e, "release container init") : -1;
	}
	c->state = CONTAINER_STARTING;
	call_hold(&c->pending, call);
	return 0;
}

/*
 * The intermediate reports the pid, the process its pty master if it has a
 * terminal (in either order), then EOF (exec'd) or an error follows. Returns
 * whether more records are expected (p is freed after an error).
 */
static int exec_report(struct process *p, int n, struct report *r, int passed)
{
	Husk__Agent__V1__ExecProcessResponse resp = HUSK__AGENT__V1__EXEC_PROCESS_RESPONSE__INIT;
	if (n == 1 && take_console(p, r, passed))
		return 1;
	if (n == 1 && r->kind == REPORT_PID && p->pid == 0 && r->pid > 0) {
		p->pid = r->pid;
		return 1;
	}
	struct ttrpc_call *call = call_take(&p->pending);
	husk_loop_del(p->out.loop, p->report_fd);
	close_fd(&p->report_fd);
	if (n == 0 && p->pid > 0) {
		log_info("exec %s in container %s: pid %d", p->exec_id, p->ctr->id, (int)p->pid);
		resp.pid = (uint32_t)p->pid;
		p->ctr->ag->execs++;
		p->ctr->ag->exec_usec += (uint64_t)(monotonic_us() - p->requested_us);
		if (call)
			ttrpc_reply_pb(call, &resp.base);
		return 0;
	}
	if (call)
		ttrpc_reply_error(call, TTRPC_UNKNOWN, "exec %s in %s: %s", p->exec_id, p->ctr->id,
		                  report_error(n, r));
	containers_drop_exec(p, NULL);
	return 0;
}

static int on_exec_report(struct husk_loop *loop, int fd, uint32_t events, void *data,
                          husk_err *err)
{
	struct report r;
	int passed;
	int n = read_report(fd, &r, &passed);
	if (n >= 0)
		exec_report(data, n, &r, passed);
	return 0;
}

/* Reads the pid reports that are there, so that a reaped exec is known by its pid. */
static void poll_container_execs(struct container *c)
{
	struct report r;
	int passed;
	for (struct process *p = c->execs, *next; p; p = next) {
		next = p->next;
		int more = 1;
		while (more && p->report_fd >= 0 && p->pid == 0) {
			int n = read_report(p->report_fd, &r, &passed);
			more = n >= 0 && exec_report(p, n, &r, passed);
		}
	}
}

static void poll_execs(struct agent *ag)
{
	for (struct container *c = ag->containers; c; c = c->next)
		poll_container_execs(c);
	if (ag->debug)
		poll_container_execs(ag->debug);
}

static int fork_exec(struct process *proc, const struct spec_process *p, struct stdio_pipes *pipes,
                     husk_err *err)
{
	int report[2];
	if (report_channel(report, err) < 0)
		return -1;
	pid_t child = fork();
	if (child == 0)
		container_exec_main(proc->ctr->init->pid, proc->ctr->userns, proc->ctr->cgroup,
		                    proc->ctr->seccomp, p, &pipes->child, report[1]);
	int e = errno;
	close(report[1]);
	proc->report_fd = report[0];
	if (child < 0)
		return husk_error_set(err, e, "fork");
	return husk_loop_add(proc->out.loop, proc->report_fd, EPOLLIN, on_exec_report, proc, err);
}

int spawn_exec(struct container *c, const char *exec_id, const struct spec_process *p,
               int want_stdin, struct ttrpc_call *call, husk_err *err)
{
	struct stdio_pipes pipes;
	if (c->nexecs >= AGENT_MAX_EXECS)
		containers_prune_execs(c);
	if (c->nexecs >= AGENT_MAX_EXECS)
		return husk_error_set(err, 0, "too many processes");
	struct process *proc = process_new(exec_id, c->ag->loop, err);
	if (!proc)
		return -1;
	proc->ctr = c;
	proc->next = c->execs;
	c->execs = proc;
	c->nexecs++;
	proc->terminal = p->terminal;
	proc->want_stdin = want_stdin;
	if (open_pipes(&pipes, want_stdin, p->terminal, err) < 0) {
		containers_drop_exec(proc, NULL);
		return -1;
	}
	if (fork_exec(proc, p, &pipes, err) < 0) {
		close_pipes(&pipes);
		containers_drop_exec(proc, NULL);
		return -1;
	}
	adopt_pipes(proc, &pipes);
	proc->requested_us = monotonic_us();
	call_hold(&proc->pending, call);
	return 0;
}

void spawn_reap(struct agent *ag)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct process *p = containers_find_pid(ag, pid);
		if (!p) {
			/* an exec's pid report is written before its process can be ours to reap */
			poll_execs(ag);
			p = containers_find_pid(ag, pid);
		}
		if (p)
			process_exited(p, status);
		else
			log_debug("reaped pid %d", (int)pid);
	}
	cgroup_reap(&ag->doomed_cgroups);
}
