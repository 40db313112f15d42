/* Small file-system and fd helpers. */
#ifndef HUSK_FS_H
#define HUSK_FS_H

#include <sys/types.h>

#include "error.h"

/* A stream socket connected to the Unix socket at path; errors read "WHAT PATH: cause". */
int unix_connect(const char *what, const char *path, husk_err *err);
/* mkdir -p: every missing directory of path with mode; *err names the one that failed. */
int mkdir_p(const char *path, mode_t mode, husk_err *err);
/*
 * A listening Unix stream socket (SOCK_CLOEXEC, plus flags: SOCK_NONBLOCK or 0)
 * bound at path, which must fit in sun_path; a stale socket there is replaced,
 * anything else refused.
 */
int unix_listen(const char *path, int backlog, int flags, husk_err *err);
/*
 * Writes value to the existing file path (a /proc, /sys or cgroup knob) in one write; -1 with
 * errno set (callers that make their message from errno).
 */
int write_knob(const char *path, const char *value);
/* write_knob with the error in *err ("write VALUE to PATH"). */
int write_str(const char *path, const char *value, husk_err *err);
/*
 * Reads dir/name (a /proc, /sys or cgroup file, one read) as a string of at most len - 1 bytes;
 * on error buf is "" and -1 returned with errno set.
 */
ssize_t read_text_at(const char *dir, const char *name, char *buf, size_t len);
/* Closes *fd if it is open and sets it to -1 (errno kept). */
void close_fd(int *fd);

#endif
