/*
 * containerd's rootfs mounts (CreateTaskRequest.rootfs: a snapshot's overlay
 * or bind mount) on the bundle's rootfs, inside the shim's private mount
 * namespace: the host never sees them and they go away with the shim.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "shim.h"

#define MOUNT_DATA_MAX 4096

struct flag_opt {
	const char *name;
	unsigned long flag;
	bool clear;
};

static const struct flag_opt flag_opts[] = {
    {"ro", MS_RDONLY, false},
    {"rw", MS_RDONLY, true},
    {"bind", MS_BIND, false},
    {"rbind", MS_BIND | MS_REC, false},
    {"nosuid", MS_NOSUID, false},
    {"suid", MS_NOSUID, true},
    {"nodev", MS_NODEV, false},
    {"dev", MS_NODEV, true},
    {"noexec", MS_NOEXEC, false},
    {"exec", MS_NOEXEC, true},
    {"sync", MS_SYNCHRONOUS, false},
    {"async", MS_SYNCHRONOUS, true},
    {"noatime", MS_NOATIME, false},
    {"atime", MS_NOATIME, true},
    {"relatime", MS_RELATIME, false},
    {"norelatime", MS_RELATIME, true},
    {"nodiratime", MS_NODIRATIME, false},
    {"diratime", MS_NODIRATIME, true},
    {"defaults", 0, false},
};

static const struct flag_opt *find_flag(const char *opt)
{
	for (size_t i = 0; i < ARRAY_SIZE(flag_opts); i++)
		if (!strcmp(flag_opts[i].name, opt))
			return &flag_opts[i];
	return NULL;
}

/* Splits options into mount flags and the comma-joined data string. */
static int parse_options(const struct mount_req *m, unsigned long *flags, char *data, husk_err *err)
{
	size_t used = 0;
	*flags = 0;
	data[0] = '\0';
	for (size_t i = 0; i < m->noptions; i++) {
		const struct flag_opt *f = find_flag(m->options[i]);
		if (f) {
			*flags = f->clear ? *flags & ~f->flag : *flags | f->flag;
			continue;
		}
		size_t len = strlen(m->options[i]);
		if (used + len + 2 > MOUNT_DATA_MAX)
			return husk_error_set(err, E2BIG, "mount options longer than %d bytes",
			                      MOUNT_DATA_MAX);
		if (used)
			data[used++] = ',';
		memcpy(data + used, m->options[i], len + 1);
		used += len;
	}
	return 0;
}

static int mount_one(const struct mount_req *m, const char *target, husk_err *err)
{
	char data[MOUNT_DATA_MAX];
	unsigned long flags;
	if (parse_options(m, &flags, data, err) < 0)
		return husk_error_prefix(err, "rootfs mount %s", m->source);
	if (mount(m->source, target, m->type, flags & ~MS_RDONLY, data[0] ? data : NULL) < 0)
		return husk_error_set(err, errno, "mount %s %s on %s", m->type, m->source, target);
	/* a bind mount takes the read-only flag only on a remount */
	if ((flags & MS_RDONLY) &&
	    mount(NULL, target, NULL, MS_REMOUNT | (flags & (MS_BIND | MS_RDONLY)), NULL) < 0) {
		int e = errno;
		umount2(target, MNT_DETACH);
		return husk_error_set(err, e, "remount %s read-only", target);
	}
	return 0;
}

int rootfs_mount(const struct mount_req *mounts, size_t n, const char *target, husk_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (mount_one(&mounts[i], target, err) < 0) {
			while (i--)
				umount2(target, MNT_DETACH);
			return -1;
		}
	}
	return 0;
}

void rootfs_unmount(const char *target)
{
	/* stacked mounts come off one at a time */
	for (int i = 0; i < 16 && umount2(target, MNT_DETACH) == 0; i++)
		;
	if (errno != EINVAL && errno != ENOENT)
		log_warn("umount %s: %s", target, strerror(errno));
}
