#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "log.h"
#include "process.h"

#define REPORT_TIMEOUT_MS 30000

struct container *sandbox_find(struct agent *ag, const char *id)
{
	for (struct container *c = ag->containers; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

struct process *sandbox_process(struct container *c, const char *exec_id)
{
	if (!exec_id[0])
		return c->init;
	for (struct process *p = c->execs; p; p = p->next)
		if (strcmp(p->exec_id, exec_id) == 0)
			return p;
	return NULL;
}

/* Returns 1 with a record, 0 on EOF (the child exec'd or exited), -1 on error. */
static int read_report(int fd, struct report *r, husk_err *err)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int n;
	while ((n = poll(&pfd, 1, REPORT_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	if (n == 0)
		return husk_error_set(err, ETIMEDOUT, "waiting for the container process");
	ssize_t got;
	while ((got = read(fd, r, sizeof(*r))) < 0 && errno == EINTR)
		;
	if (got < 0)
		return husk_error_set(err, errno, "read setup report");
	if (got == 0)
		return 0;
	if (got != sizeof(*r))
		return husk_error_set(err, 0, "short setup report");
	r->msg[sizeof(r->msg) - 1] = '\0';
	return 1;
}

/* Expects a record of kind want; an error record becomes the error. */
static int expect_report(int fd, int want, struct report *r, husk_err *err)
{
	int n = read_report(fd, r, err);
	if (n < 0)
		return -1;
	if (n == 0)
		return husk_error_set(err, 0, "container process died during setup");
	if (r->kind == REPORT_ERROR)
		return husk_error_set(err, 0, "%s", r->msg);
	if (r->kind != want)
		return husk_error_set(err, 0, "unexpected setup report %d", r->kind);
	return 0;
}

/* Expects EOF (exec succeeded) or an error record. */
static int expect_exec(int fd, husk_err *err)
{
	struct report r;
	int n = read_report(fd, &r, err);
	if (n <= 0)
		return n;
	return husk_error_set(err, 0, "%s", r.kind == REPORT_ERROR ? r.msg : "unexpected report");
}

/* Both ends of the child's stdio: the agent keeps in_w, out_r, err_r. */
struct stdio_pipes {
	struct child_stdio child;
	int in_w, out_r, err_r;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_pipes(struct stdio_pipes *p)
{
	close_fd(&p->child.in);
	close_fd(&p->child.out);
	close_fd(&p->child.err);
	close_fd(&p->in_w);
	close_fd(&p->out_r);
	close_fd(&p->err_r);
}

static int open_pipes(struct stdio_pipes *p, int want_stdin, husk_err *err)
{
	int fds[2];
	*p = (struct stdio_pipes){{-1, -1, -1}, -1, -1, -1};
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

/* Clones the init into its new namespaces and waits until it reports READY. */
static int spawn_init(struct container *c, const struct spec *s, const char *rootfs,
                      struct stdio_pipes *pipes, husk_err *err)
{
	int report[2], start[2];
	struct report r;
	if (pipe2(report, O_CLOEXEC) < 0)
		return husk_error_set(err, errno, "pipe");
	if (pipe2(start, O_CLOEXEC) < 0) {
		close(report[0]);
		close(report[1]);
		return husk_error_set(err, errno, "pipe");
	}
	pid_t pid = (pid_t)syscall(SYS_clone, CONTAINER_NS_FLAGS | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0)
		container_init_main(s, rootfs, &pipes->child, report[1], start[0]);
	int e = errno;
	close(report[1]);
	close(start[0]);
	c->report_fd = report[0];
	c->start_fd = start[1];
	if (pid < 0)
		return husk_error_set(err, e, "clone");
	c->init->pid = pid;
	if (expect_report(c->report_fd, REPORT_READY, &r, err) < 0) {
		kill(pid, SIGKILL);
		return -1;
	}
	read_pidns(c);
	return 0;
}

static void container_free(struct container *c)
{
	close_fd(&c->report_fd);
	close_fd(&c->start_fd);
	process_free(c->init, "container removed");
	while (c->execs) {
		struct process *p = c->execs;
		c->execs = p->next;
		process_free(p, "container removed");
	}
	free(c);
}

void sandbox_free(struct agent *ag)
{
	while (ag->containers) {
		struct container *c = ag->containers;
		ag->containers = c->next;
		container_free(c);
	}
	ag->ncontainers = 0;
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

int sandbox_create(struct agent *ag, const char *id, const struct spec *s, const char *rootfs_tag,
                   int want_stdin, husk_err *err)
{
	char rootfs[SPEC_MAX_PATH];
	struct stdio_pipes pipes;
	if (rootfs_path(ag, rootfs_tag, rootfs, sizeof(rootfs), err) < 0)
		return -1;
	struct container *c = calloc(1, sizeof(*c));
	if (!c)
		return husk_error_set(err, ENOMEM, "container");
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->report_fd = c->start_fd = -1;
	if (!(c->init = process_new("", ag->loop, err)) ||
	    open_pipes(&pipes, want_stdin, err) < 0) {
		container_free(c);
		return -1;
	}
	if (spawn_init(c, s, rootfs, &pipes, err) < 0) {
		close_pipes(&pipes);
		container_free(c);
		return -1;
	}
	adopt_pipes(c->init, &pipes);
	c->next = ag->containers;
	ag->containers = c;
	ag->ncontainers++;
	log_info("container %s created, init pid %d", id, (int)c->init->pid);
	return 0;
}

int sandbox_start(struct container *c, husk_err *err)
{
	c->started = 1;
	ssize_t n = write(c->start_fd, "s", 1);
	close_fd(&c->start_fd);
	int ret = n == 1 ? expect_exec(c->report_fd, err)
	                 : husk_error_set(err, errno, "release container init");
	close_fd(&c->report_fd);
	if (ret == 0)
		log_info("container %s started", c->id);
	return ret;
}

static int spawn_exec(struct container *c, const struct spec_process *p, struct stdio_pipes *pipes,
                      pid_t *pid, husk_err *err)
{
	int report[2];
	struct report r;
	if (pipe2(report, O_CLOEXEC) < 0)
		return husk_error_set(err, errno, "pipe");
	pid_t child = fork();
	if (child == 0)
		container_exec_main(c->init->pid, p, &pipes->child, report[1]);
	int e = errno;
	close(report[1]);
	int ret = child < 0 ? husk_error_set(err, e, "fork")
	                    : expect_report(report[0], REPORT_PID, &r, err);
	if (ret == 0 && (ret = expect_exec(report[0], err)) == 0)
		*pid = r.pid;
	close(report[0]);
	return ret;
}

/* There is no API to delete an exec: when the table is full, forget the finished, unwatched ones.
 */
static void prune_execs(struct container *c)
{
	struct process **pp = &c->execs;
	while (*pp) {
		struct process *p = *pp;
		if (p->exited && !p->waits && !p->out.reads && !p->err.reads) {
			*pp = p->next;
			process_free(p, NULL);
			c->nexecs--;
		} else {
			pp = &p->next;
		}
	}
}

int sandbox_exec(struct container *c, const char *exec_id, const struct spec_process *p,
                 int want_stdin, struct husk_loop *loop, husk_err *err)
{
	struct stdio_pipes pipes;
	if (c->nexecs >= AGENT_MAX_EXECS)
		prune_execs(c);
	if (c->nexecs >= AGENT_MAX_EXECS)
		return husk_error_set(err, 0, "too many processes");
	struct process *proc = process_new(exec_id, loop, err);
	if (!proc || open_pipes(&pipes, want_stdin, err) < 0) {
		process_free(proc, NULL);
		return -1;
	}
	if (spawn_exec(c, p, &pipes, &proc->pid, err) < 0) {
		close_pipes(&pipes);
		process_free(proc, NULL);
		return -1;
	}
	adopt_pipes(proc, &pipes);
	proc->next = c->execs;
	c->execs = proc;
	c->nexecs++;
	log_info("exec %s in container %s: pid %d", exec_id, c->id, (int)proc->pid);
	return 0;
}

static int in_pidns(const char *pid, const char *ns)
{
	char path[300], link[64];
	snprintf(path, sizeof(path), "/proc/%s/ns/pid", pid);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	return strcmp(link, ns) == 0;
}

static int kill_pidns(struct container *c, int sig, husk_err *err)
{
	cleanup_closedir DIR *d = opendir("/proc");
	struct dirent *e;
	if (!d)
		return husk_error_set(err, errno, "open /proc");
	if (!c->pidns[0])
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && in_pidns(e->d_name, c->pidns))
			kill(atoi(e->d_name), sig);
	return 0;
}

int sandbox_signal(struct container *c, struct process *p, int sig, int all, husk_err *err)
{
	/* a dead init took its pid namespace along, and the ns inode number may be reused */
	if (all)
		return c->init->exited ? 0 : kill_pidns(c, sig, err);
	if (kill(p->pid, sig) < 0)
		return husk_error_set(err, errno, "kill %d", (int)p->pid);
	return 0;
}

int sandbox_remove(struct agent *ag, struct container *c, husk_err *err)
{
	if (c->started && !c->init->exited)
		return husk_error_set(err, 0, "container is running");
	if (!c->started)
		kill(c->init->pid, SIGKILL);
	struct container **pp = &ag->containers;
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	ag->ncontainers--;
	log_info("container %s removed", c->id);
	container_free(c);
	return 0;
}

static struct process *find_pid(struct agent *ag, pid_t pid)
{
	for (struct container *c = ag->containers; c; c = c->next) {
		if (!c->init->exited && c->init->pid == pid)
			return c->init;
		for (struct process *p = c->execs; p; p = p->next)
			if (!p->exited && p->pid == pid)
				return p;
	}
	return NULL;
}

void sandbox_reap(struct agent *ag)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct process *p = find_pid(ag, pid);
		if (p)
			process_exited(p, status);
		else
			log_debug("reaped pid %d", (int)pid);
	}
}

void sandbox_kill_all(struct agent *ag)
{
	cleanup_error husk_err err = NULL;
	if (ag->pid1) {
		kill(-1, SIGKILL);
		return;
	}
	for (struct container *c = ag->containers; c; c = c->next) {
		if (kill_pidns(c, SIGKILL, &err) < 0)
			log_warn("destroy: %s", husk_error_msg(err));
		if (!c->init->exited)
			kill(c->init->pid, SIGKILL);
	}
}
