#include "proclist.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"

int proclist_parse_stat(const char *stat, char *state, uint32_t *ppid)
{
	/* comm may hold anything, ')' included: the fields start after the last one */
	const char *end = strrchr(stat, ')');
	unsigned long v;
	char s;
	if (!end || sscanf(end + 1, " %c %lu", &s, &v) != 2 || v > UINT32_MAX)
		return -1;
	*state = s;
	*ppid = (uint32_t)v;
	return 0;
}

int proclist_parse_uid(const char *status, uint32_t *uid)
{
	const char *line = strncmp(status, "Uid:", 4) ? strstr(status, "\nUid:") : status;
	unsigned long v;
	if (!line)
		return -1;
	line += *line == '\n' ? 5 : 4;
	if (sscanf(line, " %lu", &v) != 1 || v > UINT32_MAX)
		return -1;
	*uid = (uint32_t)v;
	return 0;
}

size_t proclist_join_argv(char *buf, size_t len)
{
	while (len && buf[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[len] = '\0';
	return len;
}

/* Reads at most size-1 bytes of /proc/<pid>/<file>; returns the length or -1. */
static ssize_t read_proc(pid_t pid, const char *file, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t got = 0;
	ssize_t n;
	while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return (ssize_t)got;
}

/* A process that exited meanwhile is skipped (returns 1). */
static int read_one(struct proclist *l, pid_t pid, Husk__Agent__V1__ProcessInfo *info, char *state)
{
	char buf[PROCLIST_MAX_CMDLINE + 1], comm[32];
	ssize_t n;
	husk__agent__v1__process_info__init(info);
	info->pid = (uint32_t)pid;
	if (read_proc(pid, "stat", buf, sizeof(buf)) <= 0 ||
	    proclist_parse_stat(buf, &state[0], &info->ppid) < 0)
		return 1;
	state[1] = '\0';
	info->state = state;
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	if (open && open < close)
		snprintf(comm, sizeof(comm), "[%.*s]", (int)(close - open - 1), open + 1);
	else
		snprintf(comm, sizeof(comm), "[?]");
	if (read_proc(pid, "status", buf, sizeof(buf)) > 0)
		proclist_parse_uid(buf, &info->uid);
	n = read_proc(pid, "cmdline", buf, sizeof(buf));
	size_t len = n > 0 ? proclist_join_argv(buf, (size_t)n) : 0;
	const char *cmd = len ? buf : comm;
	len = len ? len : strlen(comm);
	if (len > l->budget)
		len = l->budget;
	info->cmdline = strndup(cmd, len);
	if (!info->cmdline)
		return -1;
	l->budget -= len;
	return 0;
}

static int add_pid(struct proclist *l, pid_t pid, husk_err *err)
{
	size_t i = l->resp.n_processes;
	int r = read_one(l, pid, &l->infos[i], l->states[i]);
	if (r < 0)
		return husk_error_set(err, ENOMEM, "process %d", (int)pid);
	if (r == 0)
		l->ptrs[l->resp.n_processes++] = &l->infos[i];
	return 0;
}

int proclist_read(const char *cgroup_dir, struct proclist *l, husk_err *err)
{
	char path[PATH_MAX];
	long pid;
	*l = (struct proclist){.budget = PROCLIST_CMDLINE_BUDGET};
	husk__agent__v1__list_processes_response__init(&l->resp);
	l->infos = calloc(PROCLIST_MAX_PROCS, sizeof(*l->infos));
	l->ptrs = calloc(PROCLIST_MAX_PROCS, sizeof(*l->ptrs));
	l->states = calloc(PROCLIST_MAX_PROCS, sizeof(*l->states));
	l->resp.processes = l->ptrs;
	if (!l->infos || !l->ptrs || !l->states)
		return husk_error_set(err, ENOMEM, "process list");
	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup_dir);
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return husk_error_set(err, errno, "%s", path);
	while (l->resp.n_processes < PROCLIST_MAX_PROCS && fscanf(f, "%ld", &pid) == 1)
		if (pid > 0 && pid <= 0x3fffffff && add_pid(l, (pid_t)pid, err) < 0)
			return -1;
	return 0;
}

void proclist_free(struct proclist *l)
{
	for (size_t i = 0; l->ptrs && i < l->resp.n_processes; i++)
		free(l->ptrs[i]->cmdline);
	free(l->infos);
	free(l->ptrs);
	free(l->states);
	*l = (struct proclist){0};
}
