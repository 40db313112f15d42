/* shim/lib/hostcg.c: where linux.cgroupsPath lands on each hierarchy, runc's way. */
#include <string.h>

#include "lib/cleanup.h"
#include "shim/lib/hostcg.h"
#include "tests/unit/harness/test.h"

static const char *clean(const char *path)
{
	static char out[256];
	hostcg_clean_path(path, out, sizeof(out));
	return out;
}

TEST(clean_path_is_runcs)
{
	CHECK_STR(clean(""), "");
	CHECK_STR(clean("/a//b/./c/"), "/a/b/c");
	CHECK_STR(clean("/a/../../b"), "/b");
	CHECK_STR(clean("/.."), "/");
	CHECK_STR(clean("a/b/../c"), "a/c");
	/* a relative path cannot climb out of the caller's cgroup */
	CHECK_STR(clean("../../x"), "x");
	CHECK_STR(clean("a/../.."), ".");
	CHECK_STR(clean("./testdir/cgrouptest/container"), "testdir/cgrouptest/container");
}

/* a hybrid host, as this project's CI: v1 controllers, cpu and cpuacct apart, and cgroup2 */
static const char hybrid_mounts[] =
    "25 24 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
    "27 25 0:24 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n"
    "28 25 0:25 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "29 25 0:26 / /sys/fs/cgroup/pids rw shared:9 - cgroup cgroup rw,pids\n"
    "30 25 0:27 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
    "31 25 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
    "32 25 0:29 / /sys/fs/cgroup/my\\040net rw - cgroup cgroup rw,net_cls,net_prio\n"
    "33 25 0:30 / /tmp/other rw - cgroup cgroup rw,name=other\n";
static const char hybrid_self[] = "11:name=other:/\n"
                                  "10:net_cls,net_prio:/\n"
                                  "9:name=systemd:/user.slice\n"
                                  "8:pids:/\n"
                                  "7:blkio:/\n" /* not mounted: skipped */
                                  "4:memory:/process_api/abc\n"
                                  "2:cpuacct:/\n"
                                  "1:cpu:/\n"
                                  "0::/\n";

/* "controllers=dir own" for each hierarchy planned, or the error */
static const char *plan(const char *path, const char *self, const char *mounts, bool systemd_driver,
                        bool host_systemd)
{
	static char out[2048];
	struct hostcg cg;
	cleanup_error husk_err err = NULL;
	if (hostcg_plan(&cg, path, "ctr1", systemd_driver, host_systemd, self, mounts, &err) < 0) {
		snprintf(out, sizeof(out), "error: %s", husk_error_msg(err));
		return out;
	}
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < cg.n && o < sizeof(out); i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s=%s %s", i ? "; " : "",
		                      cg.h[i].controllers, cg.h[i].dir, cg.h[i].own);
	if (cg.v2 && o < sizeof(out))
		snprintf(out + o, sizeof(out) - o, " (v2)");
	hostcg_free(&cg);
	return out;
}

TEST(absolute_path_is_under_each_hierarchy_root)
{
	const char *p = plan("/cgrouptest", hybrid_self, hybrid_mounts, false, false);
	CHECK(!strncmp(
	    p, "net_cls,net_prio=/sys/fs/cgroup/my net/cgrouptest /sys/fs/cgroup/my net; ", 72));
	CHECK(strstr(p, "; name=systemd=/sys/fs/cgroup/systemd/cgrouptest "
	                "/sys/fs/cgroup/systemd/user.slice; "));
	CHECK(strstr(p, "; pids=/sys/fs/cgroup/pids/cgrouptest /sys/fs/cgroup/pids; "));
	CHECK(strstr(p, "; memory=/sys/fs/cgroup/memory/cgrouptest "
	                "/sys/fs/cgroup/memory/process_api/abc; "));
	CHECK(strstr(p, "; cpuacct=/sys/fs/cgroup/cpuacct/cgrouptest /sys/fs/cgroup/cpuacct; "));
	CHECK(strstr(p, "; cpu=/sys/fs/cgroup/cpu/cgrouptest /sys/fs/cgroup/cpu; "));
	/* the hybrid host's cgroup2 is joined too (as runc); name=other and blkio are not */
	const char *last = "; =/sys/fs/cgroup/unified/cgrouptest /sys/fs/cgroup/unified";
	CHECK_STR(p + strlen(p) - strlen(last), last);
	CHECK(!strstr(p, "other") && !strstr(p, "blkio"));
}

TEST(relative_path_is_under_the_callers_cgroup)
{
	const char *p = plan("testdir/../x/./c", hybrid_self, hybrid_mounts, false, false);
	CHECK(strstr(p, "memory=/sys/fs/cgroup/memory/process_api/abc/x/c "));
	CHECK(strstr(p, "name=systemd=/sys/fs/cgroup/systemd/user.slice/x/c "));
	CHECK(strstr(p, "pids=/sys/fs/cgroup/pids/x/c "));
	CHECK(strstr(p, "=/sys/fs/cgroup/unified/x/c /sys/fs/cgroup/unified"));
	CHECK(!strstr(p, "(v2)"));
	/* no cgroupsPath: runc's default, the container id relative to the caller's cgroup */
	CHECK(strstr(plan(NULL, hybrid_self, hybrid_mounts, false, false),
	             "memory=/sys/fs/cgroup/memory/process_api/abc/ctr1 "));
	CHECK(strstr(plan("", hybrid_self, hybrid_mounts, false, false),
	             "pids=/sys/fs/cgroup/pids/ctr1 "));
}

static const char v2_mounts[] = "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";

TEST(pure_v2_relative_path_is_beside_the_callers_cgroup)
{
	CHECK_STR(plan("a/b", "0::/system.slice/x.service\n", v2_mounts, false, false),
	          "=/sys/fs/cgroup/system.slice/a/b /sys/fs/cgroup/system.slice/x.service (v2)");
	CHECK_STR(plan("/a", "0::/system.slice/x.service\n", v2_mounts, false, false),
	          "=/sys/fs/cgroup/a /sys/fs/cgroup/system.slice/x.service (v2)");
	CHECK_STR(plan("a", "0::/\n", v2_mounts, false, false),
	          "=/sys/fs/cgroup/a /sys/fs/cgroup (v2)");
}

TEST(a_mount_of_a_subtree_maps_the_callers_cgroup)
{
	static const char mounts[] = "1 0 0:1 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
	CHECK_STR(plan("c", "0::/kubepods/pod1\n", mounts, false, false),
	          "=/sys/fs/cgroup/c /sys/fs/cgroup/pod1 (v2)");
	CHECK_STR(plan("c", "0::/elsewhere\n", mounts, false, false),
	          "error: cgroup v2: the caller's cgroup /elsewhere is outside its mount "
	          "/sys/fs/cgroup (root /kubepods)");
}

TEST(refusals_name_the_path_and_the_reason)
{
	CHECK_STR(plan("system.slice:docker:abc", hybrid_self, hybrid_mounts, false, false),
	          "error: linux.cgroupsPath \"system.slice:docker:abc\": the systemd driver's "
	          "slice:prefix:name, but the host does not run systemd (no /run/systemd/system): "
	          "give a cgroupfs path");
	/* on a systemd host (Docker's, podman's default there) a warning: nothing is placed */
	CHECK_STR(plan("system.slice:docker:abc", hybrid_self, hybrid_mounts, false, true), "");
	CHECK_STR(plan("/a", hybrid_self, hybrid_mounts, true, false),
	          "error: linux.cgroupsPath \"/a\": --systemd-cgroup, but the host does not run "
	          "systemd (no /run/systemd/system): give a cgroupfs path");
	/* colons alone are a cgroupfs name */
	CHECK(strstr(plan("/a:b:c", hybrid_self, hybrid_mounts, false, false),
	             "pids=/sys/fs/cgroup/pids/a:b:c "));
	CHECK_STR(plan("/../", hybrid_self, hybrid_mounts, false, false),
	          "error: linux.cgroupsPath \"/\": names the root cgroup");
	CHECK_STR(plan("x/..", hybrid_self, hybrid_mounts, false, false),
	          "error: linux.cgroupsPath \".\": names the caller's own cgroup");
	CHECK_STR(
	    plan("/process_api/abc", "4:memory:/process_api/abc\n", hybrid_mounts, false, false),
	    "error: linux.cgroupsPath \"/process_api/abc\": names the caller's own cgroup");
	CHECK_STR(plan("/a\nb", hybrid_self, hybrid_mounts, false, false),
	          "error: linux.cgroupsPath: holds a control character");
	CHECK_STR(plan("/a", "0::/\n", "", false, false),
	          "error: linux.cgroupsPath \"/a\": no cgroup hierarchy is mounted on the host");
	CHECK_STR(plan(NULL, "0::/\n", "", false, false), "");
	char longer[HOSTCG_MAX_PATH + 2];
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	CHECK_STR(plan(longer, hybrid_self, hybrid_mounts, false, false),
	          "error: linux.cgroupsPath: longer than 1024 bytes");
}

TEST(pids_below_the_sandboxs_own_tasks_give_the_host_cgroup_what_they_need)
{
	struct resource_limits l = {.pids_limit = 5, .memory_limit = 64 << 20};
	struct hostcg_limits out;
	CHECK_INT(hostcg_limits(&l, 2, 192, &out, NULL), ==, 0);
	CHECK_INT(out.pids, ==, 23);
	l.pids_limit = 1000;
	CHECK_INT(hostcg_limits(&l, 2, 192, &out, NULL), ==, 0);
	CHECK_INT(out.pids, ==, 1000);
	/* memory: the VM's RAM plus the host's overhead, so the guest's OOM killer acts first */
	CHECK_INT(out.memory, ==, (uint64_t)(192 + HOSTCG_MEMORY_OVERHEAD_MIB) << 20);
	l = (struct resource_limits){.pids_limit = -1};
	CHECK_INT(hostcg_limits(&l, 1, 256, &out, NULL), ==, 0);
	CHECK_INT(out.memory, ==, 0);
	CHECK_INT(out.pids, ==, -1);
}

/* Writes text into root/rel (made with its directories). */
static void put(const char *root, const char *rel, const char *text)
{
	char path[512], cmd[600];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd) != 0)
		return;
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* hostcg_parent_limits of cgroupsPath path planned on self and mounts (zeros if unplanned). */
static struct resource_limits parent_of(const char *path, const char *self, const char *mounts)
{
	cleanup_error husk_err err = NULL;
	struct hostcg cg;
	struct resource_limits l = {0};
	if (hostcg_plan(&cg, path, "sbx", false, false, self, mounts, &err) == 0) {
		hostcg_parent_limits(&cg, &l);
		hostcg_free(&cg);
	}
	return l;
}

/* The parent's limits on a hybrid (v1) and a pure v2 tree of plain files. */
TEST(the_pod_cgroups_limits_are_read_from_the_parent)
{
	char root[] = "/tmp/husk-test-hostcg-XXXXXX", mounts[1024], cmd[64];
	static const char v1_self[] = "4:memory:/\n1:cpu:/\n";
	CHECK(mkdtemp(root));
	snprintf(mounts, sizeof(mounts),
	         "26 25 0:23 / %s/cpu rw - cgroup cgroup rw,cpu\n"
	         "28 25 0:25 / %s/memory rw - cgroup cgroup rw,memory\n",
	         root, root);
	put(root, "memory/pod1/memory.limit_in_bytes", "964689920\n");
	put(root, "cpu/pod1/cpu.cfs_quota_us", "150000\n");
	put(root, "cpu/pod1/cpu.cfs_period_us", "100000\n");
	struct resource_limits l = parent_of("/pod1/sbx", v1_self, mounts);
	CHECK_INT(l.memory_limit, ==, 964689920);
	CHECK_INT(l.cpu_quota, ==, 150000);
	CHECK_INT(l.cpu_period, ==, 100000);
	/* v1's "unlimited" and -1 are no limit; so is a parent above the hierarchy */
	put(root, "memory/pod1/memory.limit_in_bytes", "9223372036854771712\n");
	put(root, "cpu/pod1/cpu.cfs_quota_us", "-1\n");
	l = parent_of("/pod1/sbx", v1_self, mounts);
	CHECK_INT(l.memory_limit, ==, 0);
	CHECK_INT(l.cpu_quota, ==, 0);
	CHECK_INT(parent_of("/sbx", v1_self, mounts).memory_limit, ==, 0);
	/* cgroup v2: memory.max and cpu.max */
	snprintf(mounts, sizeof(mounts), "31 25 0:28 / %s/unified rw - cgroup2 cgroup2 rw\n", root);
	put(root, "unified/kubepods/pod2/memory.max", "734003200\n");
	put(root, "unified/kubepods/pod2/cpu.max", "250000 100000\n");
	l = parent_of("/kubepods/pod2/sbx", "0::/\n", mounts);
	CHECK_INT(l.memory_limit, ==, 734003200);
	CHECK_INT(l.cpu_quota, ==, 250000);
	CHECK_INT(l.cpu_period, ==, 100000);
	put(root, "unified/kubepods/pod2/memory.max", "max\n");
	put(root, "unified/kubepods/pod2/cpu.max", "max 100000\n");
	l = parent_of("/kubepods/pod2/sbx", "0::/\n", mounts);
	CHECK_INT(l.memory_limit, ==, 0);
	CHECK_INT(l.cpu_quota, ==, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK_INT(system(cmd), ==, 0);
}
