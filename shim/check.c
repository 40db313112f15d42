/*
 * husk check: what this host offers (acceleration, vsock, QEMU, virtiofsd, guest image, and
 * what a pod's network needs: tun, tc redirect; vhost-net; the host cgroups, room in /run,
 * containerd's husk runtime); with --boot, a timed test boot of the guest image.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/clock.h"
#include "shim/lib/config.h"
#include "husk.h"
#include "hypervisor/qemu/accel.h"
#include "hypervisor/qemu/qemu.h"
#include "hypervisor/qemu/virtiofsd.h"
#include "hypervisor/vsock/dial.h"
#include "netlink/tap.h"
#include "shim/lib/bundle.h"
#include "shim/lib/hostcg.h"
#include "shim/lib/podnet.h"
#include "shim/lib/sandbox.h"

/* Prints one "name: detail" line; returns 1 if the item is missing and required. */
static int report(const char *name, bool ok, bool required, const char *detail)
{
	printf("%-13s %s%s\n", name, ok ? "" : (required ? "MISSING: " : "no: "), detail);
	return !ok && required;
}

static int report_file(const char *name, const char *path)
{
	char detail[512];
	bool ok = access(path, R_OK) == 0;
	snprintf(detail, sizeof(detail), "%s%s%s", path, ok ? "" : ": ", ok ? "" : strerror(errno));
	return report(name, ok, true, detail);
}

static int report_version(const char *name, const char *binary,
                          int (*version)(const char *, char *, size_t, husk_err *))
{
	char buf[256], detail[600];
	cleanup_error husk_err err = NULL;
	bool ok = version(binary, buf, sizeof(buf), &err) == 0;
	snprintf(detail, sizeof(detail), "%s", ok ? buf : husk_error_msg(err));
	return report(name, ok, true, detail);
}

static int report_accel(const struct husk_config *cfg)
{
	struct accel_choice c;
	cleanup_error husk_err err = NULL;
	char detail[300];
	if (accel_detect(cfg->accel, &c, &err) < 0)
		return report("kvm", false, true, husk_error_msg(err));
	if (c.accel == ACCEL_KVM)
		return report("kvm", true, false, "usable");
	snprintf(detail, sizeof(detail), "%s; guests run under TCG",
	         c.reason[0] ? c.reason : "disabled by configuration");
	return report("kvm", false, false, detail);
}

static int report_vsock(const struct husk_config *cfg)
{
	bool vhost = vsock_transport_detect() == VSOCK_VHOST;
	int missing = report("vhost-vsock", vhost, cfg->vsock == CONFIG_VSOCK_VHOST,
	                     vhost ? "/dev/vhost-vsock" : "/dev/vhost-vsock absent");
	if (cfg->vsock != CONFIG_VSOCK_VHOST && !vhost)
		missing |= report_file("husk-vsockd", cfg->vsockd);
	return missing;
}

/* Only a spec naming a network namespace needs these: not required. */
static void report_network(void)
{
	char why[300];
	cleanup_error husk_err err = NULL;
	bool ok = tap_probe(&err) == 0;
	report("tun", ok, false, ok ? "/dev/net/tun" : husk_error_msg(err));
	husk_error_free(&err);
	int fd = vhost_net_open(why, sizeof(why));
	const char *cause = strstr(why, "unusable: ");
	report("vhost-net", fd >= 0, false, fd >= 0 || !cause ? why : cause + 10);
	if (fd >= 0)
		close(fd);
	ok = podnet_probe_tc(&err) == 0;
	report("tc redirect", ok, false,
	       ok ? "ingress qdisc, u32 filter, mirred action" : husk_error_msg(err));
}

/*
 * The hierarchies hostcg would put a sandbox's host processes in (planned for a cgroupsPath,
 * nothing made): v2's controllers, or v1's hierarchies. Not required (no cgroupsPath, no cgroup).
 */
static void report_cgroup(void)
{
	char detail[512];
	struct hostcg cg;
	cleanup_error husk_err err = NULL;
	if (hostcg_plan_self(&cg, "{}", 2, "husk-check", false, &err) < 0) {
		report("cgroup", false, false, husk_error_msg(err));
		return;
	}
	size_t o = (size_t)snprintf(detail, sizeof(detail), "%s", cg.v2 ? "v2:" : "v1:");
	for (size_t i = 0; i < cg.n && o < sizeof(detail); i++) {
		char path[PATH_MAX];
		cleanup_free char *ctrl = NULL;
		cleanup_error husk_err unread = NULL;
		size_t len = 0;
		snprintf(path, sizeof(path), "%s/cgroup.controllers", cg.h[i].mount);
		if (cg.v2 && bundle_read_file(path, 4096, &ctrl, &len, &unread) == 0) {
			ctrl[len] = '\0'; /* bundle_read_file leaves room for it */
			ctrl[strcspn(ctrl, "\n")] = '\0';
			o += (size_t)snprintf(detail + o, sizeof(detail) - o, " %s", ctrl);
		} else if (!cg.v2) {
			o += (size_t)snprintf(detail + o, sizeof(detail) - o, " %s",
			                      cg.h[i].controllers[0] ? cg.h[i].controllers
			                                             : "cgroup2");
		}
	}
	report("cgroup", cg.n > 0, false, cg.n > 0 ? detail : "no cgroup hierarchy mounted");
	hostcg_free(&cg);
}

/* Each sandbox keeps its state in /run: console.log alone may take 1 MiB. */
#define CHECK_RUN_MIN_MIB 16

static int report_run_space(void)
{
	struct statvfs vfs;
	char detail[300];
	if (statvfs("/run", &vfs) < 0) {
		snprintf(detail, sizeof(detail), "/run: %s", strerror(errno));
		return report("/run", false, true, detail);
	}
	unsigned long long mib = (unsigned long long)vfs.f_bavail * vfs.f_frsize >> 20;
	bool ok = mib >= CHECK_RUN_MIN_MIB;
	snprintf(detail, sizeof(detail), "%llu MiB free%s", mib,
	         ok ? "" : ": sandbox state (console.log up to 1 MiB each) needs more");
	return report("/run", ok, true, detail);
}

/* The directory of PATH holding an executable name, into dir; false if none does. */
static bool find_in_path(const char *name, char *dir, size_t len)
{
	const char *path = getenv("PATH");
	for (const char *p = path; p && *p;) {
		size_t n = strcspn(p, ":");
		char file[PATH_MAX];
		snprintf(file, sizeof(file), "%.*s/%s", (int)n, p, name);
		if (n && access(file, X_OK) == 0) {
			snprintf(dir, len, "%.*s", (int)n, p);
			return true;
		}
		p += n + (p[n] == ':');
	}
	return false;
}

/* containerd's config names husk's runtime and finds its shim (on PATH, as containerd does). */
static void report_containerd(void)
{
	static const char config[] = "/etc/containerd/config.toml";
	char detail[PATH_MAX + 200], dir[PATH_MAX];
	cleanup_free char *text = NULL;
	size_t len = 0;
	cleanup_error husk_err err = NULL;
	bool shim = find_in_path("containerd-shim-husk-v2", dir, sizeof(dir));
	bool read = bundle_read_file(config, 1 << 20, &text, &len, &err) == 0;
	bool named = read && memmem(text, len, "io.containerd.husk.v2", 21);
	if (!read)
		snprintf(detail, sizeof(detail),
		         "%s (add configs/containerd-husk.toml to use husk from "
		         "Kubernetes: docs/kubernetes.md)",
		         husk_error_msg(err));
	else if (!named)
		snprintf(detail, sizeof(detail),
		         "%s has no husk runtime (add configs/containerd-husk.toml: "
		         "docs/kubernetes.md)",
		         config);
	else if (!shim)
		snprintf(detail, sizeof(detail),
		         "%s names husk's runtime, but containerd-shim-husk-v2 is "
		         "not on PATH",
		         config);
	else
		snprintf(detail, sizeof(detail), "%s names husk's runtime; its shim is in %s",
		         config, dir);
	report("containerd", named && shim, false, detail);
}

/*
 * Boots the guest image in a sandbox of a temporary root (no container) until
 * the agent answers, and powers it off. Last: the sandbox's private mount
 * namespace is this process's from then on.
 */
static int report_boot(const struct husk_config *cfg)
{
	char root[] = "/tmp/husk-check.XXXXXX", detail[600];
	cleanup_error husk_err err = NULL;
	struct sandbox *sb = NULL;
	struct husk_loop *loop = husk_loop_new(&err);
	int64_t start = monotonic_ms();
	bool ok = loop && mkdtemp(root) && (sb = sandbox_create(loop, root, "check", cfg, &err)) &&
	          sandbox_boot(sb, &err) == 0;
	int64_t ms = monotonic_ms() - start;
	sandbox_destroy(sb);
	husk_loop_free(loop);
	rmdir(root);
	if (ok)
		snprintf(detail, sizeof(detail), "the agent answered %lld ms after the boot began",
		         (long long)ms);
	else
		snprintf(detail, sizeof(detail), "%s", err ? husk_error_msg(err) : strerror(errno));
	return report("boot", ok, true, detail);
}

int cmd_check(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"boot", no_argument, NULL, 'b'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	struct husk_config cfg = {0};
	bool boot = false;
	int c, missing = 0;

	while ((c = getopt_long(argc, argv, "+c:", opts, NULL)) != -1) {
		if (c == 'b') {
			boot = true;
		} else if (c == 'c') {
			config = optarg;
		} else {
			fprintf(stderr, "usage: husk check [--config FILE] [--boot]\n");
			return 2;
		}
	}
	if (config_load(config, &cfg, err) < 0) {
		husk_error_prefix(err, "check");
		return 1;
	}
	printf("%-13s %s\n", "config", cfg.source);
	missing += report_accel(&cfg);
	missing += report_vsock(&cfg);
	missing += report_version("qemu", cfg.qemu, qemu_version);
	missing += report_version("qemu devices", cfg.qemu, qemu_check_devices);
	missing += report_version("virtiofsd", cfg.virtiofsd, virtiofsd_version);
	missing += report_file("guest kernel", cfg.kernel);
	missing += report_file("guest initrd", cfg.initrd);
	report_network();
	report_cgroup();
	missing += report_run_space();
	report_containerd();
	/* a boot needs what the reports above found; without it, it would only repeat them */
	if (boot && missing)
		report("boot", false, false, "not tried: a required component is missing");
	else if (boot)
		missing += report_boot(&cfg);
	config_free(&cfg);
	if (missing) {
		husk_error_set(err, 0, "check: %d required component%s missing", missing,
		               missing > 1 ? "s" : "");
		return 1;
	}
	return 0;
}
