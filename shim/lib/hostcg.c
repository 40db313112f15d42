#include "hostcg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/log.h"
#include "oci/specjson.h"
#include "bundle.h"

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define MOUNTINFO_MAX   (4u << 20)
#define SELF_CGROUP_MAX (64u << 10)
#define PROCS_MAX       (64u << 10)
#define RECORD_MAX      (64u << 10)
#define MOUNTS_MAX      64
#define WAIT_PIDS_MAX   256

/* runc's v1 subsystems (libcontainer/cgroups/fs), joined where mounted */
static const char *const v1_subsystems[] = {
    "cpuset",  "devices", "memory",   "cpu",        "cpuacct", "pids", "blkio",
    "hugetlb", "net_cls", "net_prio", "perf_event", "freezer", "rdma", "name=systemd",
};

/* --- paths ------------------------------------------------------------------------------ */

void hostcg_clean_path(const char *path, char *out, size_t len)
{
	bool abs = path[0] == '/';
	size_t o = 0;
	out[0] = '\0';
	if (!path[0] || len < 2)
		return;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the '/' before it */
		} else if (o + 1 + n < len) {
			out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p = end;
	}
	out[o] = '\0';
	if (abs && o == 0)
		snprintf(out, len, "/");
	else if (!abs && o == 0)
		snprintf(out, len, ".");
	else if (!abs)
		memmove(out, out + 1, o); /* drop the leading '/', keep the NUL */
}

/* Decodes mountinfo's octal escapes (\040) in place. */
static void unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

struct cg_mount {
	char *root, *point, *opts; /* pointers into a copy of the mountinfo text */
	bool v2;
};

/* The cgroup and cgroup2 mounts of mountinfo (buf is modified). */
static size_t parse_mounts(char *buf, struct cg_mount *m, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		char *f[5], *s2 = NULL, *tail = sep + 3;
		size_t k = 0;
		for (char *t = strtok_r(line, " ", &s2); t && k < 5; t = strtok_r(NULL, " ", &s2))
			f[k++] = t;
		char *fstype = strtok_r(tail, " ", &s2);
		char *source = fstype ? strtok_r(NULL, " ", &s2) : NULL;
		char *opts = source ? strtok_r(NULL, " ", &s2) : NULL;
		if (k < 5 || !opts)
			continue;
		bool v2 = !strcmp(fstype, "cgroup2");
		if (!v2 && strcmp(fstype, "cgroup"))
			continue;
		unescape(f[3]);
		unescape(f[4]);
		m[n++] = (struct cg_mount){.root = f[3], .point = f[4], .opts = opts, .v2 = v2};
	}
	return n;
}

/* Whether the comma-separated list has item. */
static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; p;) {
		if (!strncmp(p, item, n) && (p[n] == ',' || !p[n]))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/* A v1 hierarchy runc joins: one of its subsystems is in the line's list. */
static bool joined_v1(const char *controllers)
{
	for (size_t i = 0; i < ARRAY_SIZE(v1_subsystems); i++)
		if (list_has(controllers, v1_subsystems[i]))
			return true;
	return false;
}

/* The mount of a v1 hierarchy (every controller of the list in its options), or cgroup2. */
static const struct cg_mount *find_mount(const struct cg_mount *m, size_t n, const char *ctrls,
                                         bool v2)
{
	for (size_t i = 0; i < n; i++) {
		if (m[i].v2 != v2)
			continue;
		if (v2)
			return &m[i];
		bool all = true;
		char copy[64], *save = NULL;
		snprintf(copy, sizeof(copy), "%s", ctrls);
		for (char *c = strtok_r(copy, ",", &save); c && all; c = strtok_r(NULL, ",", &save))
			all = list_has(m[i].opts, c);
		if (all)
			return &m[i];
	}
	return NULL;
}

static int plan_error(husk_err *err, const struct hostcg *cg, const char *why)
{
	return husk_error_set(err, 0, "linux.cgroupsPath \"%s\": %s", cg->path, why);
}

/* dir = mount + own-relative part + "/" + path, or mount + path for an absolute one. */
static int plan_hier(struct hostcg *cg, const struct cg_mount *m, const char *ctrls,
                     const char *own, husk_err *err)
{
	struct hostcg_hier *h = &cg->h[cg->n];
	size_t rl = strlen(m->root);
	const char *rel = own;
	if (strcmp(m->root, "/")) {
		if (strncmp(own, m->root, rl) || (own[rl] && own[rl] != '/'))
			return husk_error_set(err, 0,
			                      "cgroup %s: the caller's cgroup %s is outside its "
			                      "mount %s (root %s)",
			                      ctrls[0] ? ctrls : "v2", own, m->point, m->root);
		rel = own + rl;
	}
	char base[PATH_MAX];
	snprintf(base, sizeof(base), "%s", rel);
	/* pure v2: beside the caller's cgroup, which holds processes (runc's fs2) */
	if (cg->v2 && cg->path[0] != '/') {
		char *slash = strrchr(base, '/');
		if (slash)
			*slash = '\0';
	}
	const char *point = strcmp(m->point, "/") ? m->point : "";
	*h = (struct hostcg_hier){0};
	snprintf(h->controllers, sizeof(h->controllers), "%s", ctrls);
	int r1 = asprintf(&h->own, "%s%s", point, rel[0] == '/' && rel[1] ? rel : "");
	int r2 = cg->path[0] == '/'
	             ? asprintf(&h->dir, "%s%s", point, cg->path)
	             : asprintf(&h->dir, "%s%s/%s", point, strcmp(base, "/") ? base : "", cg->path);
	h->mount = strdup(m->point);
	if (r1 < 0 || r2 < 0 || !h->mount) {
		free(h->own);
		free(h->dir);
		free(h->mount);
		return husk_error_set(err, ENOMEM, "cgroup");
	}
	cg->n++;
	if (strlen(h->dir) >= PATH_MAX - 64)
		return plan_error(err, cg, "too long");
	if (!strcmp(h->dir, h->own))
		return plan_error(err, cg, "names the caller's own cgroup");
	return 0;
}

int hostcg_plan(struct hostcg *cg, const char *cgroups_path, const char *id, bool systemd_driver,
                bool host_systemd, const char *self_cgroup, const char *mountinfo, husk_err *err)
{
	struct cg_mount mounts[MOUNTS_MAX];
	*cg = (struct hostcg){0};
	const char *given = cgroups_path && cgroups_path[0] ? cgroups_path : id;
	if (strlen(given) > HOSTCG_MAX_PATH)
		return husk_error_set(err, 0, "linux.cgroupsPath: longer than %d bytes",
		                      HOSTCG_MAX_PATH);
	for (const char *c = given; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return husk_error_set(err, 0,
			                      "linux.cgroupsPath: holds a control character");
	snprintf(cg->path, sizeof(cg->path), "%s", given);
	const char *c1 = strchr(given, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	bool systemd_syntax = c2 && !strchr(c2 + 1, ':') && !strchr(given, '/');
	if (systemd_driver || systemd_syntax) {
		const char *what = systemd_driver ? "--systemd-cgroup"
		                                  : "the systemd driver's "
		                                    "slice:prefix:name";
		/*
		 * Docker, podman and kubeadm's containerd use it by default on systemd hosts: the
		 * sandbox stays in the caller's cgroup there, as before husk placed it.
		 */
		if (host_systemd) {
			log_warn("linux.cgroupsPath \"%s\": %s: the systemd cgroup driver is not "
			         "supported yet: the sandbox's host processes stay in the caller's "
			         "cgroup",
			         cg->path, what);
			return 0;
		}
		return husk_error_set(err, 0,
		                      "linux.cgroupsPath \"%s\": %s, but the host does not run "
		                      "systemd (no /run/systemd/system): give a cgroupfs path",
		                      cg->path, what);
	}
	hostcg_clean_path(given, cg->path, sizeof(cg->path));
	if (!strcmp(cg->path, "/"))
		return plan_error(err, cg, "names the root cgroup");
	if (!strcmp(cg->path, "."))
		return plan_error(err, cg, "names the caller's own cgroup");

	cleanup_free char *mi = strdup(mountinfo), *self = strdup(self_cgroup);
	if (!mi || !self)
		return husk_error_set(err, ENOMEM, "cgroup");
	size_t nm = parse_mounts(mi, mounts, MOUNTS_MAX);
	bool any_v1 = false, any_v2 = false;
	for (size_t i = 0; i < nm; i++) {
		any_v1 |= !mounts[i].v2;
		any_v2 |= mounts[i].v2;
	}
	cg->v2 = any_v2 && !any_v1;
	char *save = NULL;
	for (char *line = strtok_r(self, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1l = strchr(line, ':'), *c2l = c1l ? strchr(c1l + 1, ':') : NULL;
		if (!c2l || c2l[1] != '/')
			continue;
		*c2l = '\0';
		const char *ctrls = c1l + 1, *own = c2l + 1;
		bool v2 = !ctrls[0];
		if ((!v2 && !joined_v1(ctrls)) || strlen(ctrls) >= sizeof(cg->h[0].controllers))
			continue;
		const struct cg_mount *m = find_mount(mounts, nm, ctrls, v2);
		if (!m)
			continue;
		if (cg->n == HOSTCG_MAX_HIERARCHIES) {
			hostcg_free(cg);
			return husk_error_set(err, 0, "cgroup: more than %d hierarchies",
			                      HOSTCG_MAX_HIERARCHIES);
		}
		if (plan_hier(cg, m, ctrls, own, err) < 0) {
			hostcg_free(cg);
			return -1;
		}
	}
	if (!cg->n && cgroups_path && cgroups_path[0])
		return plan_error(err, cg, "no cgroup hierarchy is mounted on the host");
	return 0;
}

int hostcg_plan_self(struct hostcg *cg, const char *spec_json, size_t spec_len, const char *id,
                     bool systemd_driver, husk_err *err)
{
	cleanup_free char *self = NULL, *mi = NULL;
	size_t self_len, mi_len;
	cleanup_json json_object *root = spec_json_parse(spec_json, spec_len, err);
	if (!root)
		return -1;
	json_object *p = json_member(json_member(root, "linux"), "cgroupsPath");
	if (p && !json_object_is_type(p, json_type_string))
		return husk_error_set(err, 0, "linux.cgroupsPath: must be a string");
	if (p && strlen(json_object_get_string(p)) != (size_t)json_object_get_string_len(p))
		return husk_error_set(err, 0, "linux.cgroupsPath: holds a NUL byte");
	if (bundle_read_file("/proc/self/cgroup", SELF_CGROUP_MAX, &self, &self_len, err) < 0 ||
	    bundle_read_file("/proc/self/mountinfo", MOUNTINFO_MAX, &mi, &mi_len, err) < 0)
		return -1;
	self[self_len] = '\0';
	mi[mi_len] = '\0';
	return hostcg_plan(cg, p ? json_object_get_string(p) : NULL, id, systemd_driver,
	                   access("/run/systemd/system", F_OK) == 0, self, mi, err);
}

void hostcg_free(struct hostcg *cg)
{
	for (size_t i = 0; i < cg->n; i++) {
		free(cg->h[i].mount);
		free(cg->h[i].own);
		free(cg->h[i].dir);
	}
	cg->n = 0;
}

/* --- limits ----------------------------------------------------------------------------- */

unsigned hostcg_tasks_needed(unsigned vcpus)
{
	/* owner 1 + a hook 1, husk-vsockd 1, virtiofsd 2 + 4 threads, QEMU 4 + vCPUs, slack 8 */
	return 2 + 1 + 6 + 4 + vcpus + 8;
}

int hostcg_limits(const struct resource_limits *l, unsigned vcpus, unsigned vm_mib,
                  struct hostcg_limits *out, husk_err *err)
{
	*out = (struct hostcg_limits){
	    .pids = l->pids_limit,
	    .cpu_shares = l->cpu_shares,
	    .cpu_quota = l->cpu_quota,
	    .cpu_period = l->cpu_period,
	    .cpus = l->cpus[0] ? l->cpus : NULL,
	    .mems = l->mems[0] ? l->mems : NULL,
	};
	if (l->memory_limit > 0)
		out->memory = ((uint64_t)vm_mib + HOSTCG_MEMORY_OVERHEAD_MIB) << 20;
	/*
	 * The container's processes are the guest's, which its limit binds there; on the host the
	 * cgroup holds only the sandbox's own threads, which a smaller limit would starve.
	 */
	unsigned need = hostcg_tasks_needed(vcpus);
	if (l->pids_limit > 0 && (uint64_t)l->pids_limit < need) {
		log_debug("linux.resources.pids.limit %lld: the host cgroup gets %u, what the "
		          "sandbox's host processes need (the guest's cgroup gets %lld)",
		          (long long)l->pids_limit, need, (long long)l->pids_limit);
		out->pids = need;
	}
	return 0;
}

/* --- on the host ------------------------------------------------------------------------ */

static int write_file(const char *dir, const char *name, const char *value, husk_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t n = strlen(value);
	if (fd < 0 || write(fd, value, n) != (ssize_t)n)
		return husk_error_set(err, errno, "cgroup %s: write \"%s\"", path, value);
	return 0;
}

static int read_file(const char *dir, const char *name, char *buf, size_t len, husk_err *err)
{
	ssize_t n = read_text_at(dir, name, buf, len);
	if (n < 0)
		return husk_error_set(err, errno, "cgroup %s/%s: read", dir, name);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

static bool has(const struct hostcg_hier *h, const char *ctrl)
{
	return list_has(h->controllers, ctrl);
}

/* Reads file of the parent of h's cgroup into buf; false if there is none or it cannot. */
static bool read_parent(const struct hostcg_hier *h, const char *file, char *buf, size_t len)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", h->dir);
	char *slash = strrchr(dir, '/');
	if (!slash || (size_t)(slash - dir) < strlen(h->mount))
		return false;
	*slash = '\0';
	cleanup_error husk_err e = NULL;
	return read_file(dir, file, buf, len, &e) == 0;
}

/* A limit's number: > 0 and below 2^60 (v1 writes "unlimited" as about 2^63), else 0. */
static int64_t limit_number(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	return errno || end == s || v <= 0 || v >= (1LL << 60) ? 0 : v;
}

void hostcg_parent_limits(const struct hostcg *cg, struct resource_limits *out)
{
	char buf[64];
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < cg->n; i++) {
		const struct hostcg_hier *h = &cg->h[i];
		if (cg->v2) {
			if (read_parent(h, "memory.max", buf, sizeof(buf)))
				out->memory_limit = limit_number(buf);
			if (read_parent(h, "cpu.max", buf, sizeof(buf))) {
				char *period = strchr(buf, ' ');
				out->cpu_quota = limit_number(buf);
				out->cpu_period = period ? (uint64_t)limit_number(period + 1) : 0;
			}
			continue;
		}
		if (has(h, "memory") && read_parent(h, "memory.limit_in_bytes", buf, sizeof(buf)))
			out->memory_limit = limit_number(buf);
		if (has(h, "cpu") && read_parent(h, "cpu.cfs_quota_us", buf, sizeof(buf))) {
			out->cpu_quota = limit_number(buf);
			if (read_parent(h, "cpu.cfs_period_us", buf, sizeof(buf)))
				out->cpu_period = (uint64_t)limit_number(buf);
		}
	}
}

/* The parent directory of a path with at least one '/' after its first byte. */
static void parent_of(const char *dir, char *out, size_t len)
{
	snprintf(out, len, "%s", dir);
	char *slash = strrchr(out, '/');
	if (slash && slash != out)
		*slash = '\0';
}

/* The i-th made directory of h, counted from the deepest (0). */
static void made_dir(const struct hostcg_hier *h, size_t i, char *out, size_t len)
{
	snprintf(out, len, "%s", h->dir);
	for (size_t k = 0; k < i; k++) {
		char *slash = strrchr(out, '/');
		if (slash)
			*slash = '\0';
	}
}

/*
 * mkdir of every missing component of h->dir below its mount; h->made counts
 * them (the trailing ones). On error what it made is removed again.
 */
static int make_dirs(struct hostcg_hier *h, husk_err *err)
{
	char path[PATH_MAX];
	size_t ml = strcmp(h->mount, "/") ? strlen(h->mount) : 0;
	snprintf(path, sizeof(path), "%s", h->dir);
	for (char *p = path + ml + 1; p;) {
		char *slash = strchr(p, '/');
		struct stat st;
		if (slash)
			*slash = '\0';
		int e = mkdir(path, 0755) == 0 ? 0 : errno;
		if (e == EEXIST)
			e = stat(path, &st) < 0    ? errno
			    : !S_ISDIR(st.st_mode) ? ENOTDIR
			    : h->made              ? EEXIST /* raced */
			                           : 0;
		else if (!e)
			h->made++;
		if (e) {
			husk_error_set(err, e, "cgroup %s: mkdir", path);
			for (; h->made; h->made--) {
				*strrchr(path, '/') = '\0';
				rmdir(path);
			}
			return -1;
		}
		if (slash)
			*slash = '/';
		p = slash ? slash + 1 : NULL;
	}
	return 0;
}

/* cgroup v1 cpuset: a new directory starts with no CPUs and no nodes; it gets its parent's. */
static int cpuset_inherit(const struct hostcg_hier *h, husk_err *err)
{
	for (size_t i = h->made; i-- > 0;) {
		char dir[PATH_MAX], parent[PATH_MAX], value[4096];
		made_dir(h, i, dir, sizeof(dir));
		parent_of(dir, parent, sizeof(parent));
		static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
		for (size_t f = 0; f < ARRAY_SIZE(files); f++)
			if (read_file(parent, files[f], value, sizeof(value), err) < 0 ||
			    (value[0] && write_file(dir, files[f], value, err) < 0))
				return -1;
	}
	return 0;
}

/* Pure v2: the controllers the limits need, enabled from the root down to dir's parent. */
static int v2_enable(const struct hostcg_hier *h, const struct hostcg_limits *l, husk_err *err)
{
	const char *need[4];
	size_t n = 0;
	if (l->cpu_shares || l->cpu_quota || l->cpu_period)
		need[n++] = "cpu";
	if (l->cpus || l->mems)
		need[n++] = "cpuset";
	if (l->memory)
		need[n++] = "memory";
	if (l->pids)
		need[n++] = "pids";
	char path[PATH_MAX], avail[1024];
	size_t ml = strcmp(h->mount, "/") ? strlen(h->mount) : 0;
	snprintf(path, sizeof(path), "%s", h->dir);
	/* p: the '/' after each ancestor, the mount point first, the leaf's parent last */
	for (char *p = path + ml; n && p; p = strchr(p + 1, '/')) {
		*p = '\0';
		const char *at = path[0] ? path : "/";
		if (read_file(at, "cgroup.controllers", avail, sizeof(avail), err) < 0)
			return -1;
		for (char *c = avail; *c; c++)
			*c = *c == ' ' ? ',' : *c;
		for (size_t i = 0; i < n; i++) {
			char plus[16];
			if (!list_has(avail, need[i]))
				return husk_error_set(
				    err, 0, "cgroup %s: controller %s not available", at, need[i]);
			snprintf(plus, sizeof(plus), "+%s", need[i]);
			if (write_file(at, "cgroup.subtree_control", plus, err) < 0)
				return -1;
		}
		*p = '/';
	}
	return 0;
}

/* runc's order: the period first, unless the kernel refuses it before the new quota. */
static int write_cpu_bandwidth(const char *dir, const struct hostcg_limits *l, husk_err *err)
{
	char period[24], quota[24];
	bool period_left = false;
	snprintf(period, sizeof(period), "%llu", (unsigned long long)l->cpu_period);
	snprintf(quota, sizeof(quota), "%lld", (long long)l->cpu_quota);
	if (l->cpu_period) {
		husk_err first = NULL;
		if (write_file(dir, "cpu.cfs_period_us", period, &first) < 0) {
			if (first->code != EINVAL || !l->cpu_quota) {
				*err = first;
				return -1;
			}
			husk_error_free(&first);
			period_left = true;
		}
	}
	if (l->cpu_quota && write_file(dir, "cpu.cfs_quota_us", quota, err) < 0)
		return -1;
	return period_left ? write_file(dir, "cpu.cfs_period_us", period, err) : 0;
}

static int write_limits_v1(const struct hostcg_hier *h, const struct hostcg_limits *l,
                           husk_err *err)
{
	char v[32];
	if (has(h, "cpuset") && (cpuset_inherit(h, err) < 0 ||
	                         (l->cpus && write_file(h->dir, "cpuset.cpus", l->cpus, err) < 0) ||
	                         (l->mems && write_file(h->dir, "cpuset.mems", l->mems, err) < 0)))
		return -1;
	if (has(h, "cpu")) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->cpu_shares);
		if ((l->cpu_shares && write_file(h->dir, "cpu.shares", v, err) < 0) ||
		    write_cpu_bandwidth(h->dir, l, err) < 0)
			return -1;
	}
	if (has(h, "pids") && l->pids) {
		snprintf(v, sizeof(v), "%lld", (long long)l->pids);
		if (write_file(h->dir, "pids.max", l->pids > 0 ? v : "max", err) < 0)
			return -1;
	}
	if (has(h, "memory") && l->memory) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->memory);
		if (write_file(h->dir, "memory.limit_in_bytes", v, err) < 0)
			return -1;
	}
	return 0;
}

static int write_limits_v2(const struct hostcg_hier *h, const struct hostcg_limits *l,
                           husk_err *err)
{
	char v[64];
	if (v2_enable(h, l, err) < 0 ||
	    (l->cpus && write_file(h->dir, "cpuset.cpus", l->cpus, err) < 0) ||
	    (l->mems && write_file(h->dir, "cpuset.mems", l->mems, err) < 0))
		return -1;
	if (l->cpu_shares) {
		/* runc's conversion of shares [2, 262144] to weight [1, 10000] */
		uint64_t s = l->cpu_shares < 2        ? 2
		             : l->cpu_shares > 262144 ? 262144
		                                      : l->cpu_shares;
		snprintf(v, sizeof(v), "%llu", (unsigned long long)(1 + ((s - 2) * 9999) / 262142));
		if (write_file(h->dir, "cpu.weight", v, err) < 0)
			return -1;
	}
	if (l->cpu_quota || l->cpu_period) {
		char quota[24] = "max";
		if (l->cpu_quota > 0)
			snprintf(quota, sizeof(quota), "%lld", (long long)l->cpu_quota);
		snprintf(v, sizeof(v), "%s %llu", quota,
		         (unsigned long long)(l->cpu_period ? l->cpu_period : 100000));
		if (write_file(h->dir, "cpu.max", v, err) < 0)
			return -1;
	}
	if (l->pids) {
		snprintf(v, sizeof(v), "%lld", (long long)l->pids);
		if (write_file(h->dir, "pids.max", l->pids > 0 ? v : "max", err) < 0)
			return -1;
	}
	if (l->memory) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->memory);
		if (write_file(h->dir, "memory.max", v, err) < 0)
			return -1;
	}
	return 0;
}

/* A limit no hierarchy can hold is an error, not silently dropped. */
static int check_controllers(const struct hostcg *cg, const struct hostcg_limits *l, husk_err *err)
{
	const struct {
		bool wanted;
		const char *ctrl, *field;
	} need[] = {{l->cpu_shares || l->cpu_quota || l->cpu_period, "cpu", "cpu"},
	            {l->cpus || l->mems, "cpuset", "cpu.cpus/mems"},
	            {l->pids != 0, "pids", "pids"},
	            {l->memory != 0, "memory", "memory.limit"}};
	if (cg->v2)
		return 0; /* v2_enable names what is missing */
	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		bool found = false;
		for (size_t k = 0; k < cg->n; k++)
			found |= has(&cg->h[k], need[i].ctrl);
		if (need[i].wanted && !found)
			return husk_error_set(
			    err, 0,
			    "linux.resources.%s: no %s cgroup hierarchy is mounted "
			    "on the host",
			    need[i].field, need[i].ctrl);
	}
	return 0;
}

/* The CPU quota alone: as the limits give it, or lifted (-1). */
static int write_quota(const struct hostcg *cg, const struct hostcg_limits *l, bool lifted,
                       husk_err *err)
{
	char v[48];
	for (size_t i = 0; i < cg->n; i++) {
		const struct hostcg_hier *h = &cg->h[i];
		if (cg->v2 && lifted)
			snprintf(v, sizeof(v), "max %llu",
			         (unsigned long long)(l->cpu_period ? l->cpu_period : 100000));
		else if (cg->v2)
			snprintf(v, sizeof(v), "%lld %llu", (long long)l->cpu_quota,
			         (unsigned long long)(l->cpu_period ? l->cpu_period : 100000));
		else
			snprintf(v, sizeof(v), "%lld", lifted ? -1LL : (long long)l->cpu_quota);
		if ((cg->v2 || has(h, "cpu")) &&
		    write_file(h->dir, cg->v2 ? "cpu.max" : "cpu.cfs_quota_us", v, err) < 0)
			return -1;
	}
	return 0;
}

int hostcg_restore_cpu_quota(struct hostcg *cg, const struct hostcg_limits *l, husk_err *err)
{
	if (!cg->quota_lifted)
		return 0;
	if (write_quota(cg, l, false, err) < 0)
		return -1;
	cg->quota_lifted = false;
	return 0;
}

static int join(const char *dir, husk_err *err)
{
	char pid[24];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return write_file(dir, "cgroup.procs", pid, err);
}

/* Waits (until deadline) for the processes in dir's cgroup.procs: 1 waited, 0 none, -1 late. */
static int wait_procs(const char *dir, int64_t deadline)
{
	char path[PATH_MAX];
	cleanup_free char *buf = NULL;
	size_t len;
	struct pollfd fds[WAIT_PIDS_MAX];
	nfds_t n = 0;
	husk_err ignored = NULL;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (bundle_read_file(path, PROCS_MAX, &buf, &len, &ignored) < 0) {
		husk_error_free(&ignored);
		return 0;
	}
	buf[len] = '\0';
	for (char *p = buf, *end; *p && n < WAIT_PIDS_MAX; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		int fd = pid > 0 ? (int)syscall(SYS_pidfd_open, (pid_t)pid, 0) : -1;
		if (fd >= 0)
			fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	int ret = n ? 1 : 0;
	for (nfds_t left = n; left && ret == 1;) {
		int r = poll(fds, n, deadline_left(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ret = -1;
			break;
		}
		for (nfds_t i = 0; i < n; i++)
			if (fds[i].fd >= 0 && fds[i].revents) {
				close(fds[i].fd);
				fds[i].fd = -1; /* poll ignores it from now on */
				left--;
			}
	}
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	return ret;
}

/* rmdir once the cgroup's processes have exited (each one's pidfd), until deadline. */
static void rmdir_when_empty(const char *dir, int64_t deadline)
{
	for (int idle = 0;;) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return;
		if (errno != EBUSY) {
			log_warn("cgroup %s: rmdir: %s", dir, strerror(errno));
			return;
		}
		int r = wait_procs(dir, deadline);
		if (r < 0) {
			log_warn(
			    "cgroup %s: its processes did not exit within %d ms; left in place",
			    dir, HOSTCG_EXIT_WAIT_MS);
			return;
		}
		if (r == 0 && ++idle > 1) {
			log_warn("cgroup %s: busy with no process in it (a cgroup below it?); left "
			         "in place",
			         dir);
			return;
		}
	}
}

/* Removes what make_dirs made, deepest first. */
static void remove_made(struct hostcg_hier *h, int64_t deadline)
{
	char dir[PATH_MAX];
	for (size_t i = 0; i < h->made; i++) {
		made_dir(h, i, dir, sizeof(dir));
		rmdir_when_empty(dir, deadline);
	}
	h->made = 0;
}

/* Back to the caller's own cgroup in every hierarchy joined; false if one refused. */
static bool move_back(struct hostcg *cg, size_t joined, bool *ok)
{
	bool all = true;
	for (size_t i = 0; i < joined; i++) {
		cleanup_error husk_err err = NULL;
		ok[i] = join(cg->h[i].own[0] ? cg->h[i].own : cg->h[i].mount, &err) == 0;
		if (!ok[i]) {
			log_warn("%s", husk_error_msg(err));
			all = false;
		}
	}
	return all;
}

int hostcg_enter(struct hostcg *cg, const struct hostcg_limits *l, husk_err *err)
{
	size_t i = 0, joined = 0;
	bool ok[HOSTCG_MAX_HIERARCHIES];
	if (check_controllers(cg, l, err) < 0)
		return -1;
	for (; i < cg->n; i++) {
		struct hostcg_hier *h = &cg->h[i];
		bool limits = cg->v2 || h->controllers[0];
		if (make_dirs(h, err) < 0 || (limits && (cg->v2 ? write_limits_v2(h, l, err)
		                                                : write_limits_v1(h, l, err)) < 0))
			goto fail;
	}
	/* written above, so the host has accepted it; lifted until the container is created */
	if (l->cpu_quota > 0) {
		if (write_quota(cg, l, true, err) < 0)
			goto fail;
		cg->quota_lifted = true;
	}
	for (; joined < cg->n; joined++)
		if (join(cg->h[joined].dir, err) < 0)
			goto fail;
	cg->joined = true;
	return 0;
fail:
	i = i < cg->n ? i + 1 : cg->n;
	for (size_t k = 0; k < cg->n; k++)
		ok[k] = true;
	move_back(cg, joined, ok);
	int64_t deadline = deadline_after(HOSTCG_EXIT_WAIT_MS);
	for (size_t k = 0; k < i; k++)
		if (ok[k])
			remove_made(&cg->h[k], deadline);
	return -1;
}

int hostcg_record(const struct hostcg *cg, int dirfd, husk_err *err)
{
	cleanup_close int fd = openat(dirfd, HOSTCG_RECORD,
	                              O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return husk_error_set(err, errno, "%s", HOSTCG_RECORD);
	for (size_t i = 0; i < cg->n; i++)
		for (size_t k = 0; k < cg->h[i].made; k++) {
			char dir[PATH_MAX];
			made_dir(&cg->h[i], k, dir, sizeof(dir));
			if (dprintf(fd, "%s\n", dir) < 0)
				return husk_error_set(err, errno, "%s", HOSTCG_RECORD);
		}
	return 0;
}

void hostcg_leave(struct hostcg *cg)
{
	bool ok[HOSTCG_MAX_HIERARCHIES];
	for (size_t k = 0; k < cg->n; k++)
		ok[k] = true;
	if (cg->joined)
		move_back(cg, cg->n, ok);
	cg->joined = false;
	int64_t deadline = deadline_after(HOSTCG_EXIT_WAIT_MS);
	for (size_t k = 0; k < cg->n; k++)
		if (ok[k])
			remove_made(&cg->h[k], deadline);
}

/* A recorded line: an absolute, clean path of a directory on a cgroup file system. */
static bool is_cgroup_dir(const char *path)
{
	struct statfs fs;
	char clean[PATH_MAX];
	if (path[0] != '/' || strlen(path) >= PATH_MAX)
		return false;
	hostcg_clean_path(path, clean, sizeof(clean));
	if (strcmp(clean, path) || statfs(path, &fs) < 0)
		return false;
	return fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC;
}

void hostcg_remove_recorded(const char *dir)
{
	char path[PATH_MAX];
	cleanup_free char *buf = NULL;
	cleanup_error husk_err err = NULL;
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", dir, HOSTCG_RECORD);
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return;
	if (bundle_read_file(path, RECORD_MAX, &buf, &len, &err) < 0) {
		log_warn("%s", husk_error_msg(err));
		return;
	}
	buf[len] = '\0';
	int64_t deadline = deadline_after(HOSTCG_EXIT_WAIT_MS);
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!is_cgroup_dir(line)) {
			struct stat st;
			if (stat(line, &st) == 0 || errno != ENOENT)
				log_warn("%s: %.64s: not a cgroup directory; left alone", path,
				         line);
			continue;
		}
		rmdir_when_empty(line, deadline);
	}
}
