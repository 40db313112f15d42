#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

static const char *const controllers[] = {"+cpu", "+cpuset", "+io", "+memory", "+pids", "+hugetlb"};

static int write_value(const char *path, const char *value)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t n = strlen(value);
	if (fd < 0)
		return -1;
	return write(fd, value, n) == (ssize_t)n ? 0 : -1;
}

/* Each controller alone: one the kernel lacks does not keep the others off. */
static void enable_controllers(const char *dir)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	for (size_t i = 0; i < ARRAY_SIZE(controllers); i++)
		if (write_value(path, controllers[i]) < 0)
			log_debug("cgroup %s: %s: %s", dir, controllers[i], strerror(errno));
}

int cgroup_init(struct agent *ag, husk_err *err)
{
	struct statfs st;
	if (mkdir(CGROUP_ROOT, 0755) < 0 && errno != EEXIST)
		return husk_error_set(err, errno, "mkdir %s", CGROUP_ROOT);
	if ((statfs(CGROUP_ROOT, &st) < 0 || st.f_type != CGROUP2_SUPER_MAGIC) &&
	    mount("cgroup2", CGROUP_ROOT, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return husk_error_set(err, errno, "mount cgroup2 on %s", CGROUP_ROOT);
	enable_controllers(CGROUP_ROOT);
	if (mkdir(CGROUP_HUSK, 0755) < 0 && errno != EEXIST)
		return husk_error_set(err, errno, "mkdir %s", CGROUP_HUSK);
	enable_controllers(CGROUP_HUSK);
	ag->cgroups = 1;
	return 0;
}

static int write_resources(const char *dir, const struct spec_resources *r, husk_err *err)
{
	char path[192];
	for (size_t i = 0; i < r->nfiles; i++) {
		const struct spec_cgfile *f = &r->files[i];
		snprintf(path, sizeof(path), "%s/%s", dir, f->file);
		if (write_value(path, f->value) == 0)
			continue;
		if (errno == ENOENT)
			return husk_error_set(err, 0,
			                      "%s: not supported by the guest kernel (no %s)",
			                      f->field, f->file);
		return husk_error_set(err, errno, "%s: %s = %s", f->field, f->file, f->value);
	}
	return 0;
}

int cgroup_create(struct container *c, const struct spec_resources *r, husk_err *err)
{
	c->cgroup[0] = '\0';
	if (!c->ag->cgroups) {
		if (r->nfiles)
			return husk_error_set(err, 0, "%s: cgroups are only managed in the guest",
			                      r->files[0].field);
		return 0;
	}
	snprintf(c->cgroup, sizeof(c->cgroup), "%s/%s", CGROUP_HUSK, c->id);
	if (mkdir(c->cgroup, 0755) < 0) {
		int e = errno;
		c->cgroup[0] = '\0';
		return husk_error_set(err, e, "cgroup %s/%s", CGROUP_HUSK, c->id);
	}
	if (write_resources(c->cgroup, r, err) < 0) {
		cgroup_remove(c);
		return -1;
	}
	return 0;
}

int cgroup_update(struct container *c, const struct spec_resources *r, husk_err *err)
{
	if (!c->cgroup[0])
		return husk_error_set(err, 0, "cgroups are only managed in the guest");
	return write_resources(c->cgroup, r, err);
}

void cgroup_remove(struct container *c)
{
	if (c->cgroup[0] && rmdir(c->cgroup) < 0)
		log_warn("remove cgroup %s: %s", c->cgroup, strerror(errno));
	c->cgroup[0] = '\0';
}
