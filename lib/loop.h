/*
 * One epoll event loop per process. Callbacks return 0 to continue or -1
 * (with *err set) to stop the loop with an error. Removing any fd, including
 * the one being dispatched, is safe from inside a callback.
 */
#ifndef HUSK_LOOP_H
#define HUSK_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct husk_loop;
typedef int (*husk_loop_cb)(struct husk_loop *loop, int fd, uint32_t events, void *data,
                            husk_err *err);

struct husk_loop *husk_loop_new(husk_err *err);
void husk_loop_free(struct husk_loop *loop);
int husk_loop_add(struct husk_loop *loop, int fd, uint32_t events, husk_loop_cb cb, void *data,
                  husk_err *err);
int husk_loop_mod(struct husk_loop *loop, int fd, uint32_t events, husk_err *err);
/* Stops watching fd (does not close it). Unknown fds are ignored. */
void husk_loop_del(struct husk_loop *loop, int fd);
/* Runs until husk_loop_stop() or a callback fails. Returns the stop status or -1. */
int husk_loop_run(struct husk_loop *loop, husk_err *err);
/* Runs one round of at most one epoll_wait (timeout_ms, -1 = block). Returns 0, or -1. */
int husk_loop_run_once(struct husk_loop *loop, int timeout_ms, husk_err *err);
void husk_loop_stop(struct husk_loop *loop, int status);

/*
 * Blocks the n signals in sigs and returns a non-blocking, close-on-exec
 * signalfd that reads them, for a loop to watch; -1 with *err set.
 */
int signals_block_fd(const int *sigs, size_t n, husk_err *err);
int husk_loop_stopped(struct husk_loop *loop);

#endif
