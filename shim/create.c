/*
 * husk create: validate the bundle, fork the sandbox owner (shim/owner.c,
 * the detached --pid-file process of shim/lib/detach.h, holding our stdio),
 * wait until it reports the container created (or fails) and return. husk
 * run shares all of it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "shim/lib/config.h"
#include "shim/lib/detach.h"
#include "shim/lib/metricsdir.h"
#include "husk.h"
#include "lib/log.h"
#include "shim/lib/ocistate.h"
#include "shim/lib/podnet.h"
#include "shim/lib/bundle.h"
#include "shim/lib/tty.h"

/*
 * The sandbox's host cgroup and its limits, from the VM's size as the owner
 * will make it (sandbox_set_size): refused here, before anything starts.
 */
static int host_cgroup_plan(struct owner_args *a, const struct husk_globals *g, husk_err *err)
{
	unsigned vcpus = a->cfg.vcpus, mib = a->cfg.memory_mib, host_cpus;
	uint64_t host_mib;
	if (resources_from_spec(a->spec.json, a->spec.json_len, &a->res, err) < 0)
		return -1;
	resources_host(&host_cpus, &host_mib);
	resources_vm_size(&a->res, host_cpus, host_mib, &vcpus, &mib);
	return hostcg_limits(&a->res, vcpus, mib, &a->cg_limits, err) < 0 ||
	               hostcg_plan_self(&a->cg, a->spec.json, a->spec.json_len, a->id,
	                                g->systemd_cgroup, err) < 0
	           ? -1
	           : 0;
}

/* The bundle, refused here for what the guest would refuse, before any VM starts. */
static int load_bundle(struct owner_args *a, const struct husk_globals *g,
                       const struct create_flags *f, husk_err *err)
{
	if (!(a->bundle = realpath(f->bundle, NULL)))
		return husk_error_set(err, errno, "bundle %s", f->bundle);
	if (bundle_load(a->bundle, &a->spec, &a->rootfs, err) < 0)
		return -1;
	if (bundle_ns_check(&a->spec, err) < 0 ||
	    (a->spec.net_path && podnet_refuse_own(a->spec.net_path, err) < 0))
		return husk_error_prefix(err, "bundle %s: config.json", f->bundle);
	/* a VM per container: no other container's namespace is there to join */
	if (a->spec.join_type)
		return husk_error_set(
		    err, 0,
		    "bundle %s: config.json: linux.namespaces %s: path %s: cannot be "
		    "joined (the container gets a VM of its own)",
		    f->bundle, a->spec.join_type, a->spec.join_path);
	/* the agent's contract over the text it gets, before the owner starts anything */
	if ((a->spec.net_path && bundle_drop_net_path(&a->spec, err) < 0) ||
	    bundle_check(&a->spec, err) < 0)
		return -1;
	if (hooks_parse_spec(a->spec.json, a->spec.json_len, &a->hooks, err) < 0 ||
	    host_cgroup_plan(a, g, err) < 0)
		return husk_error_prefix(err, "bundle %s: config.json", f->bundle);
	return 0;
}

int owner_args_load(struct owner_args *a, const struct husk_globals *g, const char *id,
                    const struct create_flags *f, husk_err *err)
{
	*a =
	    (struct owner_args){.root = g->root, .id = id, .guest_log = g->log_fd >= 0 || g->debug};
	if (container_id_check(id, err) < 0 || config_load(f->config, &a->cfg, err) < 0 ||
	    (f->pid_file && path_from_cwd(f->pid_file, &a->pid_file, err) < 0))
		return -1;
	if (load_bundle(a, g, f, err) < 0) {
		failcount_add(FAIL_BUNDLE);
		return -1;
	}
	return 0;
}

int owner_args_console(struct owner_args *a, const char *console, bool detach, husk_err *err)
{
	if (a->spec.terminal && detach && !console)
		return husk_error_set(err, 0,
		                      "process.terminal is true but no --console-socket was given");
	if (console && !a->spec.terminal)
		return husk_error_set(err, 0,
		                      "--console-socket given but process.terminal is false");
	if (console && !detach)
		return husk_error_set(err, 0, "--console-socket needs --detach");
	if (a->spec.terminal && !detach && tty_own_fd() < 0)
		return husk_error_set(err, 0,
		                      "process.terminal is true but neither stdin, stdout nor "
		                      "stderr is a terminal");
	/* the owner works in "/"; a socket path is resolved now, as runc does */
	if (console && !(a->console_socket = realpath(console, NULL)))
		return husk_error_set(err, errno, "console socket %s", console);
	return 0;
}

void owner_args_free(struct owner_args *a)
{
	free(a->bundle);
	free(a->rootfs);
	free(a->pid_file);
	free(a->console_socket);
	bundle_free(&a->spec);
	hooks_free(&a->hooks);
	hostcg_free(&a->cg);
	config_free(&a->cfg);
}

static int run_owner(void *arg, int ready_fd)
{
	const struct owner_args *a = arg;
	husk_err err = NULL;
	int status = owner_run(a, ready_fd, &err);
	if (err)
		log_error("container %s: %s", a->id, husk_error_msg(err));
	husk_error_free(&err);
	return status;
}

int owner_fork(const struct husk_globals *g, const struct owner_args *a, husk_err *err)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%s", g->root, a->id);
	if (access(dir, F_OK) == 0)
		return husk_error_set(err, 0, "container %s already exists", a->id);
	return detach_spawn(run_owner, (void *)a, g->log_fd, err);
}

bool create_flag(int c, struct create_flags *f)
{
	switch (c) {
	case 'b':
		f->bundle = optarg;
		return true;
	case 'p':
		f->pid_file = optarg;
		return true;
	case 's':
		f->console_socket = optarg;
		return true;
	case 'c':
		f->config = optarg;
		return true;
	case 'P': /* --no-pivot, --no-new-keyring: nothing to do in a VM */
	case 'K':
		return true;
	default:
		return false;
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: husk create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] "
	           "[--no-pivot] [--no-new-keyring] [--config FILE] ID\n");
}

int cmd_create(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"console-socket", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"no-pivot", no_argument, NULL, 'P'},
	    {"no-new-keyring", no_argument, NULL, 'K'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct create_flags f = {.bundle = "."};
	struct owner_args a = {0};
	int c, status = 1;

	while ((c = getopt_long(argc, argv, "+b:h", opts, NULL)) != -1) {
		if (create_flag(c, &f))
			continue;
		return verb_usage(c, usage);
	}
	if (optind != argc - 1)
		return verb_usage('?', usage);
	const char *id = argv[optind];
	if (owner_args_load(&a, g, id, &f, err) == 0 &&
	    owner_args_console(&a, f.console_socket, true, err) == 0 && owner_fork(g, &a, err) == 0)
		status = 0;
	owner_args_free(&a);
	if (*err)
		husk_error_prefix(err, "create %s", id);
	return status;
}
