#include "procfig.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/text.h"

/* utime + stime in clock ticks: fields 14 and 15 of /proc/PID/stat, after the comm's ')'. */
static uint64_t cpu_ticks(const char *stat)
{
	const char *p = strrchr(stat, ')');
	unsigned long long ut, st;
	if (!p ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return ut + st;
}

static void add_one(pid_t pid, struct proc_figures *f)
{
	char dir[32], buf[4096];
	snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
	if (read_text_at(dir, "stat", buf, sizeof(buf)) <= 0)
		return; /* gone */
	long hz = sysconf(_SC_CLK_TCK);
	f->cpu_ns += cpu_ticks(buf) * (1000000000ULL / (uint64_t)(hz > 0 ? hz : 100));
	if (read_text_at(dir, "smaps_rollup", buf, sizeof(buf)) > 0) {
		f->pss += text_field_u64(buf, "Pss") * 1024;
		f->rss += text_field_u64(buf, "Rss") * 1024;
	}
	if (read_text_at(dir, "io", buf, sizeof(buf)) > 0) {
		f->rchar += text_field_u64(buf, "rchar");
		f->wchar += text_field_u64(buf, "wchar");
	}
	f->procs++;
}

/* Appends the children of every thread of pid to pids (up to PROCFIG_TREE_MAX in all). */
static void add_children(pid_t pid, pid_t *pids, size_t *n)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	cleanup_closedir DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s", (int)pid, e->d_name);
		if (read_text_at(path, "children", buf, sizeof(buf)) <= 0)
			continue;
		for (char *p = buf, *end; *n < PROCFIG_TREE_MAX; p = end) {
			long child = strtol(p, &end, 10);
			/* each pid ends in a space: one cut short by buf's size does not */
			if (end == p || *end != ' ' || child <= 0)
				break;
			pids[(*n)++] = (pid_t)child;
		}
	}
}

void procfig_read(pid_t pid, bool tree, struct proc_figures *out)
{
	pid_t pids[PROCFIG_TREE_MAX] = {pid};
	size_t n = 1;
	*out = (struct proc_figures){0};
	for (size_t i = 0; i < n; i++) {
		add_one(pids[i], out);
		if (tree)
			add_children(pids[i], pids, &n);
	}
}
