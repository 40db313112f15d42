/*
 * QEMU driver: argv builder (never a shell string), start via proc_spawn, and
 * a small QMP client. QEMU's QMP listening socket is created by us and handed
 * to QEMU as an fd, so qmp_connect() works as soon as qemu_start() returns.
 */
#ifndef HUSK_QEMU_H
#define HUSK_QEMU_H

#include <stdint.h>

#include <json-c/json.h>

#include "accel.h"
#include "lib/error.h"
#include "lib/proc.h"

enum qemu_vsock {
	QEMU_VSOCK_NONE,
	QEMU_VSOCK_VHOST_USER, /* husk-vsockd listens on vsock_socket (must exist before start) */
	QEMU_VSOCK_KERNEL,     /* /dev/vhost-vsock with guest_cid */
};

/* fd number QEMU gets its QMP listening socket on */
#define QEMU_QMP_CHILD_FD 3
/* fd number of the connected socket the serial console is written to */
#define QEMU_CONSOLE_CHILD_FD 4
/* NIC i gets its tap at 5 + 2i and its vhost-net fd at 6 + 2i */
#define QEMU_NICS_MAX              4
#define QEMU_NIC_TAP_CHILD_FD(i)   (QEMU_CONSOLE_CHILD_FD + 1 + 2 * (int)(i))
#define QEMU_NIC_VHOST_CHILD_FD(i) (QEMU_NIC_TAP_CHILD_FD(i) + 1)
/* With qemu_spec.opened: the back-ends' connected sockets, the kernel and the initrd */
#define QEMU_VSOCK_CHILD_FD    QEMU_NIC_TAP_CHILD_FD(QEMU_NICS_MAX)
#define QEMU_VIRTIOFS_CHILD_FD (QEMU_VSOCK_CHILD_FD + 1)
#define QEMU_KERNEL_CHILD_FD   (QEMU_VSOCK_CHILD_FD + 2)
#define QEMU_INITRD_CHILD_FD   (QEMU_VSOCK_CHILD_FD + 3)

/*
 * What QEMU gets open instead of by path, so that an unprivileged QEMU (qemu_spec.run_as)
 * needs no access to the state directory or the guest image's: the vhost-user back-ends'
 * sockets connected, the kernel and initrd open for reading (-1: none).
 */
struct qemu_opened {
	int vsock, virtiofs, kernel, initrd;
};

/* A virtio-net NIC backed by a tap the caller opened (IFF_VNET_HDR). */
struct qemu_nic {
	int tap_fd;
	int vhost_fd; /* an open /dev/vhost-net, or -1: vhost=off */
	uint8_t mac[6];
};

struct qemu_spec {
	const char *binary; /* "qemu-system-x86_64" (PATH) or absolute */
	const char *kernel;
	const char *initrd; /* NULL: none */
	const char *cmdline;
	const char *name; /* -name guest=: the state directory, so pgrep -f finds QEMU by it */
	unsigned vcpus;
	unsigned memory_mib;
	enum accel_mode accel; /* ACCEL_KVM or ACCEL_TCG (resolve auto first) */
	const char *dir; /* QEMU's working directory (NULL: ours); the sockets may be relative */
	enum qemu_vsock vsock;
	const char *vsock_socket;    /* QEMU_VSOCK_VHOST_USER */
	uint32_t guest_cid;          /* QEMU_VSOCK_KERNEL */
	const char *virtiofs_socket; /* NULL: no virtio-fs */
	const char *virtiofs_tag;    /* "husk" */
	int console_fd;         /* a connected stream socket the serial console is written to */
	const char *qmp_socket; /* path qemu_start() binds and passes as QEMU_QMP_CHILD_FD */
	const struct qemu_nic *nics;      /* passed as QEMU_NIC_*_CHILD_FD */
	size_t nnics;                     /* <= QEMU_NICS_MAX */
	const struct qemu_opened *opened; /* NULL: QEMU opens the paths itself */
	const struct proc_ids *run_as;    /* NULL: root, without capabilities */
};

/* NULL-terminated argv; free with qemu_argv_free. */
int qemu_build_argv(const struct qemu_spec *spec, char ***argv_out, husk_err *err);
void qemu_argv_free(char **argv);
/*
 * Binds+listens spec->qmp_socket (replacing a stale one), spawns QEMU with
 * stdout/stderr to log_fd (-1: /dev/null). The vsock/virtiofs backends must be listening.
 */
int qemu_start(const struct qemu_spec *spec, int log_fd, struct proc *out, husk_err *err);
/* First line of `<binary> --version`, e.g. "QEMU emulator version 7.2.22 (...)". */
int qemu_version(const char *binary, char *buf, size_t len, husk_err *err);
/*
 * Checks that binary has every device husk's command line may name (`-device help`): 0, or -1
 * with *err listing the missing ones. The names checked, space-separated, into list.
 */
int qemu_check_devices(const char *binary, char *list, size_t len, husk_err *err);

/* QMP client: lines capped at QMP_MAX_LINE, every call bounded by timeout_ms. */
#define QMP_MAX_LINE (64 * 1024)

struct qmp {
	int fd;
	char *buf; /* QMP_MAX_LINE + 1 bytes */
	size_t len;
};

/* Connects, reads the greeting, negotiates qmp_capabilities. */
int qmp_connect(struct qmp *q, const char *path, int timeout_ms, husk_err *err);
void qmp_close(struct qmp *q);
/*
 * Executes cmd with args (may be NULL; not consumed). *ret (if not NULL) gets the
 * "return" value (caller json_object_put()s it). A QMP "error" reply is an error
 * naming its desc. Asynchronous events are skipped.
 */
int qmp_execute(struct qmp *q, const char *cmd, json_object *args, json_object **ret,
                int timeout_ms, husk_err *err);
/* Hands fd to QEMU under name (getfd), for a later netdev_add or the like to name. */
int qmp_getfd(struct qmp *q, const char *name, int fd, int timeout_ms, husk_err *err);
/*
 * Hot-plugs nic as the VM's NIC number index (getfd, netdev_add net<index>, device_add
 * virtio-net-pci nic<index> with its MAC), as the command line makes one at boot.
 */
int qmp_add_nic(struct qmp *q, size_t index, const struct qemu_nic *nic, int timeout_ms,
                husk_err *err);
/* "running", "paused", "shutdown", ... */
int qmp_query_status(struct qmp *q, char *status, size_t len, int timeout_ms, husk_err *err);
int qmp_stop(struct qmp *q, int timeout_ms, husk_err *err);
int qmp_cont(struct qmp *q, int timeout_ms, husk_err *err);
/* Sends quit; QEMU may close the socket before answering, which counts as success. */
int qmp_quit(struct qmp *q, int timeout_ms, husk_err *err);

#endif
