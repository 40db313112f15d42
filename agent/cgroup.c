#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgstat.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/text.h"

#define CGROUP_PATH_MAX PATH_MAX

static const char *const controllers[] = {"+cpu", "+cpuset", "+io", "+memory", "+pids", "+hugetlb"};

/* Each controller alone: one the kernel lacks does not keep the others off. */
static void enable_controllers(const char *dir)
{
	char path[CGROUP_PATH_MAX];
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	for (size_t i = 0; i < ARRAY_SIZE(controllers); i++)
		if (write_knob(path, controllers[i]) < 0)
			log_debug("cgroup %s: %s: %s", dir, controllers[i], strerror(errno));
}

int cgroup_init(const char *root, char *parent, size_t size, husk_err *err)
{
	struct statfs st;
	if (mkdir(root, 0755) < 0 && errno != EEXIST)
		return husk_error_set(err, errno, "mkdir %s", root);
	if ((statfs(root, &st) < 0 || st.f_type != CGROUP2_SUPER_MAGIC) &&
	    mount("cgroup2", root, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return husk_error_set(err, errno, "mount cgroup2 on %s", root);
	enable_controllers(root);
	snprintf(parent, size, "%s/husk", root);
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return husk_error_set(err, errno, "mkdir %s", parent);
	enable_controllers(parent);
	return 0;
}

int cgroup_write_resources(const char *dir, const struct spec_resources *r, husk_err *err)
{
	char path[CGROUP_PATH_MAX];
	for (size_t i = 0; i < r->nfiles; i++) {
		const struct spec_cgfile *f = &r->files[i];
		snprintf(path, sizeof(path), "%s/%s", dir, f->file);
		if (write_knob(path, f->value) == 0)
			continue;
		if (errno == ENOENT)
			return husk_error_set(err, 0,
			                      "%s: not supported by the guest kernel (no %s)",
			                      f->field, f->file);
		return husk_error_set(err, errno, "%s: %s = %s", f->field, f->file, f->value);
	}
	return 0;
}

int cgroup_create(const char *parent, const char *id, const struct spec_resources *r, char *dir,
                  size_t size, husk_err *err)
{
	snprintf(dir, size, "%s/%s", parent, id);
	/* left by a container of that id killed on removal before its processes were gone */
	if (mkdir(dir, 0755) < 0 && (errno != EEXIST || rmdir(dir) < 0 || mkdir(dir, 0755) < 0)) {
		dir[0] = '\0';
		return husk_error_set(err, errno, "cgroup %s/%s", parent, id);
	}
	if (cgroup_write_resources(dir, r, err) < 0) {
		cgroup_remove(NULL, dir);
		dir[0] = '\0';
		return -1;
	}
	return 0;
}

void cgroup_spare(struct cgroup_doomed *d, const char *dir)
{
	for (size_t i = d->n; i-- > 0;)
		if (!strcmp(d->dir[i], dir))
			memmove(d->dir[i], d->dir[--d->n], sizeof(d->dir[i]));
}

void cgroup_remove(struct cgroup_doomed *doomed, const char *dir)
{
	char kill_path[CGROUP_PATH_MAX];
	if (rmdir(dir) == 0 || errno == ENOENT)
		return;
	if (errno != EBUSY || !doomed || doomed->n == CGROUP_DOOMED_MAX ||
	    strlen(dir) >= CGROUP_DIR_MAX) {
		log_warn("remove cgroup %s: %s", dir, strerror(errno));
		return;
	}
	snprintf(kill_path, sizeof(kill_path), "%s/cgroup.kill", dir);
	if (write_knob(kill_path, "1") < 0)
		log_warn("kill cgroup %s: %s", dir, strerror(errno));
	cgroup_spare(doomed, dir);
	snprintf(doomed->dir[doomed->n++], CGROUP_DIR_MAX, "%s", dir);
}

void cgroup_reap(struct cgroup_doomed *doomed)
{
	for (size_t i = doomed->n; i-- > 0;) {
		if (rmdir(doomed->dir[i]) < 0) {
			if (errno == EBUSY)
				continue; /* still populated */
			if (errno != ENOENT)
				log_warn("remove cgroup %s: %s", doomed->dir[i], strerror(errno));
		}
		memmove(doomed->dir[i], doomed->dir[--doomed->n], sizeof(doomed->dir[i]));
	}
}

int cgroup_set_freeze(const char *dir, int frozen)
{
	char path[CGROUP_PATH_MAX];
	snprintf(path, sizeof(path), "%s/cgroup.freeze", dir);
	return write_knob(path, frozen ? "1" : "0");
}

int cgroup_freeze_requested(const char *dir)
{
	char buf[8];
	read_text_at(dir, "cgroup.freeze", buf, sizeof(buf));
	return buf[0] == '1';
}

int cgroup_frozen(const char *dir)
{
	char buf[256];
	read_text_at(dir, "cgroup.events", buf, sizeof(buf));
	return cgstat_keyed(buf, "frozen") != 0;
}

uint64_t cgroup_oom_kills(const char *dir)
{
	char buf[512];
	read_text_at(dir, "memory.events", buf, sizeof(buf));
	return cgstat_keyed(buf, "oom_kill");
}

void cgroup_stats(const char *dir, Husk__Agent__V1__StatsContainerResponse *r)
{
	char buf[4096];
	read_text_at(dir, "cpu.stat", buf, sizeof(buf));
	r->cpu_usage_usec = cgstat_keyed(buf, "usage_usec");
	r->cpu_user_usec = cgstat_keyed(buf, "user_usec");
	r->cpu_system_usec = cgstat_keyed(buf, "system_usec");
	read_text_at(dir, "memory.current", buf, sizeof(buf));
	r->memory_current = cgstat_single(buf);
	read_text_at(dir, "memory.max", buf, sizeof(buf));
	r->memory_max = cgstat_single(buf);
	r->memory_oom_kill = cgroup_oom_kills(dir);
	read_text_at(dir, "pids.current", buf, sizeof(buf));
	r->pids_current = cgstat_single(buf);
	read_text_at(dir, "pids.max", buf, sizeof(buf));
	r->pids_max = cgstat_single(buf);
	read_text_at(dir, "io.stat", buf, sizeof(buf));
	r->io_rbytes = cgstat_io_sum(buf, "rbytes");
	r->io_wbytes = cgstat_io_sum(buf, "wbytes");
}

void cgroup_guest_stats(const char *root, Husk__Agent__V1__GuestStatsResponse *r)
{
	char buf[4096];
	read_text_at(root, "cpu.stat", buf, sizeof(buf));
	r->cpu_user_usec = cgstat_keyed(buf, "user_usec");
	r->cpu_system_usec = cgstat_keyed(buf, "system_usec");
	read_text_at("/proc", "meminfo", buf, sizeof(buf));
	r->memory_total = text_field_u64(buf, "MemTotal") * 1024; /* kB */
	r->memory_available = text_field_u64(buf, "MemAvailable") * 1024;
}
