/* SCM_RIGHTS fd passing over Unix sockets, in one place. */
#ifndef HUSK_CMSG_H
#define HUSK_CMSG_H

#include <stddef.h>
#include <sys/types.h>

#define HUSK_MAX_FDS 8

/* Sends len bytes plus nfds fds in one sendmsg. Returns bytes sent or -1 (errno). */
ssize_t cmsg_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);
/*
 * Receives up to len bytes and up to maxfds fds (close-on-exec). *nfds gets
 * the number received; fds beyond maxfds and truncated control data are
 * closed and reported as EMSGSIZE. Returns bytes read (0 on EOF) or -1.
 */
ssize_t cmsg_recv(int sock, void *buf, size_t len, int *fds, size_t maxfds, size_t *nfds);

#endif
