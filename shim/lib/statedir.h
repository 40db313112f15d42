/*
 * A sandbox's host state directory <root>/<id>/ and the private mount
 * namespace its owner works in.
 */
#ifndef HUSK_STATEDIR_H
#define HUSK_STATEDIR_H

#include <stdbool.h>

#include "lib/error.h"

/*
 * The sockets' names in the state dir. The helpers work in the directory and
 * are given these names; husk's own processes reach them through a short path
 * of an open fd of it (statedir_sock_path). So no socket's address depends on
 * the length of --root or of the id (sun_path holds 108 bytes).
 */
/*
 * husk-vsockd runs as a user of its own in a directory of its own (it binds its sockets
 * there and dials the hybrid <uds>_<port> there), as these names in it:
 */
#define STATEDIR_VSOCKD_DIR       "vsock"
#define VSOCKD_VHOST_SOCK         "vhost-vsock.sock" /* husk-vsockd's vhost-user socket */
#define VSOCKD_UDS_SOCK           "vsock.sock"       /* hybrid vsock UDS (CONNECT <port>) */
#define STATEDIR_VHOST_VSOCK_SOCK STATEDIR_VSOCKD_DIR "/" VSOCKD_VHOST_SOCK
#define STATEDIR_VSOCK_SOCK       STATEDIR_VSOCKD_DIR "/" VSOCKD_UDS_SOCK
#define STATEDIR_VIRTIOFSD_SOCK   "virtiofsd.sock"
#define STATEDIR_QMP_SOCK         "qmp.sock"
/*
 * Present when the sandbox serves the debug console: the host chose so before
 * the boot (husk.json or the spec's annotation); the guest cannot write here.
 */
#define STATEDIR_DEBUG_CONSOLE "debug-console"
/* The sandbox's agent token (lib/token.h, 0600): what every host connection shows first. */
#define STATEDIR_AGENT_TOKEN "agent-token"
/* The guest's vsock CID with the kernel's vhost-vsock (bootslot.h's CID slots). */
#define STATEDIR_CID "cid"
/* containerd-shim-husk-v2's state dirs (one per pod), and where each records its tasks' ids */
#define STATEDIR_SHIM_V2_ROOT "/run/husk-v2"
#define STATEDIR_TASKS        "tasks"
/* "/proc/self/fd/<int>/" and a socket's name */
#define STATEDIR_SOCK_PATH_MAX 64

struct statedir {
	char *dir;
	int fd; /* dir, O_PATH, for the sockets' short paths */
	char vsock_sock[STATEDIR_SOCK_PATH_MAX];
	char virtiofsd_sock[STATEDIR_SOCK_PATH_MAX];
	char qmp_sock[STATEDIR_SOCK_PATH_MAX];
	char *console_log;
	char *qemu_log; /* QEMU's own stdout/stderr */
	char *virtiofsd_log;
	char *vsockd_log;
	char *shared; /* shared with the guest over virtio-fs */
};

/*
 * Creates root and its parents (0711, if missing) and root/id (0700). Fails with EEXIST and
 * "container ID already exists" if root/id is there.
 */
int statedir_create(const char *root, const char *id, struct statedir *sd, husk_err *err);
/* Opens root/id (O_PATH) for statedir_sock_path; "container ID does not exist" (ENOENT). */
int statedir_open(const char *root, const char *id, husk_err *err);
/* "/proc/self/fd/<dirfd>/<name>" into buf (STATEDIR_SOCK_PATH_MAX bytes), while dirfd is open. */
int statedir_sock_path(int dirfd, const char *name, char *buf, husk_err *err);
/* Records, in the state dir open at dirfd, that the sandbox serves the debug console. */
int statedir_mark_debug_console(int dirfd, husk_err *err);
bool statedir_debug_console(int dirfd);
/* Records the guest's CID in the state dir open at dirfd; reads it back (0 when absent). */
int statedir_write_cid(int dirfd, unsigned cid, husk_err *err);
unsigned statedir_cid(int dirfd);
/* tasks/<id>: the containers of the sandbox, by which husk debug-console finds a shim v2 pod. */
int statedir_record_task(int dirfd, const char *id, husk_err *err);
void statedir_forget_task(int dirfd, const char *id);
/*
 * Directories open at once while a state dir is removed: deeper ones are moved
 * up and removed from there (the guest makes trees of any depth in shared/).
 */
#define STATEDIR_CLEAN_DEPTH 64
/*
 * Removes the directory tree (never crossing into a mount, never following a
 * symlink, any depth with at most STATEDIR_CLEAN_DEPTH fds), closes and frees the paths.
 */
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
/* How statedir_bind binds: */
enum {
	STATEDIR_BIND_REC = 1, /* with the source's submounts (rbind) */
	STATEDIR_BIND_RO = 2,  /* read-only throughout */
	STATEDIR_BIND_PRIVATE =
	    4, /* mounts the host makes under src later do not reach the guest */
};
/*
 * Binds host path src (a directory or a file) at shared/<name> as the STATEDIR_BIND_* flags
 * in how say. Works while virtiofsd runs: shared/ is a shared mount, so the bind reaches
 * virtiofsd's namespace. Unless private, the bind stays a slave of src's mount: what the host
 * mounts under src later (src on a shared mount) reaches the guest too.
 */
int statedir_bind(struct statedir *sd, const char *name, const char *src, unsigned how,
                  husk_err *err);
/* Makes the bind at shared/<name> read-only, submounts included. */
int statedir_bind_readonly(struct statedir *sd, const char *name, husk_err *err);
/* Unmounts shared/<name> and removes its mount point. */
void statedir_unbind(struct statedir *sd, const char *name);

#endif
