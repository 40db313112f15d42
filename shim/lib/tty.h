/*
 * The host end of a guest process's terminal (process.terminal = true). The
 * pty that the process sees is allocated by the agent in the guest; its
 * output arrives as ReadStdout data and its input goes out as WriteStdin. On
 * the host the bytes are relayed (shim/lib/relay.h) through one fd:
 *  - tty_front_console: a fresh host pty pair; the master is sent over the
 *    --console-socket exactly as runc does (one SCM_RIGHTS message, one fd,
 *    "/dev/ptmx" as the data: the name runc's pty package gives the master)
 *    and the relay uses the slave, in raw mode (the guest's line discipline
 *    is the only one). The calling process makes the slave its controlling
 *    terminal, so a resize of the master by the receiver raises SIGWINCH
 *    here; that needs a session leader without a terminal (otherwise a
 *    warning, and resizes are lost).
 *  - tty_front_own: the caller's own terminal (husk run/exec -t on a tty),
 *    put in raw mode until tty_front_free restores it.
 * Either way, on SIGWINCH (tty_winch_fd) call tty_front_resize.
 */
#ifndef HUSK_TTY_H
#define HUSK_TTY_H

#include <stdbool.h>

#include "agent_client.h"
#include "lib/error.h"

struct tty_front;

struct tty_front *tty_front_console(const char *console_socket, husk_err *err);
struct tty_front *tty_front_own(int fd, husk_err *err);
/* The first of stdin, stdout and stderr that is a terminal (where runc looks), or -1. */
int tty_own_fd(void);
/* The fd to relay both ways (stdin and stdout of the guest process). */
int tty_front_fd(const struct tty_front *t);
/* The current window size; false if unknown. */
bool tty_front_size(const struct tty_front *t, unsigned *cols, unsigned *rows);
/*
 * Sends ResizePty for (container_id, exec_id) with the current size
 * (asynchronous; a failure is logged). Nothing when the size is unknown.
 */
void tty_front_resize(const struct tty_front *t, struct agent_client *a, const char *container_id,
                      const char *exec_id);
/*
 * Points stdin, stdout and stderr at /dev/null. A detached process whose
 * terminal went to a console socket must not hold the caller's stdio: a
 * waiter for its output to close (containerd's runc shim waits so for create
 * and exec) would wait until the container's process exits.
 */
int tty_release_stdio(husk_err *err);
/* Blocks SIGWINCH and returns a non-blocking signalfd for it, or -1. */
int tty_winch_fd(husk_err *err);
/* Restores the terminal mode (own) / closes the slave (console). NULL is a no-op. */
void tty_front_free(struct tty_front *t);

#endif
