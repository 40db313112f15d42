/*
 * The hostile guest of the host's tests (tests/integration/hostile.bats): in place of the agent,
 * what a guest whose root is taken over can do to the host through each channel. The vsock
 * test initramfs runs it when it holds /hostile (a cpio appended to it), naming the mode:
 *   silent   accepts the host's agent connection, reads its token and request, never answers
 *   garbage  answers with bytes that are no ttrpc frame (and terminal escapes)
 *   huge     answers with a frame header announcing 4 GiB
 *   amplify  answers with a 4 MiB Response of 2 M empty unknown fields
 *   flood    answers with responses to streams never opened, until the host hangs up
 *   vandal   runs no agent: a tree 2000 deep, a setuid file, then bytes and files until the
 *            share refuses, then writes to the console without end
 * Each step is reported on the console ("husk-test: ...").
 */
#ifndef HUSK_TEST_HOSTILE_H
#define HUSK_TEST_HOSTILE_H

#include "lib/error.h"

/* Returns only on an error (or when the host hung up on a mode that waits for it). */
int hostile_agent(const char *mode, husk_err *err);

/* vsock-test.c's: one line on the console, "husk-test: " first. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
