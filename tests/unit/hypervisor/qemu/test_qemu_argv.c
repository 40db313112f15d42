/*
 * QEMU argv builder, plus the driver against real processes: QMP against a
 * real QEMU (TCG), and QEMU + virtiofsd with the guest kernel when it is built.
 */
#include "tests/unit/harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "hypervisor/qemu/qemu.h"
#include "hypervisor/qemu/virtiofsd.h"

static struct qemu_spec base_spec(void)
{
	return (struct qemu_spec){
	    .binary = "qemu-system-x86_64",
	    .kernel = "/g/vmlinuz",
	    .initrd = "/g/initrd.img",
	    .cmdline = "console=ttyS0 panic=-1 quiet husk.log=warn",
	    .vcpus = 2,
	    .memory_mib = 256,
	    .accel = ACCEL_TCG,
	    .vsock = QEMU_VSOCK_VHOST_USER,
	    .vsock_socket = "/run/husk/a/vhost-vsock.sock",
	    .virtiofs_socket = "/run/husk/a/virtiofsd.sock",
	    .virtiofs_tag = "husk",
	    .console_fd = STDERR_FILENO, /* open, for the start tests' fd mapping */
	    .qmp_socket = "/run/husk/a/qmp.sock",
	};
}

/* argv joined with single spaces (args here contain no spaces except -append's) */
static char *joined(const struct qemu_spec *spec, husk_err *err)
{
	char **argv = NULL;
	if (qemu_build_argv(spec, &argv, err) < 0)
		return NULL;
	size_t len = 1;
	for (char **p = argv; *p; p++)
		len += strlen(*p) + 1;
	char *out = calloc(1, len);
	for (char **p = argv; out && *p; p++) {
		strcat(out, *p);
		if (p[1])
			strcat(out, " ");
	}
	qemu_argv_free(argv);
	return out;
}

TEST(argv_for_vhost_user_vsock_and_virtiofs)
{
	cleanup_error husk_err err = NULL;
	struct qemu_spec s = base_spec();
	cleanup_free char *got = joined(&s, &err);
	static const char want[] =
	    "qemu-system-x86_64 "
	    "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny "
	    "-nodefaults -no-user-config -display none "
	    "-machine pc,memory-backend=mem -accel tcg,tb-size=64,thread=single -cpu max,-erms "
	    "-smp 2 "
	    "-m 256M -object memory-backend-memfd,id=mem,size=256M,share=on "
	    "-no-reboot -chardev socket,id=console,fd=4 "
	    "-serial chardev:console -chardev socket,id=qmp,fd=3,server=on,wait=off "
	    "-mon chardev=qmp,mode=control "
	    "-chardev socket,id=vsock,path=/run/husk/a/vhost-vsock.sock "
	    "-device vhost-user-vsock-pci,chardev=vsock "
	    "-chardev socket,id=fs0,path=/run/husk/a/virtiofsd.sock "
	    "-device vhost-user-fs-pci,chardev=fs0,tag=husk "
	    "-device virtio-balloon-pci,free-page-reporting=on "
	    "-kernel /g/vmlinuz -initrd /g/initrd.img "
	    "-append console=ttyS0 panic=-1 quiet husk.log=warn clearcpuid=rep_good";
	if (!got || strcmp(got, want) != 0)
		fprintf(stderr, "  got:  %s\n  want: %s\n", got ? got : husk_error_msg(err), want);
	CHECK(got && strcmp(got, want) == 0);
	CHECK(!strstr(got, "reconnect"));
}

TEST(one_vcpu_keeps_multi_threaded_tcg_and_kvm_takes_no_tcg_option)
{
	cleanup_error husk_err err = NULL;
	struct qemu_spec s = base_spec();
	s.vcpus = 1;
	cleanup_free char *tcg = joined(&s, &err);
	CHECK(tcg && strstr(tcg, " -accel tcg,tb-size=64 -cpu max,-erms -smp 1 "));
	s.vcpus = 2;
	s.accel = ACCEL_KVM;
	cleanup_free char *kvm = joined(&s, &err);
	CHECK(kvm && strstr(kvm, " -accel kvm -cpu host -smp 2 "));
}

TEST(argv_for_a_qemu_given_its_sockets_and_image_open)
{
	cleanup_error husk_err err = NULL;
	struct qemu_spec s = base_spec();
	const struct qemu_opened opened = {.vsock = 10, .virtiofs = 11, .kernel = 12, .initrd = 13};
	s.opened = &opened;
	cleanup_free char *got = joined(&s, &err);
	CHECK(got);
	CHECK(strstr(
	    got, " -chardev socket,id=vsock,fd=13 -device vhost-user-vsock-pci,chardev=vsock "));
	CHECK(strstr(
	    got, " -chardev socket,id=fs0,fd=14 -device vhost-user-fs-pci,chardev=fs0,tag=husk "));
	CHECK(strstr(got, " -kernel /proc/self/fd/15 -initrd /proc/self/fd/16 "));
	CHECK(!strstr(got, "/run/husk/a/"));
	CHECK(!strstr(got, "/g/"));
}

TEST(argv_for_kvm_and_kernel_vsock)
{
	cleanup_error husk_err err = NULL;
	struct qemu_spec s = base_spec();
	s.accel = ACCEL_KVM;
	s.vsock = QEMU_VSOCK_KERNEL;
	s.guest_cid = 7;
	s.virtiofs_socket = NULL;
	s.initrd = NULL;
	cleanup_free char *got = joined(&s, &err);
	CHECK(got);
	CHECK(strstr(got, " -accel kvm -cpu host "));
	CHECK(!strstr(got, "clearcpuid")); /* the real CPU's string copies are fast */
	CHECK(strstr(got, " -device vhost-vsock-pci,guest-cid=7 "));
	CHECK(!strstr(got, "vhost-user"));
	CHECK(!strstr(got, "-initrd"));
}

TEST(commas_in_paths_are_escaped)
{
	cleanup_error husk_err err = NULL;
	struct qemu_spec s = base_spec();
	s.name = "/run/a,b/";
	s.vsock_socket = "/run/a,b/v.sock";
	cleanup_free char *got = joined(&s, &err);
	CHECK(strncmp(got, "qemu-system-x86_64 -name guest=/run/a,,b/ -sandbox ", 51) == 0);
	CHECK(strstr(got, "socket,id=vsock,path=/run/a,,b/v.sock "));
}

TEST(argv_for_tap_nics_with_and_without_vhost_net)
{
	cleanup_error husk_err err = NULL;
	struct qemu_spec s = base_spec();
	const struct qemu_nic nics[] = {
	    {.tap_fd = 9, .vhost_fd = -1, .mac = {2, 0x42, 0xac, 0x11, 0, 2}},
	    {.tap_fd = 10, .vhost_fd = 11, .mac = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}}};
	s.nics = nics;
	s.nnics = 2;
	cleanup_free char *got = joined(&s, &err);
	CHECK(strstr(got, "-device virtio-balloon-pci,free-page-reporting=on "
	                  "-netdev tap,id=net0,fd=5,vhost=off "
	                  "-device virtio-net-pci,netdev=net0,mac=02:42:ac:11:00:02 "
	                  "-netdev tap,id=net1,fd=7,vhost=on,vhostfd=8 "
	                  "-device virtio-net-pci,netdev=net1,mac=aa:bb:cc:dd:ee:ff -kernel "));
	s.nnics = QEMU_NICS_MAX + 1;
	char **argv = NULL;
	CHECK_INT(qemu_build_argv(&s, &argv, &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "NICs, at most"));
}

TEST(bad_specs_are_rejected)
{
	cleanup_error husk_err err = NULL;
	char **argv = NULL;
	struct qemu_spec s = base_spec();
	s.vcpus = 0;
	CHECK_INT(qemu_build_argv(&s, &argv, &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "qemu: vcpus 0 not in 1..64: Invalid argument");
	s = base_spec();
	s.virtiofs_tag = "hu,sk";
	CHECK_INT(qemu_build_argv(&s, &argv, &err), ==, -1);
	s = base_spec();
	s.vsock_socket = NULL;
	CHECK_INT(qemu_build_argv(&s, &argv, &err), ==, -1);
	s = base_spec();
	s.accel = ACCEL_AUTO;
	CHECK_INT(qemu_build_argv(&s, &argv, &err), ==, -1);
	s = base_spec();
	s.vsock = QEMU_VSOCK_KERNEL;
	s.guest_cid = 2;
	CHECK_INT(qemu_build_argv(&s, &argv, &err), ==, -1);
	CHECK(argv == NULL);
}

TEST(version_lines)
{
	cleanup_error husk_err err = NULL;
	char buf[256];
	CHECK_INT(qemu_version("qemu-system-x86_64", buf, sizeof(buf), &err), ==, 0);
	CHECK(strncmp(buf, "QEMU emulator version ", 22) == 0);
	CHECK_INT(virtiofsd_version("/usr/lib/qemu/virtiofsd", buf, sizeof(buf), &err), ==, 0);
	CHECK(strncmp(buf, "virtiofsd version ", 18) == 0);
	CHECK_INT(qemu_version("/nonexistent/qemu", buf, sizeof(buf), &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "exec /nonexistent/qemu: No such file or directory");
}

static char tmp[] = "/tmp/husk-test-qemu-XXXXXX";

static const char *tmp_path(char *buf, size_t len, const char *name)
{
	if (tmp[strlen(tmp) - 1] == 'X' && !mkdtemp(tmp))
		abort();
	snprintf(buf, len, "%s/%s", tmp, name);
	return buf;
}

/* QMP against a real QEMU with no guest at all (firmware idles): stop, cont, quit. */
TEST(qmp_drives_a_real_qemu)
{
	cleanup_error husk_err err = NULL;
	char sock[128];
	tmp_path(sock, sizeof(sock), "qmp-bare.sock");
	struct qemu_spec s = base_spec();
	s.qmp_socket = sock;
	struct proc probe;
	s.binary = "/nonexistent/qemu";
	CHECK_INT(qemu_start(&s, -1, &probe, &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "exec /nonexistent/qemu"));
	CHECK(access(sock, F_OK) != 0); /* no stale socket left behind */
	/* the rest with a kernel-less QEMU that just idles in firmware */
	const char *argv[] = {"qemu-system-x86_64",
	                      "-nodefaults",
	                      "-no-user-config",
	                      "-display",
	                      "none",
	                      "-accel",
	                      "tcg,tb-size=16",
	                      "-m",
	                      "64M",
	                      "-chardev",
	                      "socket,id=qmp,fd=3,server=on,wait=off",
	                      "-mon",
	                      "chardev=qmp,mode=control",
	                      NULL};
	/* bound here and inherited, as qemu_start does: listening before QEMU runs */
	cleanup_close int listener = unix_listen(sock, 1, 0, &err);
	CHECK(listener >= 0);
	struct proc_fd_map fds[] = {{listener, 3}};
	struct proc_spec ps = {
	    .argv = argv, .fds = fds, .nfds = 1, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
	struct proc p;
	CHECK_INT(proc_spawn(&ps, &p, &err), ==, 0);
	struct qmp q;
	int r = qmp_connect(&q, sock, 10000, &err);
	if (r < 0) {
		proc_kill_and_reap(&p, SIGKILL, 0);
		unlink(sock);
		CHECK_STR(husk_error_msg(err), "");
	}
	char st[32] = "";
	CHECK_INT(qmp_query_status(&q, st, sizeof(st), 5000, &err), ==, 0);
	CHECK_STR(st, "running");
	CHECK_INT(qmp_stop(&q, 5000, &err), ==, 0);
	CHECK_INT(qmp_query_status(&q, st, sizeof(st), 5000, &err), ==, 0);
	CHECK_STR(st, "paused");
	CHECK_INT(qmp_cont(&q, 5000, &err), ==, 0);
	CHECK_INT(qmp_execute(&q, "no-such-command", NULL, NULL, 5000, &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "QMP no-such-command: The command no-such-command has "
	                                  "not been found"));
	CHECK_INT(qmp_quit(&q, 5000, &err), ==, 0);
	qmp_close(&q);
	int done = proc_wait_status(&p, 10000, &err);
	proc_kill_and_reap(&p, SIGKILL, 0);
	unlink(sock);
	CHECK_INT(done, ==, 1);
	CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
}

/* virtiofsd gets the socket we bound; one that cannot serve exits, naming why in its log. */
TEST(virtiofsd_serves_our_socket_and_logs_its_failure)
{
	cleanup_error husk_err err = NULL;
	char sock[128], log[128], text[4096] = "";
	struct virtiofsd_spec v = {.binary = "/nonexistent/virtiofsd",
	                           .socket_path = tmp_path(sock, sizeof(sock), "bad-fs.sock"),
	                           .shared_dir = "/nonexistent/shared",
	                           .log_path = tmp_path(log, sizeof(log), "bad-virtiofsd.log")};
	struct proc p;
	CHECK_INT(virtiofsd_start(&v, &p, &err), ==, -1);
	CHECK_STR(husk_error_msg(err),
	          "virtiofsd: exec /nonexistent/virtiofsd: No such file or directory");
	CHECK(access(sock, F_OK) != 0); /* no stale socket left behind */
	v.binary = "/usr/lib/qemu/virtiofsd";
	cleanup_close int listener = virtiofsd_start(&v, &p, &err);
	CHECK_INT(listener, >=, 0);
	struct stat st;
	CHECK(lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK_INT(proc_wait_status(&p, 10000, &err), ==, 1);
	proc_release(&p);
	CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) != 0);
	int fd = open(log, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, text, sizeof(text) - 1);
		text[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	unlink(log);
	unlink(sock);
	CHECK(strstr(text, "/nonexistent/shared"));
}

static const char *guest_kernel(void)
{
	const char *k = getenv("HUSK_TEST_KERNEL");
	return k ? k : "build/guest/vmlinuz";
}

/*
 * The real driver path: virtiofsd on the socket we bound, QEMU working in
 * that directory and given the socket's name only (as husk's sandbox does), boots
 * the guest kernel without an initrd, the kernel panics, -no-reboot ends QEMU,
 * and virtiofsd exits on its own once QEMU is gone.
 */
TEST(qemu_with_virtiofsd_boots_and_exits)
{
	if (access(guest_kernel(), R_OK) != 0) {
		fprintf(stderr, "  skipped: no guest kernel at %s (make all)\n", guest_kernel());
		return;
	}
	cleanup_error husk_err err = NULL;
	char shared[128], fsock[128], flog[128], qsock[128], qlog[128];
	int con[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) == 0);
	cleanup_close int con_ours = con[0];
	tmp_path(shared, sizeof(shared), "shared");
	CHECK(mkdir(shared, 0700) == 0);
	struct virtiofsd_spec v = {.binary = "/usr/lib/qemu/virtiofsd",
	                           .socket_path = tmp_path(fsock, sizeof(fsock), "virtiofsd.sock"),
	                           .shared_dir = shared,
	                           .log_path = tmp_path(flog, sizeof(flog), "virtiofsd.log")};
	struct proc fs, vm;
	proc_init(&vm);
	cleanup_close int listener = virtiofsd_start(&v, &fs, &err);
	int r = listener < 0 ? -1 : 0;
	struct qemu_spec s = base_spec();
	cleanup_free char *kernel = realpath(guest_kernel(), NULL); /* QEMU works in tmp */
	s.kernel = kernel;
	s.initrd = NULL;
	s.vcpus = 1;
	s.vsock = QEMU_VSOCK_NONE;
	s.dir = tmp;
	s.virtiofs_socket = "virtiofsd.sock";
	s.console_fd = con[1];
	s.qmp_socket = tmp_path(qsock, sizeof(qsock), "qmp.sock");
	cleanup_close int log = open(tmp_path(qlog, sizeof(qlog), "qemu.log"),
	                             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (r == 0)
		r = qemu_start(&s, log, &vm, &err);
	close(con[1]); /* QEMU's end: EOF once QEMU is gone */
	struct qmp q = {.fd = -1};
	char st[32] = "";
	if (r == 0 && qmp_connect(&q, qsock, 10000, &err) == 0)
		qmp_query_status(&q, st, sizeof(st), 5000, &err);
	qmp_close(&q);
	int vm_done = r == 0 ? proc_wait_status(&vm, 60000, &err) : 0;
	int fs_done = r == 0 ? proc_wait_status(&fs, 10000, &err) : 0;
	proc_kill_and_reap(&vm, SIGKILL, 0);
	proc_kill_and_reap(&fs, SIGKILL, 0);
	char console[65536] = "";
	size_t have = 0;
	ssize_t n;
	while (have < sizeof(console) - 1 &&
	       (n = read(con_ours, console + have, sizeof(console) - 1 - have)) > 0)
		have += (size_t)n;
	console[have] = '\0';
	const char *files[] = {fsock, flog, qsock, qlog};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		unlink(files[i]);
	rmdir(shared);
	CHECK_STR(r == 0 ? "" : husk_error_msg(err), "");
	CHECK_STR(st, "running");
	CHECK_INT(vm_done, ==, 1);
	CHECK(WIFEXITED(vm.status));
	CHECK_INT(fs_done, ==, 1); /* virtiofsd left by itself when QEMU went away */
	CHECK(strstr(console, "Kernel panic"));
}

TEST(cleanup_tmpdir)
{
	rmdir(tmp);
	CHECK(access(tmp, F_OK) != 0 || tmp[strlen(tmp) - 1] == 'X');
}
