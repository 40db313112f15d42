/*
 * husk-vsockd's seccomp filter: once its sockets are listening, the daemon may make only the
 * system calls its event loop needs (epoll, reads and writes, Unix sockets, mapping guest RAM
 * without PROT_EXEC, closing and unlinking its sockets at exit); any other kills it.
 */
#ifndef HUSK_VSOCK_CONFINE_H
#define HUSK_VSOCK_CONFINE_H

#include "lib/error.h"

int vsockd_confine(husk_err *err);

#endif
