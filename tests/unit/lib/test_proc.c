#include "tests/unit/harness/test.h"

#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/proc.h"

/* Reads everything from fd until EOF (bounded), NUL-terminated. */
static size_t read_all(int fd, char *buf, size_t len)
{
	size_t have = 0;
	ssize_t n;
	while (have < len - 1 && (n = read(fd, buf + have, len - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	return have;
}

TEST(exec_failure_is_a_clean_error)
{
	cleanup_error husk_err err = NULL;
	struct proc p;
	const char *argv[] = {"/nonexistent/qemu-system-x86_64", NULL};
	struct proc_spec spec = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
	CHECK_INT(proc_spawn(&spec, &p, &err), ==, -1);
	CHECK_STR(husk_error_msg(err),
	          "exec /nonexistent/qemu-system-x86_64: No such file or directory");
	CHECK(p.reaped);
	CHECK_INT(p.pidfd, ==, -1);
	CHECK_INT(waitpid(-1, NULL, WNOHANG), ==, -1); /* no zombie left behind */
}

TEST(path_search_failure_names_the_program)
{
	cleanup_error husk_err err = NULL;
	struct proc p;
	const char *argv[] = {"husk-test-no-such-program", NULL};
	struct proc_spec spec = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
	CHECK_INT(proc_spawn(&spec, &p, &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "exec husk-test-no-such-program: No such file or directory");
}

TEST(bad_fd_mapping_is_rejected)
{
	cleanup_error husk_err err = NULL;
	struct proc p;
	const char *argv[] = {"true", NULL};
	struct proc_fd_map fds[] = {{0, 1}};
	struct proc_spec spec = {
	    .argv = argv, .fds = fds, .nfds = 1, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
	CHECK_INT(proc_spawn(&spec, &p, &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "bad fd mapping 0 -> 1"));
}

/* The child sees exactly 0, 1, 2 and the mapped fds, even ones colliding with sources. */
TEST(only_passed_fds_reach_the_child)
{
	cleanup_error husk_err err = NULL;
	int out[2], extra[2];
	CHECK(pipe2(out, O_CLOEXEC) == 0);
	CHECK(pipe(extra) == 0); /* no CLOEXEC: leaking these would be our bug */
	cleanup_close int leak = open("/dev/null", O_RDONLY);
	/* map extra[1] -> 7 and extra[0] -> extra[1]'s number: needs the move-up step */
	int second = extra[1] >= 3 && extra[1] < 7 ? extra[1] : 9;
	struct proc_fd_map fds[] = {{extra[1], 7}, {extra[0], second}};
	const char *argv[] = {"sh", "-c", "echo hi >&7; cd /proc/$$/fd && echo *", NULL};
	struct proc_spec spec = {.argv = argv,
	                         .fds = fds,
	                         .nfds = 2,
	                         .stdin_fd = -1,
	                         .stdout_fd = out[1],
	                         .stderr_fd = -1};
	struct proc p;
	CHECK_INT(proc_spawn(&spec, &p, &err), ==, 0);
	close(out[1]);
	close(extra[1]);
	char buf[256], want[64];
	read_all(out[0], buf, sizeof(buf));
	close(out[0]);
	CHECK_INT(proc_wait_status(&p, 5000, &err), ==, 1);
	proc_release(&p);
	CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
	/* the glob itself holds the directory open on the lowest free fd */
	int dirfd = second == 3 ? 4 : 3;
	int lo = dirfd < second ? dirfd : second, hi = dirfd < second ? second : dirfd;
	if (hi < 7)
		snprintf(want, sizeof(want), "0 1 2 %d %d 7\n", lo, hi);
	else
		snprintf(want, sizeof(want), "0 1 2 %d 7 %d\n", lo, hi);
	CHECK_STR(buf, want);
	char got[8];
	CHECK_INT(read_all(extra[0], got, sizeof(got)), ==, 3);
	close(extra[0]);
	CHECK_STR(got, "hi\n");
	CHECK(leak >= 0);
}

TEST(kill_and_reap_with_blocked_sigterm_in_parent)
{
	cleanup_error husk_err err = NULL;
	sigset_t term, old;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old); /* the child must not inherit this */
	const char *argv[] = {"sleep", "1000", NULL};
	struct proc_spec spec = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
	struct proc p;
	int r = proc_spawn(&spec, &p, &err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	CHECK_INT(r, ==, 0);
	CHECK(p.pidfd >= 0);
	CHECK_INT(proc_try_reap(&p, &err), ==, 0);
	CHECK_INT(proc_wait_status(&p, 50, &err), ==, 0);
	proc_kill_and_reap(&p, SIGTERM, 5000);
	CHECK(p.reaped);
	CHECK(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGTERM);
	char how[64];
	CHECK_STR(proc_status_str(p.status, how, sizeof(how)), "killed by signal 15 (Terminated)");
}

TEST(kill_escalates_to_sigkill)
{
	cleanup_error husk_err err = NULL;
	int out[2];
	CHECK(pipe2(out, O_CLOEXEC) == 0);
	const char *argv[] = {"sh", "-c", "trap '' TERM; echo ready; exec sleep 1000", NULL};
	struct proc_spec spec = {
	    .argv = argv, .stdin_fd = -1, .stdout_fd = out[1], .stderr_fd = -1};
	struct proc p;
	CHECK_INT(proc_spawn(&spec, &p, &err), ==, 0);
	close(out[1]);
	char buf[16] = {0};
	CHECK_INT(read(out[0], buf, 6), ==, 6); /* the trap is set */
	close(out[0]);
	proc_kill_and_reap(&p, SIGTERM, 100);
	CHECK(p.reaped);
	CHECK(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGKILL);
	proc_kill_and_reap(&p, SIGTERM, 100); /* idempotent */
}

/* An intermediate parent spawns a sleeper and exits: the sleeper must get SIGKILL. */
/* A child's parent dies: PDEATHSIG kills the child, with the parent's ids or its own. */
static void check_orphan_killed(const struct proc_ids *ids)
{
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	int pids[2];
	CHECK(pipe2(pids, O_CLOEXEC) == 0);
	pid_t mid = fork();
	CHECK(mid >= 0);
	if (mid == 0) {
		husk_err err = NULL;
		const char *argv[] = {"sleep", "1000", NULL};
		struct proc_spec spec = {.argv = argv,
		                         .stdin_fd = -1,
		                         .stdout_fd = -1,
		                         .stderr_fd = -1,
		                         .least_privilege = ids != NULL,
		                         .ids = ids};
		struct proc p;
		if (proc_spawn(&spec, &p, &err) < 0)
			_exit(1);
		ssize_t w = write(pids[1], &p.pid, sizeof(p.pid));
		_exit(w == sizeof(p.pid) ? 0 : 1);
	}
	close(pids[1]);
	pid_t sleeper = 0;
	CHECK_INT(read(pids[0], &sleeper, sizeof(sleeper)), ==, sizeof(sleeper));
	close(pids[0]);
	int status;
	CHECK_INT(waitpid(mid, &status, 0), ==, mid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* reparented to us (subreaper), so it is ours to reap once PDEATHSIG fired */
	struct proc orphan = {.pid = sleeper, .pidfd = (int)syscall(SYS_pidfd_open, sleeper, 0)};
	int died = proc_wait_status(&orphan, 10000, NULL);
	if (died != 1)
		proc_kill_and_reap(&orphan, SIGKILL, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	CHECK_INT(died, ==, 1);
	status = orphan.status;
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST(pdeathsig_kills_orphans)
{
	check_orphan_killed(NULL);
}

/* new ids clear the parent-death signal in the kernel: the child arms it again */
TEST(pdeathsig_kills_orphans_that_run_as_other_ids)
{
	const struct proc_ids ids = {.uid = 2100000125, .gid = 2100000125};
	if (geteuid() != 0) {
		fprintf(stderr, "  skipped: not root\n");
		return;
	}
	check_orphan_killed(&ids);
}

TEST(first_line_of_output)
{
	cleanup_error husk_err err = NULL;
	char buf[32];
	const char *argv[] = {"sh", "-c", "echo hello; echo world", NULL};
	CHECK_INT(proc_first_line(argv, 5000, buf, sizeof(buf), &err), ==, 0);
	CHECK_STR(buf, "hello");
	const char *silent[] = {"true", NULL};
	CHECK_INT(proc_first_line(silent, 5000, buf, sizeof(buf), &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "true: no output");
	/* all of it, or what fits */
	CHECK_INT(proc_output(argv, 5000, buf, sizeof(buf), &err), ==, 0);
	CHECK_STR(buf, "hello\nworld\n");
	CHECK_INT(proc_output(argv, 5000, buf, 9, &err), ==, 0);
	CHECK_STR(buf, "hello\nwo");
}

/* An event loop must be able to remove the pidfd after the reap, so reaping keeps it open. */
TEST(reaped_proc_keeps_pidfd_until_release)
{
	cleanup_error husk_err err = NULL;
	const char *argv[] = {"true", NULL};
	struct proc_spec spec = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
	struct proc p;
	CHECK_INT(proc_spawn(&spec, &p, &err), ==, 0);
	int fd = p.pidfd;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	CHECK_INT(poll(&pfd, 1, 5000), ==, 1);
	CHECK_INT(proc_try_reap(&p, &err), ==, 1);
	CHECK_INT(p.pidfd, ==, fd);
	CHECK(fcntl(fd, F_GETFD) >= 0);
	proc_kill_and_reap(&p, SIGKILL, 0); /* no signal to a reaped pid; closes the pidfd */
	CHECK_INT(p.pidfd, ==, -1);
	CHECK(fcntl(fd, F_GETFD) < 0);
	CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
}

TEST(child_works_in_the_given_directory)
{
	cleanup_error husk_err err = NULL;
	char out[64];
	int pipefd[2];
	CHECK_INT(pipe2(pipefd, O_CLOEXEC), ==, 0);
	cleanup_close int rd = pipefd[0];
	const char *argv[] = {"pwd", NULL};
	struct proc_spec spec = {
	    .argv = argv, .stdin_fd = -1, .stdout_fd = pipefd[1], .stderr_fd = -1, .cwd = "/tmp"};
	struct proc p;
	CHECK_INT(proc_spawn(&spec, &p, &err), ==, 0);
	close(pipefd[1]);
	read_all(rd, out, sizeof(out));
	CHECK_STR(out, "/tmp\n");
	CHECK_INT(proc_wait_status(&p, 5000, &err), ==, 1);
	proc_release(&p);
	spec.cwd = "/nonexistent";
	spec.stdout_fd = -1;
	CHECK_INT(proc_spawn(&spec, &p, &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "spawn pwd: child setup: No such file or directory");
}

/* The value of a hex "Key:\t..." line of /proc/<pid>/status text; all ones if missing. */
static uint64_t status_hex(const char *status, const char *key)
{
	const char *at = strstr(status, key);
	return at ? strtoull(at + strlen(key), NULL, 16) : UINT64_MAX;
}

/* The /proc/self/status a child spawned with spec (its argv and stdout replaced) prints. */
static void child_status(struct proc_spec spec, char *out, size_t len)
{
	cleanup_error husk_err err = NULL;
	const char *argv[] = {"cat", "/proc/self/status", NULL};
	int pipefd[2];
	struct proc p;
	out[0] = '\0';
	CHECK_INT(pipe2(pipefd, O_CLOEXEC), ==, 0);
	cleanup_close int rd = pipefd[0];
	spec.argv = argv;
	spec.stdout_fd = pipefd[1];
	CHECK_INT(proc_spawn(&spec, &p, &err), ==, 0);
	close(pipefd[1]);
	read_all(rd, out, len);
	CHECK_INT(proc_wait_status(&p, 5000, &err), ==, 1);
	proc_release(&p);
}

/* What exec as root would give the program is the bounding set: it must be cut to keep_caps. */
TEST(least_privilege_child_has_only_its_caps_and_no_new_privs)
{
	char out[4096];
	uint64_t keep = PROC_CAP(CAP_CHOWN) | PROC_CAP(CAP_SETPCAP);
	struct proc_spec spec = {
	    .stdin_fd = -1, .stderr_fd = -1, .least_privilege = true, .keep_caps = keep};
	child_status(spec, out, sizeof(out));
	CHECK(strstr(out, "NoNewPrivs:\t1\n"));
	CHECK_INT(status_hex(out, "CapBnd:\t") & ~keep, ==, 0);
	CHECK_INT(status_hex(out, "CapInh:\t"), ==, 0);
	CHECK_INT(status_hex(out, "CapAmb:\t"), ==, 0);
	if (geteuid() == 0)
		CHECK_INT(status_hex(out, "CapEff:\t"), ==, status_hex(out, "CapBnd:\t"));
	/* without least_privilege the caller's sets pass unchanged */
	spec.least_privilege = false;
	child_status(spec, out, sizeof(out));
	CHECK(strstr(out, "NoNewPrivs:\t0\n"));
}

/* QEMU's own user (lib/proc.h proc_ids): uid, gid and groups as given, no capability left. */
TEST(least_privilege_child_runs_as_the_given_ids)
{
	char out[4096];
	if (geteuid() != 0) {
		fprintf(stderr, "  skipped: not root\n");
		return;
	}
	const gid_t groups[] = {4242};
	const struct proc_ids ids = {
	    .uid = 2100000123, .gid = 2100000124, .groups = groups, .ngroups = 1};
	struct proc_spec spec = {
	    .stdin_fd = -1, .stderr_fd = -1, .least_privilege = true, .ids = &ids};
	child_status(spec, out, sizeof(out));
	CHECK(strstr(out, "Uid:\t2100000123\t2100000123\t2100000123\t2100000123\n"));
	CHECK(strstr(out, "Gid:\t2100000124\t2100000124\t2100000124\t2100000124\n"));
	CHECK(strstr(out, "Groups:\t4242 \n"));
	CHECK_INT(status_hex(out, "CapEff:\t"), ==, 0);
	CHECK_INT(status_hex(out, "CapPrm:\t"), ==, 0);
	CHECK(strstr(out, "NoNewPrivs:\t1\n"));
}

/* A program in a directory only root may pass still runs as other ids: the child opened it as root.
 */
TEST(a_child_of_other_ids_runs_a_program_behind_a_root_only_directory)
{
	cleanup_error husk_err err = NULL;
	char dir[] = "/tmp/husk-proc.XXXXXX", prog[64], cmd[128];
	if (geteuid() != 0) {
		fprintf(stderr, "  skipped: not root\n");
		return;
	}
	CHECK(mkdtemp(dir) != NULL); /* 0700 */
	snprintf(prog, sizeof(prog), "%s/true", dir);
	snprintf(cmd, sizeof(cmd), "cp /bin/true %s", prog);
	CHECK_INT(system(cmd), ==, 0);
	const struct proc_ids ids = {.uid = 2100000123, .gid = 2100000123};
	const char *argv[] = {prog, NULL};
	struct proc_spec spec = {.argv = argv,
	                         .stdin_fd = -1,
	                         .stdout_fd = -1,
	                         .stderr_fd = -1,
	                         .least_privilege = true,
	                         .ids = &ids};
	struct proc p;
	CHECK_INT(proc_spawn(&spec, &p, &err), ==, 0);
	CHECK_INT(proc_wait_status(&p, 5000, &err), ==, 1);
	CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
	proc_release(&p);
	unlink(prog);
	rmdir(dir);
}
