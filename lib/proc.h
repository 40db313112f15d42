/*
 * Spawning helper processes (qemu, virtiofsd, husk-vsockd) without a shell.
 * The child gets exactly the fds it is given (everything else is closed),
 * PR_SET_PDEATHSIG(SIGKILL), its own process group, default signal mask and
 * dispositions, and with least_privilege no_new_privs and only the capabilities
 * it is given. Exec failure is reported to the parent as an error
 * ("exec qemu-system-x86_64: No such file or directory"), not as a silent exit.
 */
#ifndef HUSK_PROC_H
#define HUSK_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "clock.h"
#include "error.h"

#define PROC_MAX_FDS 16
/* Capability c (linux/capability.h's CAP_*) in proc_spec.keep_caps */
#define PROC_CAP(c) (UINT64_C(1) << (c))

struct proc_fd_map {
	int parent_fd;
	int child_fd; /* >= 3; stdio has its own fields */
};

/* Who a child runs as: set, with least_privilege, after its capabilities are cut. */
struct proc_ids {
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* supplementary */
	size_t ngroups;
};

struct proc_spec {
	const char *const *argv; /* argv[0] without '/' is searched in PATH */
	const char *const *envp; /* NULL: inherit the parent's environment */
	const struct proc_fd_map *fds;
	size_t nfds;      /* <= PROC_MAX_FDS */
	int stdin_fd;     /* -1: /dev/null */
	int stdout_fd;    /* -1: /dev/null (e.g. a log file fd) */
	int stderr_fd;    /* -1: /dev/null */
	bool new_session; /* setsid() instead of only setpgid() */
	const char *cwd;  /* NULL: the parent's */
	/*
	 * The child sets no_new_privs and cuts its bounding, inheritable and ambient
	 * capability sets to keep_caps before exec: exec as root gives the bounding
	 * set (with the inheritable set), so that is what bounds the program.
	 */
	bool least_privilege;
	uint64_t keep_caps;         /* PROC_CAP() bits, with least_privilege */
	const struct proc_ids *ids; /* with least_privilege; NULL: the parent's ids */
};

struct proc {
	pid_t pid;  /* 0 when there is no process */
	int pidfd;  /* readable when the process exits; -1 without pidfd_open (kernel < 5.3) */
	int status; /* wait status, valid once reaped */
	bool reaped;
};

/* Initialises *p to "no process" so proc_release/kill on it are no-ops. */
void proc_init(struct proc *p);
int proc_spawn(const struct proc_spec *spec, struct proc *out, husk_err *err);
/*
 * Non-blocking reap (call when pidfd is readable). 1 = reaped, 0 = still running, -1 = error.
 * Reaping leaves the pidfd open, so an event loop can still remove it: close it with
 * proc_release() or proc_kill_and_reap().
 */
int proc_try_reap(struct proc *p, husk_err *err);
/* Waits up to timeout_ms (-1 = forever) for exit. 1 = reaped, 0 = timed out, -1 = error. */
int proc_wait_status(struct proc *p, int timeout_ms, husk_err *err);
/*
 * Teardown: sends sig (to the process group too), waits up to timeout_ms,
 * then SIGKILLs and reaps. Closes the pidfd. Safe on a reaped or empty proc.
 */
void proc_kill_and_reap(struct proc *p, int sig, int timeout_ms);
/* Closes the pidfd without touching the process. */
void proc_release(struct proc *p);
/* "exited with status 1" / "killed by signal 9 (Killed)" */
const char *proc_status_str(int status, char *buf, size_t len);

/* Runs argv (stdin/stderr /dev/null) and returns the first stdout line (no '\n') in buf. */
int proc_first_line(const char *const *argv, int timeout_ms, char *buf, size_t len, husk_err *err);
/* The same with all of stdout, at most len - 1 bytes of it (the rest is not read). */
int proc_output(const char *const *argv, int timeout_ms, char *buf, size_t len, husk_err *err);

#endif
