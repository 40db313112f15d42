/*
 * The --pid-file process of a detached command: husk create's sandbox owner
 * and husk exec --detach's holder. It is forked into a new session with cwd
 * /, keeps only stdio, its report pipe and one more fd (the log), and tells
 * the waiting parent over that pipe when it is ready ("ok") or why it failed.
 * It writes its own pid file before it reports. containerd's runc shim and
 * conmon are subreapers: they reap it as they would reap runc's process.
 */
#ifndef HUSK_DETACH_H
#define HUSK_DETACH_H

#include <sys/types.h>

#include "lib/error.h"

/* Runs in the child; reports on report_fd (detach_report) and returns its exit status. */
typedef int (*detach_fn)(void *arg, int report_fd);

/*
 * Forks the child running fn(arg, report_fd) and waits for its report.
 * Returns 0 on "ok". Otherwise the child is reaped (it tore down what it
 * started before reporting) and the reported line is the error. keep_fd < 0:
 * none.
 */
int detach_spawn(detach_fn fn, void *arg, int keep_fd, husk_err *err);

/* The child's report: "ok", or error's message. Closes fd; fd < 0 is a no-op. */
void detach_report(int fd, husk_err error);

/*
 * A path from the command line (--pid-file, --console-socket) made absolute
 * from our cwd, as runc takes it: the child works in /. It need not exist.
 */
int path_from_cwd(const char *path, char **out, husk_err *err);

/* Writes pid to path atomically (temp file in the same directory + rename), like runc. */
int write_pid_file(const char *path, pid_t pid, husk_err *err);

#endif
