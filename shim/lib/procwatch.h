/*
 * Follows one guest process from the host until it is over: relays its stdio
 * (relay.h) and waits for its exit (WaitProcess). Once it has exited, its
 * output gets PROC_WATCH_DRAIN_MS more to end, then the rest is dropped.
 * The caller runs the loop until proc_watch_check says done or failed.
 */
#ifndef HUSK_PROCWATCH_H
#define HUSK_PROCWATCH_H

#include <stdbool.h>

#include "agent_client.h"
#include "lib/error.h"
#include "lib/loop.h"

#define PROC_WATCH_DRAIN_MS 5000

struct proc_watch;

/* As stdio_relay_new: the fds stay the caller's; the ids must outlive the watch. */
struct proc_watch *proc_watch_start(struct husk_loop *loop, struct agent_client *a,
                                    const char *container_id, const char *exec_id, int in_fd,
                                    int out_fd, int err_fd, husk_err *err);
/* 1: exited and drained, 0: not yet, -1: failed (*err set). */
int proc_watch_check(struct proc_watch *w, husk_err *err);
/* Whether WaitProcess has answered. */
bool proc_watch_exited(const struct proc_watch *w);
/* The exit status as a shell reports it (code, or 128+N after signal N); valid once exited. */
int proc_watch_status(const struct proc_watch *w);
void proc_watch_free(struct proc_watch *w);

#endif
