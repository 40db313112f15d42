#include "virtiofsd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"

static const char *const cache_names[] = {
    [VIRTIOFS_CACHE_AUTO] = "auto",
    [VIRTIOFS_CACHE_ALWAYS] = "always",
    [VIRTIOFS_CACHE_NONE] = "none",
};

int virtiofs_cache_parse(const char *s, enum virtiofs_cache *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(cache_names); i++) {
		if (strcmp(s, cache_names[i]) == 0) {
			*out = (enum virtiofs_cache)i;
			return 0;
		}
	}
	return -1;
}

const char *virtiofs_cache_name(enum virtiofs_cache c)
{
	return (unsigned)c < ARRAY_SIZE(cache_names) ? cache_names[c] : "?";
}

/*
 * What Debian's virtiofsd 7.2 needs, found by taking each away: CAP_SYS_ADMIN for its own
 * sandbox (unshare of mount, pid and net namespaces, mount, pivot_root), CAP_SETPCAP to cut
 * its bounding set, and the file-server set it keeps once sandboxed (setup_capabilities in
 * passthrough_ll.c; it refuses to start if any is missing) less CAP_MKNOD, which modcaps
 * takes out of that set.
 */
#define VIRTIOFSD_CAPS                                                                             \
	(PROC_CAP(CAP_SYS_ADMIN) | PROC_CAP(CAP_SETPCAP) | PROC_CAP(CAP_CHOWN) |                   \
	 PROC_CAP(CAP_DAC_OVERRIDE) | PROC_CAP(CAP_FOWNER) | PROC_CAP(CAP_FSETID) |                \
	 PROC_CAP(CAP_SETGID) | PROC_CAP(CAP_SETUID) | PROC_CAP(CAP_SETFCAP))

int virtiofsd_start(const struct virtiofsd_spec *spec, struct proc *out, husk_err *err)
{
	proc_init(out);
	cleanup_close int log =
	    open(spec->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log < 0)
		return husk_error_set(err, errno, "virtiofsd: open %s", spec->log_path);
	cleanup_free char *source = NULL, *cache = NULL;
	if (asprintf(&source, "source=%s", spec->shared_dir) < 0 ||
	    asprintf(&cache, "cache=%s", virtiofs_cache_name(spec->cache)) < 0)
		return husk_error_set(err, ENOMEM, "virtiofsd");
	cleanup_close int listener = unix_listen(spec->socket_path, 1, 0, err);
	if (listener < 0)
		return husk_error_prefix(err, "virtiofsd");
	/*
	 * announce_submounts: container rootfs bind mounts under the shared dir. modcaps=-mknod:
	 * a device node the guest makes on a rootfs or bind would be a real one on the host, so
	 * virtiofsd cannot make any (FIFOs and sockets need no capability and still work).
	 */
	const char *argv[] = {spec->binary, "--fd=3",
	                      "-o",         source,
	                      "-o",         cache,
	                      "-o",         "announce_submounts",
	                      "-o",         "modcaps=-mknod",
	                      "-o",         spec->debug ? "log_level=debug" : "log_level=warn",
	                      NULL};
	struct proc_fd_map fds[] = {{listener, 3}};
	struct proc_spec ps = {.argv = argv,
	                       .fds = fds,
	                       .nfds = 1,
	                       .stdin_fd = -1,
	                       .stdout_fd = log,
	                       .stderr_fd = log,
	                       .least_privilege = true,
	                       .keep_caps = VIRTIOFSD_CAPS};
	if (proc_spawn(&ps, out, err) < 0) {
		unlink(spec->socket_path);
		return husk_error_prefix(err, "virtiofsd");
	}
	return move_fd(listener);
}

int virtiofsd_version(const char *binary, char *buf, size_t len, husk_err *err)
{
	const char *argv[] = {binary, "--version", NULL};
	return proc_first_line(argv, 5000, buf, len, err);
}
