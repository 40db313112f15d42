#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"

extern char **environ;

/* What the child reports through the CLOEXEC pipe when it cannot reach exec. */
enum child_stage { STAGE_SETUP, STAGE_PRIVILEGES, STAGE_EXEC };
struct child_report {
	int stage;
	int err;
};

/* Everything the child needs, prepared before fork so the child only makes syscalls. */
struct child_plan {
	int src[PROC_MAX_FDS + 3]; /* -1 = /dev/null */
	int dst[PROC_MAX_FDS + 3];
	size_t n;
	int max_dst;
	pid_t parent;
	int report_fd;
	bool new_session;
	bool least_privilege;
	uint64_t keep_caps;
	const struct proc_ids *ids;
	const char *cwd;
	const char *const *argv;
	char *const *envp;
};

void proc_init(struct proc *p)
{
	p->pid = 0;
	p->pidfd = -1;
	p->status = 0;
	p->reaped = false;
}

static _Noreturn void child_fail(int report_fd, int stage)
{
	struct child_report r = {.stage = stage, .err = errno};
	ssize_t ignored = write(report_fd, &r, sizeof(r));
	(void)ignored;
	_exit(127);
}

static void child_reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL); /* handlers reset at exec anyway; this undoes SIG_IGN */
}

static bool is_target(const struct child_plan *c, int fd)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->dst[i] == fd)
			return true;
	return false;
}

/* Targets are 0..max_dst, the report pipe sits at max_dst + 1; everything else goes. */
static void child_close_others(const struct child_plan *c)
{
	for (int fd = 3; fd <= c->max_dst; fd++)
		if (!is_target(c, fd))
			close(fd);
	unsigned first = (unsigned)c->max_dst + 2;
	if (syscall(SYS_close_range, first, ~0U, 0) == 0)
		return;
	struct rlimit rl;
	int last =
	    getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
	for (int fd = (int)first; fd < last; fd++)
		close(fd);
}

/*
 * Moves every source fd (and the report pipe) above all targets first, so a
 * dup2 into a target never clobbers a source still needed, and dup2 always
 * clears CLOEXEC. The report pipe then lands at max_dst + 1.
 */
static int child_install_fds(struct child_plan *c)
{
	int floor = c->max_dst + 2;
	int moved = fcntl(c->report_fd, F_DUPFD_CLOEXEC, floor);
	if (moved < 0)
		return -1;
	c->report_fd = moved;
	for (size_t i = 0; i < c->n; i++) {
		int src = c->src[i] < 0 ? open("/dev/null", O_RDWR | O_CLOEXEC) : c->src[i];
		if (src < 0)
			return -1;
		moved = fcntl(src, F_DUPFD_CLOEXEC, floor);
		if (moved < 0)
			return -1;
		c->src[i] = moved;
	}
	if (dup3(c->report_fd, c->max_dst + 1, O_CLOEXEC) < 0)
		return -1;
	c->report_fd = c->max_dst + 1;
	for (size_t i = 0; i < c->n; i++)
		if (dup2(c->src[i], c->dst[i]) < 0)
			return -1;
	return 0;
}

/* Inheritable and ambient caps would survive exec beside the bounding set: cut them too. */
static int child_cut_inheritable(uint64_t keep)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	data[0].inheritable &= (uint32_t)keep;
	data[1].inheritable &= (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -1;
	return 0;
}

/* PR_CAPBSET_READ fails past the kernel's last capability; CAP_SETPCAP stays effective. */
static int child_drop_privileges(const struct child_plan *c)
{
	for (int cap = 0; cap < 64; cap++) {
		int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (in < 0)
			break;
		if (in && !(c->keep_caps & PROC_CAP(cap)) &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -1;
	}
	if (child_cut_inheritable(c->keep_caps) < 0)
		return -1;
	/* new ids clear the parent-death signal: armed again, and the parent checked again */
	if (c->ids && (setgroups(c->ids->ngroups, c->ids->groups) < 0 ||
	               setresgid(c->ids->gid, c->ids->gid, c->ids->gid) < 0 ||
	               setresuid(c->ids->uid, c->ids->uid, c->ids->uid) < 0 ||
	               prctl(PR_SET_PDEATHSIG, SIGKILL) < 0))
		return -1;
	if (c->ids && getppid() != c->parent)
		_exit(127);
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static _Noreturn void child_run(struct child_plan *c)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(c->report_fd, STAGE_SETUP);
	if (getppid() != c->parent)
		_exit(127); /* the parent died before PDEATHSIG was armed */
	if (c->new_session ? setsid() < 0 : setpgid(0, 0) < 0)
		child_fail(c->report_fd, STAGE_SETUP);
	child_reset_signals();
	if (c->cwd && chdir(c->cwd) < 0)
		child_fail(c->report_fd, STAGE_SETUP);
	if (child_install_fds(c) < 0)
		child_fail(c->report_fd, STAGE_SETUP);
	child_close_others(c);
	/* opened while root: other ids may not pass the directories above it (a 0700 prefix) */
	int exe = c->ids && strchr(c->argv[0], '/') ? open(c->argv[0], O_PATH | O_CLOEXEC) : -1;
	if (c->least_privilege && child_drop_privileges(c) < 0)
		child_fail(c->report_fd, STAGE_PRIVILEGES);
	execvpe(c->argv[0], (char *const *)c->argv, c->envp);
	/* by path first: the kernel cannot run a script by a close-on-exec fd */
	if (errno == EACCES && exe >= 0) {
		syscall(SYS_execveat, exe, "", c->argv, c->envp, AT_EMPTY_PATH);
		errno = EACCES;
	}
	child_fail(c->report_fd, STAGE_EXEC);
}

static int plan_add(struct child_plan *c, int src, int dst)
{
	if (dst < 0 || is_target(c, dst))
		return -1;
	c->src[c->n] = src;
	c->dst[c->n] = dst;
	c->n++;
	if (dst > c->max_dst)
		c->max_dst = dst;
	return 0;
}

static int plan_build(const struct proc_spec *spec, struct child_plan *c, husk_err *err)
{
	if (!spec->argv || !spec->argv[0] || !spec->argv[0][0])
		return husk_error_set(err, EINVAL, "spawn: empty argv");
	if (spec->nfds > PROC_MAX_FDS)
		return husk_error_set(err, E2BIG, "spawn %s: more than %d fds", spec->argv[0],
		                      PROC_MAX_FDS);
	/*
	 * A child given other ids looks its program up as them: a path it may not reach would
	 * read "Permission denied" where the program is simply not there.
	 */
	if (spec->ids && strchr(spec->argv[0], '/') && access(spec->argv[0], F_OK) < 0)
		return husk_error_set(err, errno, "exec %s", spec->argv[0]);
	memset(c, 0, sizeof(*c));
	c->max_dst = 2;
	plan_add(c, spec->stdin_fd, 0);
	plan_add(c, spec->stdout_fd, 1);
	plan_add(c, spec->stderr_fd, 2);
	for (size_t i = 0; i < spec->nfds; i++) {
		const struct proc_fd_map *m = &spec->fds[i];
		if (m->parent_fd < 0 || m->child_fd < 3 || plan_add(c, m->parent_fd, m->child_fd))
			return husk_error_set(err, EINVAL, "spawn %s: bad fd mapping %d -> %d",
			                      spec->argv[0], m->parent_fd, m->child_fd);
	}
	c->parent = getpid();
	c->new_session = spec->new_session;
	c->least_privilege = spec->least_privilege;
	c->keep_caps = spec->keep_caps;
	c->ids = spec->ids;
	c->cwd = spec->cwd;
	c->argv = spec->argv;
	c->envp = spec->envp ? (char *const *)spec->envp : environ;
	return 0;
}

/* Reads the child's report: 0 = it reached exec, -1 = setup or exec failed (err set). */
static int read_child_report(int fd, const char *name, husk_err *err)
{
	struct child_report r;
	ssize_t n;
	do
		n = read(fd, &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(r))
		return husk_error_set(err, n < 0 ? errno : EPROTO, "spawn %s: child report", name);
	if (r.stage == STAGE_EXEC)
		return husk_error_set(err, r.err, "exec %s", name);
	if (r.stage == STAGE_PRIVILEGES)
		return husk_error_set(err, r.err, "spawn %s: dropping privileges", name);
	return husk_error_set(err, r.err, "spawn %s: child setup", name);
}

int proc_spawn(const struct proc_spec *spec, struct proc *out, husk_err *err)
{
	struct child_plan plan;
	int pipefd[2];

	proc_init(out);
	if (plan_build(spec, &plan, err) < 0)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return husk_error_set(err, errno, "spawn %s: pipe", spec->argv[0]);
	cleanup_close int rd = pipefd[0];
	cleanup_close int wr = pipefd[1];
	plan.report_fd = wr;

	pid_t pid = fork();
	if (pid < 0)
		return husk_error_set(err, errno, "spawn %s: fork", spec->argv[0]);
	if (pid == 0)
		child_run(&plan);

	close(move_fd(wr));
	out->pid = pid;
	out->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (read_child_report(rd, spec->argv[0], err) < 0) {
		proc_kill_and_reap(out, SIGKILL, 0);
		return -1;
	}
	return 0;
}

int proc_try_reap(struct proc *p, husk_err *err)
{
	if (p->pid <= 0 || p->reaped)
		return 1;
	int status;
	pid_t r;
	do
		r = waitpid(p->pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return husk_error_set(err, errno, "waitpid %d", (int)p->pid);
	if (r == 0)
		return 0;
	p->status = status;
	p->reaped = true;
	return 1;
}

/* Without a pidfd: wait for SIGCHLD with sigtimedwait while it is blocked. */
static int wait_without_pidfd(struct proc *p, int64_t deadline, husk_err *err)
{
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	int r;
	while ((r = proc_try_reap(p, err)) == 0) {
		int left = deadline_left(deadline);
		if (left == 0)
			break;
		struct timespec ts = {left / 1000, (long)(left % 1000) * 1000000};
		if (sigtimedwait(&chld, NULL, left < 0 ? NULL : &ts) < 0 && errno != EINTR &&
		    errno != EAGAIN) {
			r = husk_error_set(err, errno, "sigtimedwait");
			break;
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int wait_until(struct proc *p, int64_t deadline, husk_err *err)
{
	if (p->pid <= 0 || p->reaped)
		return 1;
	if (p->pidfd < 0)
		return wait_without_pidfd(p, deadline, err);
	for (;;) {
		struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
		int n = poll(&pfd, 1, deadline_left(deadline));
		if (n < 0 && errno != EINTR)
			return husk_error_set(err, errno, "poll pidfd of %d", (int)p->pid);
		if (n > 0)
			return proc_try_reap(p, err) == 1 ? 1 : -1;
		if (n == 0)
			return 0;
	}
}

int proc_wait_status(struct proc *p, int timeout_ms, husk_err *err)
{
	return wait_until(p, deadline_after(timeout_ms), err);
}

static void send_signal(struct proc *p, int sig)
{
	kill(p->pid, sig);
	kill(-p->pid, sig); /* its process group, if it still leads one */
}

void proc_kill_and_reap(struct proc *p, int sig, int timeout_ms)
{
	cleanup_error husk_err ignored = NULL;
	if (p->pid > 0 && !p->reaped) {
		send_signal(p, sig);
		if (sig == SIGKILL || wait_until(p, deadline_after(timeout_ms), &ignored) != 1) {
			send_signal(p, SIGKILL);
			wait_until(p, -1, &ignored);
		}
	}
	proc_release(p);
}

void proc_release(struct proc *p)
{
	close_fd(&p->pidfd);
}

const char *proc_status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "wait status 0x%x", (unsigned)status);
	return buf;
}

/* Reads fd into buf until EOF, a full buf or (one_line) a newline, which is cut off. */
static int read_until(int fd, int64_t deadline, char *buf, size_t len, bool one_line, husk_err *err)
{
	size_t have = 0;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n = poll(&pfd, 1, deadline_left(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_error_set(err, errno, "poll");
		if (n == 0)
			return husk_error_set(err, ETIMEDOUT, "no output in time");
		ssize_t r = read(fd, buf + have, len - 1 - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return husk_error_set(err, errno, "read");
		have += (size_t)r;
		buf[have] = '\0';
		char *nl = one_line ? memchr(buf, '\n', have) : NULL;
		if (nl)
			*nl = '\0';
		if (nl || r == 0 || have == len - 1)
			return have ? 0 : husk_error_set(err, 0, "no output");
	}
}

static int run_reading(const char *const *argv, int timeout_ms, char *buf, size_t len,
                       bool one_line, husk_err *err)
{
	int pipefd[2];
	if (len < 2)
		return husk_error_set(err, EINVAL, "output: buffer too small");
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return husk_error_set(err, errno, "pipe");
	cleanup_close int rd = pipefd[0];
	cleanup_close int wr = pipefd[1];
	struct proc_spec spec = {.argv = argv, .stdin_fd = -1, .stdout_fd = wr, .stderr_fd = -1};
	struct proc p;
	if (proc_spawn(&spec, &p, err) < 0)
		return -1;
	close(move_fd(wr));
	int64_t deadline = deadline_after(timeout_ms);
	int r = read_until(rd, deadline, buf, len, one_line, err);
	close(move_fd(rd));
	if (proc_wait_status(&p, deadline_left(deadline), NULL) == 1)
		proc_release(&p);
	else
		proc_kill_and_reap(&p, SIGKILL, 0);
	if (r < 0)
		return husk_error_prefix(err, "%s", argv[0]);
	return 0;
}

int proc_first_line(const char *const *argv, int timeout_ms, char *buf, size_t len, husk_err *err)
{
	return run_reading(argv, timeout_ms, buf, len, true, err);
}

int proc_output(const char *const *argv, int timeout_ms, char *buf, size_t len, husk_err *err)
{
	return run_reading(argv, timeout_ms, buf, len, false, err);
}
