/* Processes of a container: stdio streams with long-poll reads, exit waiters, reaping. */
#ifndef HUSK_AGENT_PROCESS_H
#define HUSK_AGENT_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "lib/error.h"
#include "lib/fs.h"

struct ttrpc_call;

struct process *process_new(const char *exec_id, struct husk_loop *loop, husk_err *err);
/* Takes ownership of the fds (stdin_fd may be -1). */
void process_set_stdio(struct process *p, int stdin_fd, int out_fd, int err_fd);
/*
 * Takes ownership of a terminal process's pty master: it becomes stdout (and
 * stdin if the host asked for one); stderr ends at once.
 */
int process_set_terminal(struct process *p, int master, husk_err *err);
/* TIOCSWINSZ on the process's pty master. */
int process_resize(struct process *p, unsigned cols, unsigned rows, husk_err *err);
/* Replies (now or when data or EOF arrives) to a ReadStdout/ReadStderr call. */
void stream_read(struct stream *s, struct ttrpc_call *call, uint32_t max_bytes);
/* Replies to a WaitProcess call once p has exited. */
void process_wait(struct process *p, struct ttrpc_call *call);
/* Records an exit (status from waitpid) and answers every waiter. */
void process_exited(struct process *p, int wstatus);
/*
 * Writes to stdin what it takes now: returns 1 with *written set. When it
 * takes nothing (a full pipe or pty) the call is held and answered once it
 * takes some (returns 0), so a host does not spin resending. -1: error.
 */
int process_write_stdin(struct process *p, struct ttrpc_call *call, const uint8_t *data, size_t len,
                        uint32_t *written, husk_err *err);
/* Closes stdin; for a terminal in canonical mode, sends VEOF first (what ^D would). */
void process_close_stdin(struct process *p);
/* Closes everything; pending calls get NOT_FOUND naming why. */
void process_free(struct process *p, const char *why);
int exit_status_of(int wstatus);
/* Keeps call in *slot until call_take(); a host hang-up empties the slot. */
void call_hold(struct ttrpc_call **slot, struct ttrpc_call *call);
/* The held call (now the caller's to reply to), or NULL if the host hung up. */
struct ttrpc_call *call_take(struct ttrpc_call **slot);

#endif
