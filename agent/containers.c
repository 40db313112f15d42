#include "containers.h"

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "events.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "process.h"
#include "ttrpc/ttrpc.h"

struct container *containers_find(struct agent *ag, const char *id)
{
	for (struct container *c = ag->containers; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

struct process *containers_process(struct container *c, const char *exec_id)
{
	if (!exec_id[0])
		return c->init;
	for (struct process *p = c->execs; p; p = p->next)
		if (strcmp(p->exec_id, exec_id) == 0)
			return p;
	return NULL;
}

static void container_free(struct container *c, const char *why)
{
	why = why ? why : "container removed";
	struct ttrpc_call *call = call_take(&c->pending);
	if (call)
		ttrpc_reply(call, TTRPC_NOT_FOUND, why, NULL, 0);
	if (c->report_fd >= 0)
		husk_loop_del(c->ag->loop, c->report_fd);
	close_fd(&c->report_fd);
	close_fd(&c->start_fd);
	process_free(c->init, why);
	while (c->execs) {
		struct process *p = c->execs;
		c->execs = p->next;
		process_free(p, why);
	}
	events_unwatch(c);
	if (c->cgroup[0])
		cgroup_remove(&c->ag->doomed_cgroups, c->cgroup);
	spec_seccomp_free(c->seccomp);
	free(c->uid_maps.maps);
	free(c->gid_maps.maps);
	free(c);
}

void containers_free_all(struct agent *ag)
{
	if (ag->debug)
		container_free(ag->debug, "agent exiting");
	ag->debug = NULL;
	while (ag->containers) {
		struct container *c = ag->containers;
		ag->containers = c->next;
		container_free(c, "agent exiting");
	}
	ag->ncontainers = 0;
}

/* Without cgroups (--listen-unix) r must be empty. */
static int make_cgroup(struct container *c, const struct spec_resources *r, husk_err *err)
{
	struct agent *ag = c->ag;
	if (!ag->cgroup_parent[0]) {
		if (r->nfiles)
			return husk_error_set(err, 0, "%s: cgroups are only managed in the guest",
			                      r->files[0].field);
		return 0;
	}
	if (cgroup_create(ag->cgroup_parent, c->id, r, c->cgroup, sizeof(c->cgroup), err) < 0)
		return -1;
	cgroup_spare(&ag->doomed_cgroups, c->cgroup);
	events_watch(c);
	return 0;
}

static struct container *container_new(struct agent *ag, const char *id, husk_err *err)
{
	struct container *c = calloc(1, sizeof(*c));
	if (!c) {
		husk_error_set(err, ENOMEM, "container");
		return NULL;
	}
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->report_fd = c->start_fd = -1;
	c->oom_wd = c->events_wd = c->freeze_timer = -1;
	c->ag = ag;
	return c;
}

struct container *containers_add(struct agent *ag, const char *id, const struct spec_resources *r,
                                 husk_err *err)
{
	struct container *c = container_new(ag, id, err);
	if (!c)
		return NULL;
	c->next = ag->containers;
	ag->containers = c;
	ag->ncontainers++;
	if (make_cgroup(c, r, err) < 0) {
		containers_drop(c, NULL);
		return NULL;
	}
	return c;
}

int containers_add_debug(struct agent *ag, const char *id, husk_err *err)
{
	struct container *c = container_new(ag, id, err);
	if (!c)
		return -1;
	if (!(c->init = process_new("", ag->loop, err))) {
		container_free(c, NULL);
		return -1;
	}
	c->init->pid = getpid();
	c->state = CONTAINER_STARTED;
	ag->debug = c;
	return 0;
}

void containers_drop(struct container *c, const char *why)
{
	struct container **pp = &c->ag->containers;
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	c->ag->ncontainers--;
	container_free(c, why);
}

void containers_drop_exec(struct process *p, const char *why)
{
	struct process **pp = &p->ctr->execs;
	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	p->ctr->nexecs--;
	process_free(p, why);
}

/* There is no API to delete an exec: a full table forgets the finished, unwatched ones. */
void containers_prune_execs(struct container *c)
{
	for (struct process *p = c->execs, *next; p; p = next) {
		next = p->next;
		if (p->exited && !p->waits && !p->out.reads && !p->err.reads)
			containers_drop_exec(p, NULL);
	}
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

/*
 * A container in another's pid namespace: its processes are those of its
 * cgroup (as runc's --all), which outlive its init there. Without cgroups
 * (--listen-unix) only the init.
 */
static int kill_cgroup(struct container *c, int sig, husk_err *err)
{
	char path[PATH_MAX];
	long pid;
	if (!c->cgroup[0])
		return c->init->exited ? 0 : kill(c->init->pid, sig);
	snprintf(path, sizeof(path), "%s/cgroup.procs", c->cgroup);
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return husk_error_set(err, errno, "open %s", path);
	while (fscanf(f, "%ld", &pid) == 1)
		if (pid > 0 && pid <= INT32_MAX)
			kill((pid_t)pid, sig);
	return 0;
}

static int kill_container(struct container *c, int sig, husk_err *err)
{
	if (c->shared_pidns)
		return kill_cgroup(c, sig, err);
	/* a dead init took its pid namespace along, and the ns inode number may be reused */
	return c->init->exited ? 0 : kill_pidns(c, sig, err);
}

int containers_signal(struct container *c, struct process *p, int sig, int all, husk_err *err)
{
	if (all)
		return kill_container(c, sig, err);
	if (p->pid <= 0)
		return husk_error_set(err, 0, "process not started yet");
	if (kill(p->pid, sig) < 0)
		return husk_error_set(err, errno, "kill %d", (int)p->pid);
	return 0;
}

int containers_remove(struct container *c, husk_err *err)
{
	if (c->state >= CONTAINER_STARTING && !c->init->exited)
		return husk_error_set(err, 0, "container is running");
	if (c->state < CONTAINER_STARTING)
		kill(c->init->pid, SIGKILL);
	log_info("container %s removed", c->id);
	containers_drop(c, "container removed");
	return 0;
}

static struct process *exec_by_pid(struct container *c, pid_t pid)
{
	for (struct process *p = c->execs; p; p = p->next)
		if (!p->exited && p->pid == pid)
			return p;
	return NULL;
}

struct process *containers_find_pid(struct agent *ag, pid_t pid)
{
	struct process *p;
	for (struct container *c = ag->containers; c; c = c->next) {
		if (!c->init->exited && c->init->pid == pid)
			return c->init;
		if ((p = exec_by_pid(c, pid)))
			return p;
	}
	/* the debug console's init is the agent itself */
	return ag->debug ? exec_by_pid(ag->debug, pid) : NULL;
}

void containers_kill_all(struct agent *ag)
{
	cleanup_error husk_err err = NULL;
	if (ag->pid1) {
		kill(-1, SIGKILL);
		return;
	}
	for (struct container *c = ag->containers; c; c = c->next) {
		if (kill_container(c, SIGKILL, &err) < 0)
			log_warn("destroy: %s", husk_error_msg(err));
		if (!c->init->exited)
			kill(c->init->pid, SIGKILL);
	}
}
