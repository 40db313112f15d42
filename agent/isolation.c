#include "isolation.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"

static int add_rule(scmp_filter_ctx ctx, const struct spec_seccomp_rule *r, husk_err *err)
{
	struct scmp_arg_cmp cmp[6];
	for (size_t i = 0; i < r->nargs; i++)
		cmp[i] = (struct scmp_arg_cmp){r->args[i].index, (enum scmp_compare)r->args[i].op,
		                               r->args[i].value, r->args[i].value_two};
	for (size_t i = 0; i < r->nsyscalls; i++) {
		int e =
		    seccomp_rule_add_array(ctx, r->action, r->syscalls[i], (unsigned)r->nargs, cmp);
		if (e < 0) {
			cleanup_free char *name =
			    seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r->syscalls[i]);
			return husk_error_set(err, -e, "seccomp rule for %s", name ? name : "?");
		}
	}
	return 0;
}

static int build_filter(scmp_filter_ctx ctx, const struct spec_seccomp *sc, husk_err *err)
{
	int e;
	/* like runc: no_new_privs only when the spec asks for it */
	if ((e = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 ||
	    (sc->flag_log && (e = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1)) < 0) ||
	    (sc->flag_spec_allow && (e = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1)) < 0) ||
	    (sc->flag_tsync && (e = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0))
		return husk_error_set(err, -e, "seccomp attributes");
	for (size_t i = 0; i < sc->narches; i++)
		if ((e = seccomp_arch_add(ctx, sc->arches[i])) < 0 && e != -EEXIST)
			return husk_error_set(err, -e, "seccomp architecture %u", sc->arches[i]);
	for (size_t i = 0; i < sc->nrules; i++)
		/* libseccomp refuses rules that repeat the default action; they change nothing */
		if (sc->rules[i].action != sc->default_action &&
		    add_rule(ctx, &sc->rules[i], err) < 0)
			return -1;
	if ((e = seccomp_load(ctx)) < 0)
		return husk_error_set(err, -e, "seccomp load");
	return 0;
}

int seccomp_apply(const struct spec_seccomp *sc, husk_err *err)
{
	if (!sc)
		return 0;
	scmp_filter_ctx ctx = seccomp_init(sc->default_action);
	if (!ctx)
		return husk_error_set(err, EINVAL, "seccomp init");
	int ret = build_filter(ctx, sc, err);
	seccomp_release(ctx);
	return ret;
}

int sysctl_apply(const struct spec *s, husk_err *err)
{
	char path[256];
	for (size_t i = 0; i < s->nsysctl; i++) {
		snprintf(path, sizeof(path), "/proc/sys/%s", s->sysctl[i].key);
		for (char *c = path + 10; *c; c++)
			if (*c == '.')
				*c = '/';
		if (write_str(path, s->sysctl[i].value, err) < 0)
			return husk_error_prefix(err, "linux.sysctl %s", s->sysctl[i].key);
	}
	return 0;
}

static int oom_score_adj_apply(pid_t pid, const struct spec_process *p, husk_err *err)
{
	char v[16], path[64];
	if (!p->has_oom_score_adj)
		return 0;
	snprintf(v, sizeof(v), "%d", p->oom_score_adj);
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	return write_str(path, v, err);
}

int process_limits_apply(pid_t pid, const struct spec_process *p, husk_err *err)
{
	for (size_t i = 0; i < p->nrlimits; i++) {
		struct rlimit rl = {p->rlimits[i].soft, p->rlimits[i].hard};
		if (prlimit(pid, p->rlimits[i].resource, &rl, NULL) < 0)
			return husk_error_set(err, errno, "setrlimit %d", p->rlimits[i].resource);
	}
	return oom_score_adj_apply(pid ? pid : getpid(), p, err);
}

/* A node in a directory of its own (/dev/net/tun, /dev/bus/usb/001/001) gets its parents. */
static int make_parent(const char *path, husk_err *err)
{
	cleanup_free char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (!dir)
		return husk_error_set(err, ENOMEM, "%s", path);
	if (slash == dir + 4) /* "/dev/x" */
		return 0;
	*slash = '\0';
	return mkdir_p(dir, 0755, err);
}

int devices_create(const struct spec *s, husk_err *err)
{
	mode_t old = umask(0);
	int ret = 0;
	for (size_t i = 0; i < s->ndevices && ret == 0; i++) {
		const struct spec_device *d = &s->devices[i];
		if (strcmp(d->path, "/dev/ptmx") == 0) /* stays the devpts link, as runc */
			continue;
		if (make_parent(d->path, err) < 0)
			ret = husk_error_prefix(err, "linux.devices %s", d->path);
		else if (unlink(d->path) < 0 && errno != ENOENT)
			ret = husk_error_set(err, errno, "linux.devices %s", d->path);
		else if (mknod(d->path, d->type | d->mode, makedev(d->major, d->minor)) < 0 ||
		         chown(d->path, d->uid, d->gid) < 0)
			ret = husk_error_set(err, errno, "linux.devices %s", d->path);
	}
	umask(old);
	return ret;
}

static int write_idmap(pid_t pid, const char *file, const struct spec_idmaps *m, husk_err *err)
{
	char path[64], text[SPEC_IDMAP_TEXT];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int n = spec_idmap_format(m, text, sizeof(text));
	if (n < 0)
		return husk_error_set(err, E2BIG, "%s", path);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return husk_error_set(err, errno, "open %s", path);
	/* one write: the kernel takes a map whole or not at all */
	if (write(fd, text, (size_t)n) != n)
		return husk_error_set(err, errno, "write %s", path);
	return 0;
}

int userns_write_maps(pid_t pid, const struct spec_idmaps *uids, const struct spec_idmaps *gids,
                      husk_err *err)
{
	if (write_idmap(pid, "uid_map", uids, err) < 0 ||
	    write_idmap(pid, "gid_map", gids, err) < 0)
		return husk_error_prefix(err, "user namespace");
	return 0;
}

int cgroup_join(const char *dir, husk_err *err)
{
	char path[PATH_MAX];
	if (!dir[0])
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	return write_str(path, "0", err);
}
