#include "qemu.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"

#define QEMU_MAX_ARGS (64 + 4 * QEMU_NICS_MAX)

struct argv_buf {
	char *v[QEMU_MAX_ARGS + 1];
	size_t n;
	int failed;
};

static void add(struct argv_buf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct argv_buf *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	if (a->failed)
		return;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0 || a->n == QEMU_MAX_ARGS) {
		free(r < 0 ? NULL : s);
		a->failed = 1;
		return;
	}
	a->v[a->n++] = s;
}

/* QEMU option values separate with ','; a literal comma is written ",,". */
static char *opt_escape(const char *s)
{
	size_t n = strlen(s), commas = 0;
	for (size_t i = 0; i < n; i++)
		commas += s[i] == ',';
	char *out = malloc(n + commas + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		*o++ = s[i];
		if (s[i] == ',')
			*o++ = ',';
	}
	*o = '\0';
	return out;
}

/* Adds "<prefix><escaped path><suffix>". */
static void add_path_opt(struct argv_buf *a, const char *prefix, const char *path,
                         const char *suffix)
{
	cleanup_free char *esc = opt_escape(path);
	if (!esc) {
		a->failed = 1;
		return;
	}
	add(a, "%s%s%s", prefix, esc, suffix);
}

static int tag_ok(const char *tag)
{
	size_t n = strlen(tag);
	if (n == 0 || n > 36) /* virtio-fs tags are at most 36 bytes */
		return 0;
	return strspn(tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static int check_spec(const struct qemu_spec *s, husk_err *err)
{
	if (!s->binary || !s->kernel || !s->cmdline || s->console_fd < 0)
		return husk_error_set(err, EINVAL,
		                      "qemu: binary, kernel, cmdline and console "
		                      "socket are required");
	if (s->vcpus < 1 || s->vcpus > 64)
		return husk_error_set(err, EINVAL, "qemu: vcpus %u not in 1..64", s->vcpus);
	if (s->memory_mib < 64 || s->memory_mib > 65536)
		return husk_error_set(err, EINVAL, "qemu: memory %u MiB not in 64..65536",
		                      s->memory_mib);
	if (s->accel != ACCEL_KVM && s->accel != ACCEL_TCG)
		return husk_error_set(err, EINVAL, "qemu: accel must be resolved to kvm or tcg");
	if (s->vsock == QEMU_VSOCK_VHOST_USER && !s->vsock_socket)
		return husk_error_set(err, EINVAL, "qemu: vhost-user vsock needs a socket path");
	if (s->vsock == QEMU_VSOCK_KERNEL && (s->guest_cid < 3 || s->guest_cid == UINT32_MAX))
		return husk_error_set(err, EINVAL, "qemu: guest cid %u is reserved", s->guest_cid);
	if (s->virtiofs_socket && (!s->virtiofs_tag || !tag_ok(s->virtiofs_tag)))
		return husk_error_set(err, EINVAL, "qemu: bad virtio-fs tag");
	if (s->nnics > QEMU_NICS_MAX)
		return husk_error_set(err, EINVAL, "qemu: %zu NICs, at most %d", s->nnics,
		                      QEMU_NICS_MAX);
	return 0;
}

static void add_machine(struct argv_buf *a, const struct qemu_spec *s)
{
	if (s->name) {
		add(a, "-name");
		add_path_opt(a, "guest=", s->name, "");
	}
	/*
	 * QEMU's seccomp filter, installed before the guest runs: no obsolete system calls,
	 * no set*uid/gid, no fork/exec, no scheduler, affinity or memory-policy changes.
	 */
	add(a, "-sandbox");
	add(a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	add(a, "-nodefaults");
	add(a, "-no-user-config");
	add(a, "-display");
	add(a, "none");
	add(a, "-machine");
	add(a, "pc,memory-backend=mem");
	add(a, "-accel");
	/*
	 * Several vCPUs under multi-threaded TCG now and then livelock the guest (both vCPU
	 * threads spinning, an RCU stall, the agent silent: docs/qemu.md); one thread runs them
	 * all.
	 */
	if (s->accel == ACCEL_KVM)
		add(a, "kvm");
	else
		add(a, s->vcpus > 1 ? "tcg,tb-size=64,thread=single" : "tcg,tb-size=64");
	add(a, "-cpu");
	/* TCG runs rep movsb one byte per loop: without erms the guest copies by the word */
	add(a, s->accel == ACCEL_KVM ? "host" : "max,-erms");
	add(a, "-smp");
	add(a, "%u", s->vcpus);
	add(a, "-m");
	add(a, "%uM", s->memory_mib);
	/* vhost-user backends map guest RAM, so it must be a shared fd */
	add(a, "-object");
	add(a, "memory-backend-memfd,id=mem,size=%uM,share=on", s->memory_mib);
	add(a, "-no-reboot");
}

static void add_chardevs(struct argv_buf *a, const struct qemu_spec *s)
{
	add(a, "-chardev");
	add(a, "socket,id=console,fd=%d", QEMU_CONSOLE_CHILD_FD);
	add(a, "-serial");
	add(a, "chardev:console");
	add(a, "-chardev");
	add(a, "socket,id=qmp,fd=%d,server=on,wait=off", QEMU_QMP_CHILD_FD);
	add(a, "-mon");
	add(a, "chardev=qmp,mode=control");
}

static void add_devices(struct argv_buf *a, const struct qemu_spec *s)
{
	if (s->vsock == QEMU_VSOCK_VHOST_USER) {
		/* no reconnect=: it breaks vhost-user-vsock realize on QEMU 7.2 */
		add(a, "-chardev");
		if (s->opened)
			add(a, "socket,id=vsock,fd=%d", QEMU_VSOCK_CHILD_FD);
		else
			add_path_opt(a, "socket,id=vsock,path=", s->vsock_socket, "");
		add(a, "-device");
		add(a, "vhost-user-vsock-pci,chardev=vsock");
	} else if (s->vsock == QEMU_VSOCK_KERNEL) {
		add(a, "-device");
		add(a, "vhost-vsock-pci,guest-cid=%u", s->guest_cid);
	}
	if (s->virtiofs_socket) {
		add(a, "-chardev");
		if (s->opened)
			add(a, "socket,id=fs0,fd=%d", QEMU_VIRTIOFS_CHILD_FD);
		else
			add_path_opt(a, "socket,id=fs0,path=", s->virtiofs_socket, "");
		add(a, "-device");
		add(a, "vhost-user-fs-pci,chardev=fs0,tag=%s", s->virtiofs_tag);
	}
	add(a, "-device");
	add(a, "virtio-balloon-pci,free-page-reporting=on");
}

static void add_nics(struct argv_buf *a, const struct qemu_spec *s)
{
	for (size_t i = 0; i < s->nnics; i++) {
		const struct qemu_nic *n = &s->nics[i];
		const uint8_t *m = n->mac;
		add(a, "-netdev");
		if (n->vhost_fd >= 0)
			add(a, "tap,id=net%zu,fd=%d,vhost=on,vhostfd=%d", i,
			    QEMU_NIC_TAP_CHILD_FD(i), QEMU_NIC_VHOST_CHILD_FD(i));
		else
			add(a, "tap,id=net%zu,fd=%d,vhost=off", i, QEMU_NIC_TAP_CHILD_FD(i));
		add(a, "-device");
		add(a, "virtio-net-pci,netdev=net%zu,mac=%02x:%02x:%02x:%02x:%02x:%02x", i, m[0],
		    m[1], m[2], m[3], m[4], m[5]);
	}
}

static void add_boot(struct argv_buf *a, const struct qemu_spec *s)
{
	add(a, "-kernel");
	if (s->opened)
		add(a, "/proc/self/fd/%d", QEMU_KERNEL_CHILD_FD);
	else
		add(a, "%s", s->kernel);
	if (s->initrd) {
		add(a, "-initrd");
		if (s->opened)
			add(a, "/proc/self/fd/%d", QEMU_INITRD_CHILD_FD);
		else
			add(a, "%s", s->initrd);
	}
	/*
	 * Under TCG a rep movsq is one translated iteration per word too; without rep_good
	 * the guest kernel's memcpy and user copies use its unrolled loops (2.4x and 1.4x
	 * the network throughput, bench/RESULTS.md). clearcpuid taints the kernel (4).
	 */
	add(a, "-append");
	add(a, "%s%s", s->cmdline, s->accel == ACCEL_TCG ? " clearcpuid=rep_good" : "");
}

int qemu_build_argv(const struct qemu_spec *spec, char ***argv_out, husk_err *err)
{
	struct argv_buf a = {0};
	if (check_spec(spec, err) < 0)
		return -1;
	add(&a, "%s", spec->binary);
	add_machine(&a, spec);
	add_chardevs(&a, spec);
	add_devices(&a, spec);
	add_nics(&a, spec);
	add_boot(&a, spec);
	char **v = a.failed ? NULL : calloc(a.n + 1, sizeof(*v));
	if (!v) {
		for (size_t i = 0; i < a.n; i++)
			free(a.v[i]);
		return husk_error_set(err, ENOMEM, "qemu: command line");
	}
	memcpy(v, a.v, a.n * sizeof(*v));
	*argv_out = v;
	return 0;
}

void qemu_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

int qemu_start(const struct qemu_spec *spec, int log_fd, struct proc *out, husk_err *err)
{
	char **argv = NULL;
	proc_init(out);
	if (!spec->qmp_socket)
		return husk_error_set(err, EINVAL, "qemu: QMP socket path required");
	if (qemu_build_argv(spec, &argv, err) < 0)
		return -1;
	cleanup_close int qmp = unix_listen(spec->qmp_socket, 4, 0, err);
	if (qmp < 0) {
		qemu_argv_free(argv);
		return husk_error_prefix(err, "qemu");
	}
	struct proc_fd_map fds[6 + 2 * QEMU_NICS_MAX] = {{qmp, QEMU_QMP_CHILD_FD},
	                                                 {spec->console_fd, QEMU_CONSOLE_CHILD_FD}};
	size_t nfds = 2;
	const struct qemu_opened *o = spec->opened;
	const struct proc_fd_map opened[] = {{o ? o->vsock : -1, QEMU_VSOCK_CHILD_FD},
	                                     {o ? o->virtiofs : -1, QEMU_VIRTIOFS_CHILD_FD},
	                                     {o ? o->kernel : -1, QEMU_KERNEL_CHILD_FD},
	                                     {o ? o->initrd : -1, QEMU_INITRD_CHILD_FD}};
	for (size_t i = 0; i < ARRAY_SIZE(opened); i++)
		if (opened[i].parent_fd >= 0)
			fds[nfds++] = opened[i];
	for (size_t i = 0; i < spec->nnics; i++) {
		fds[nfds++] = (struct proc_fd_map){spec->nics[i].tap_fd, QEMU_NIC_TAP_CHILD_FD(i)};
		if (spec->nics[i].vhost_fd >= 0)
			fds[nfds++] = (struct proc_fd_map){spec->nics[i].vhost_fd,
			                                   QEMU_NIC_VHOST_CHILD_FD(i)};
	}
	struct proc_spec ps = {.argv = (const char *const *)argv,
	                       .cwd = spec->dir,
	                       .fds = fds,
	                       .nfds = nfds,
	                       .stdin_fd = -1,
	                       .stdout_fd = log_fd,
	                       .stderr_fd = log_fd,
	                       /* the taps come open; /dev/kvm is root's, or run_as's group's */
	                       .least_privilege = true,
	                       .keep_caps = 0,
	                       .ids = spec->run_as};
	int r = proc_spawn(&ps, out, err);
	qemu_argv_free(argv);
	if (r < 0)
		unlink(spec->qmp_socket);
	return r;
}

int qemu_version(const char *binary, char *buf, size_t len, husk_err *err)
{
	const char *argv[] = {binary, "--version", NULL};
	return proc_first_line(argv, 5000, buf, len, err);
}

/* what add_devices and add_nics may ask for */
static const char *const devices[] = {"vhost-user-vsock-pci", "vhost-vsock-pci",
                                      "vhost-user-fs-pci", "virtio-balloon-pci", "virtio-net-pci"};

/* QEMU 7.2's -device help lists 'name "virtio-net-pci", bus PCI, ...': about 20 KiB */
#define DEVICE_HELP_MAX (256 * 1024)

int qemu_check_devices(const char *binary, char *list, size_t len, husk_err *err)
{
	const char *argv[] = {binary, "-nodefaults", "-machine", "none", "-device", "help", NULL};
	cleanup_free char *help = malloc(DEVICE_HELP_MAX);
	if (!help)
		return husk_error_set(err, ENOMEM, "qemu -device help");
	if (proc_output(argv, 5000, help, DEVICE_HELP_MAX, err) < 0)
		return -1;
	char missing[256] = "", want[64];
	size_t o = 0, m = 0;
	list[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		snprintf(want, sizeof(want), "name \"%s\"", devices[i]);
		if (!strstr(help, want))
			m += (size_t)snprintf(missing + m, sizeof(missing) - m, " %s", devices[i]);
		if (o < len)
			o += (size_t)snprintf(list + o, len - o, "%s%s", o ? " " : "", devices[i]);
	}
	if (m)
		return husk_error_set(err, 0, "%s: no device%s", binary, missing);
	return 0;
}
