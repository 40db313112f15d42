#include "tests/unit/harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/cgroup.h"
#include "lib/fs.h"
#include "lib/cleanup.h"

/*
 * A temporary directory standing in for a container's cgroup: plain files.
 * The agent writes without truncating (a cgroup file takes each write whole),
 * so the files it writes start empty here.
 */
struct cgdir {
	char path[64];
};

static int cgdir_make(struct cgdir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/husk-test-cgroup-XXXXXX");
	return mkdtemp(d->path) ? 0 : -1;
}

static void cgdir_remove(struct cgdir *d)
{
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", d->path);
}

static int put(const char *dir, const char *file, const char *text)
{
	char path[192];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	cleanup_fclose FILE *f = fopen(path, "we");
	return f && fputs(text, f) >= 0 ? 0 : -1;
}

static const char *get(const char *dir, const char *file)
{
	static char buf[256];
	char path[192];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int parse(const char *json, struct spec_resources *r)
{
	return spec_parse_resources(json, strlen(json), r, NULL);
}

TEST(create_makes_the_container_directory_under_its_parent)
{
	struct cgdir d;
	struct spec_resources none = {0};
	char dir[128], want[128];
	struct stat st;
	CHECK(cgdir_make(&d) == 0);
	CHECK_INT(cgroup_create(d.path, "c1", &none, dir, sizeof(dir), NULL), ==, 0);
	snprintf(want, sizeof(want), "%s/c1", d.path);
	CHECK_STR(dir, want);
	CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
	/* one left behind by a container of that id is made anew */
	CHECK_INT(cgroup_create(d.path, "c1", &none, dir, sizeof(dir), NULL), ==, 0);
	cgroup_remove(NULL, dir);
	CHECK(stat(dir, &st) < 0 && errno == ENOENT);
	cgdir_remove(&d);
}

TEST(create_fails_on_a_file_the_kernel_lacks_and_removes_the_directory)
{
	cleanup_error husk_err err = NULL;
	struct cgdir d;
	struct spec_resources r;
	char dir[128], path[128];
	struct stat st;
	CHECK(cgdir_make(&d) == 0);
	CHECK(parse("{\"pids\":{\"limit\":10}}", &r) == 0);
	CHECK_INT(cgroup_create(d.path, "c1", &r, dir, sizeof(dir), &err), ==, -1);
	CHECK_STR(husk_error_msg(err),
	          "linux.resources.pids.limit: not supported by the guest kernel (no pids.max)");
	CHECK_STR(dir, "");
	snprintf(path, sizeof(path), "%s/c1", d.path);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);
	cgdir_remove(&d);
}

TEST(write_resources_writes_each_file)
{
	struct cgdir d;
	struct spec_resources r;
	CHECK(cgdir_make(&d) == 0);
	CHECK(put(d.path, "memory.max", "") == 0 && put(d.path, "pids.max", "") == 0);
	CHECK(parse("{\"memory\":{\"limit\":1048576},\"pids\":{\"limit\":10}}", &r) == 0);
	CHECK_INT(cgroup_write_resources(d.path, &r, NULL), ==, 0);
	CHECK_STR(get(d.path, "memory.max"), "1048576");
	CHECK_STR(get(d.path, "pids.max"), "10");
	cgdir_remove(&d);
}

TEST(freeze_writes_cgroup_freeze_and_events_say_whether_frozen)
{
	struct cgdir d;
	CHECK(cgdir_make(&d) == 0);
	CHECK_INT(cgroup_set_freeze(d.path, 1), ==, -1); /* no cgroup.freeze */
	CHECK(put(d.path, "cgroup.freeze", "") == 0);
	CHECK_INT(cgroup_set_freeze(d.path, 1), ==, 0);
	CHECK_STR(get(d.path, "cgroup.freeze"), "1");
	CHECK_INT(cgroup_freeze_requested(d.path), ==, 1);
	CHECK_INT(cgroup_set_freeze(d.path, 0), ==, 0);
	CHECK_STR(get(d.path, "cgroup.freeze"), "0");
	CHECK_INT(cgroup_freeze_requested(d.path), ==, 0);
	CHECK_INT(cgroup_frozen(d.path), ==, 0); /* no cgroup.events */
	CHECK(put(d.path, "cgroup.events", "populated 1\nfrozen 1\n") == 0);
	CHECK_INT(cgroup_frozen(d.path), ==, 1);
	CHECK(put(d.path, "cgroup.events", "populated 1\nfrozen 0\n") == 0);
	CHECK_INT(cgroup_frozen(d.path), ==, 0);
	cgdir_remove(&d);
}

TEST(oom_kills_come_from_memory_events)
{
	struct cgdir d;
	CHECK(cgdir_make(&d) == 0);
	CHECK_INT(cgroup_oom_kills(d.path), ==, 0);
	CHECK(put(d.path, "memory.events",
	          "low 0\nhigh 0\nmax 7\noom 3\noom_kill 2\noom_group_kill 0\n") == 0);
	CHECK_INT(cgroup_oom_kills(d.path), ==, 2);
	cgdir_remove(&d);
}

TEST(stats_read_every_file_and_missing_ones_as_zero)
{
	struct cgdir d;
	Husk__Agent__V1__StatsContainerResponse r = HUSK__AGENT__V1__STATS_CONTAINER_RESPONSE__INIT;
	CHECK(cgdir_make(&d) == 0);
	CHECK(put(d.path, "cpu.stat", "usage_usec 300\nuser_usec 200\nsystem_usec 100\n") == 0);
	CHECK(put(d.path, "memory.current", "4096\n") == 0);
	CHECK(put(d.path, "memory.max", "max\n") == 0);
	CHECK(put(d.path, "memory.events", "oom 1\noom_kill 1\n") == 0);
	CHECK(put(d.path, "pids.current", "3\n") == 0);
	CHECK(put(d.path, "io.stat",
	          "8:0 rbytes=100 wbytes=20 rios=1 wios=1\n"
	          "8:16 rbytes=5 wbytes=2 rios=1 wios=1\n") == 0);
	cgroup_stats(d.path, &r);
	CHECK_INT(r.cpu_usage_usec, ==, 300);
	CHECK_INT(r.cpu_user_usec, ==, 200);
	CHECK_INT(r.cpu_system_usec, ==, 100);
	CHECK_INT(r.memory_current, ==, 4096);
	CHECK_INT(r.memory_max, ==, 0); /* "max": no number */
	CHECK_INT(r.memory_oom_kill, ==, 1);
	CHECK_INT(r.pids_current, ==, 3);
	CHECK_INT(r.pids_max, ==, 0); /* no pids.max */
	CHECK_INT(r.io_rbytes, ==, 105);
	CHECK_INT(r.io_wbytes, ==, 22);
	cgdir_remove(&d);
}

/* Where the host mounts cgroup2 (its own or a hybrid's unified hierarchy), if under 64 bytes. */
static bool cgroup2_mount(char mnt[64])
{
	char dev[64], path[4096], type[32];
	cleanup_fclose FILE *f = fopen("/proc/self/mounts", "re");
	while (f && fscanf(f, "%63s %4095s %31s %*[^\n]", dev, path, type) == 3)
		if (!strcmp(type, "cgroup2") && strlen(path) < 64) {
			memcpy(mnt, path, strlen(path) + 1);
			return true;
		}
	return false;
}

TEST(a_cgroup_removed_while_populated_is_killed_and_goes_at_the_next_reap)
{
	char mnt[64], dir[CGROUP_DIR_MAX], procs[CGROUP_DIR_MAX + 16], pid_text[16];
	struct cgroup_doomed doomed = {0};
	struct stat st;
	int status;
	if (!cgroup2_mount(mnt)) {
		fprintf(stderr, "no cgroup2 mount: skipped\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/husk-unit-doomed-%d", mnt, (int)getpid());
	CHECK(mkdir(dir, 0755) == 0);
	pid_t child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	snprintf(pid_text, sizeof(pid_text), "%d", (int)child);
	CHECK(write_knob(procs, pid_text) == 0);
	cgroup_remove(&doomed, dir);
	CHECK_INT(doomed.n, ==, 1);
	CHECK(!strcmp(doomed.dir[0], dir));
	/* cgroup.kill took the child */
	CHECK(waitpid(child, &status, 0) == child);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	cgroup_reap(&doomed);
	CHECK_INT(doomed.n, ==, 0);
	CHECK(stat(dir, &st) < 0 && errno == ENOENT);
}

TEST(a_doomed_cgroup_spared_for_a_new_container_of_its_id_stays)
{
	struct cgdir d;
	struct cgroup_doomed doomed = {.n = 2};
	struct stat st;
	CHECK(cgdir_make(&d) == 0);
	snprintf(doomed.dir[0], CGROUP_DIR_MAX, "%s/a", d.path);
	snprintf(doomed.dir[1], CGROUP_DIR_MAX, "%s/b", d.path);
	CHECK(mkdir(doomed.dir[0], 0755) == 0 && mkdir(doomed.dir[1], 0755) == 0);
	char b[CGROUP_DIR_MAX];
	snprintf(b, sizeof(b), "%s", doomed.dir[1]);
	cgroup_spare(&doomed, b);
	CHECK_INT(doomed.n, ==, 1);
	cgroup_reap(&doomed);
	CHECK_INT(doomed.n, ==, 0);
	CHECK(stat(b, &st) == 0);
	cgdir_remove(&d);
}
