/*
 * Relays one guest process's stdio between host fds and the agent:
 * host stdin -> WriteStdin (chunks of at most STDIO_CHUNK, CloseStdin on EOF),
 * ReadStdout/ReadStderr -> host stdout/stderr with one read pending per
 * stream. A stream asks for more only after its last chunk is fully written,
 * so a slow reader on the host side throttles the guest (no unbounded
 * buffering). Pipes and terminals are reopened non-blocking through
 * /proc/self/fd so the caller's own file descriptions keep their flags.
 */
#ifndef HUSK_RELAY_H
#define HUSK_RELAY_H

#include <stdbool.h>

#include "agent_client.h"
#include "lib/error.h"
#include "lib/loop.h"

#define STDIO_CHUNK (64u << 10)

struct stdio_relay;

/* Runs when both output streams have ended, or when the relay failed. */
typedef void (*stdio_relay_cb)(struct stdio_relay *r, void *data);

/*
 * in_fd < 0: the process has no stdin to feed. The fds stay the caller's.
 * container_id and exec_id must outlive the relay.
 */
struct stdio_relay *stdio_relay_new(struct husk_loop *loop, struct agent_client *agent,
                                    const char *container_id, const char *exec_id, int in_fd,
                                    int out_fd, int err_fd, stdio_relay_cb cb, void *data,
                                    husk_err *err);
int stdio_relay_start(struct stdio_relay *r, husk_err *err);
bool stdio_relay_done(struct stdio_relay *r);
/* The error that stopped the relay, or NULL. */
husk_err stdio_relay_error(struct stdio_relay *r);
void stdio_relay_free(struct stdio_relay *r);

/*
 * Blocks the signals a foreground front forwards to its container (SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, as runc does) and returns a
 * non-blocking signalfd for them, or -1.
 */
int relay_signals_fd(husk_err *err);

#endif
