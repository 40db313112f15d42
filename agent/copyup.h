/* tmpcopyup (runc's mount extension): a tmpfs starts with a copy of the directory it covers. */
#ifndef HUSK_AGENT_COPYUP_H
#define HUSK_AGENT_COPYUP_H

#include "lib/error.h"

/*
 * Copies the tree under directory fd from into directory fd to: directories,
 * regular files, symlinks and device/fifo/socket nodes, with their modes and
 * owners. Never follows a symlink. Both fds stay open.
 */
int copy_tree(int from, int to, husk_err *err);

#endif
