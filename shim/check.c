/*
 * husk check: what this host offers (acceleration, vsock, QEMU, virtiofsd, guest image, and
 * what a pod's network needs: tun, tc redirect; vhost-net); with --boot, a timed test boot of
 * the guest image.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	missing += report_version("virtiofsd", cfg.virtiofsd, virtiofsd_version);
	missing += report_file("guest kernel", cfg.kernel);
	missing += report_file("guest initrd", cfg.initrd);
	report_network();
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
