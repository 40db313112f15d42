/*
 * A sandbox's host state directory <root>/<id>/ and the private mount
 * namespace its owner works in.
 */
#ifndef HUSK_STATEDIR_H
#define HUSK_STATEDIR_H

#include <stdbool.h>

#include "lib/error.h"

struct statedir {
	char *dir;
	char *vhost_vsock_sock; /* husk-vsockd's vhost-user socket (QEMU connects) */
	char *vsock_sock;       /* hybrid vsock UDS (CONNECT <port>) */
	char *virtiofsd_sock;
	char *qmp_sock;
	char *console_log;
	char *qemu_log; /* QEMU's own stdout/stderr */
	char *virtiofsd_log;
	char *vsockd_log;
	char *shared; /* shared with the guest over virtio-fs */
};

/*
 * Creates root and its parents (0711, if missing) and root/id (0700). Fails with EEXIST and
 * "container ID already exists" if root/id is there; fails if a socket path
 * would not fit in sun_path.
 */
int statedir_create(const char *root, const char *id, struct statedir *sd, husk_err *err);
/* Removes the directory tree (never crossing into a mount) and frees the paths. */
void statedir_remove(struct statedir *sd);
/* statedir_remove for a directory known only by path (husk delete). */
void statedir_remove_path(const char *dir);
/* Removes everything but the entries named in keep (NULL-terminated) and frees the paths. */
void statedir_clear(struct statedir *sd, const char *const *keep);

/*
 * Moves the calling process into a new mount namespace where / is a
 * recursive slave: host mounts propagate in, ours never leak out, and they all
 * vanish when the last process in the namespace exits.
 */
int mount_namespace_enter(husk_err *err);
/*
 * Binds host path src (a directory or a file) at shared/<name>, with its
 * submounts when rec, read-only throughout when ro. Works while virtiofsd
 * runs: shared/ is a shared mount, so the bind reaches virtiofsd's namespace.
 */
int statedir_bind(struct statedir *sd, const char *name, const char *src, bool rec, bool ro,
                  husk_err *err);
/* Makes the bind at shared/<name> read-only, submounts included. */
int statedir_bind_readonly(struct statedir *sd, const char *name, husk_err *err);
/* Unmounts shared/<name> and removes its mount point. */
void statedir_unbind(struct statedir *sd, const char *name);

#endif
