/* Supervision of Debian's C virtiofsd (7.2) serving one shared directory to one QEMU. */
#ifndef HUSK_VIRTIOFSD_H
#define HUSK_VIRTIOFSD_H

#include "lib/error.h"
#include "lib/proc.h"

enum virtiofs_cache { VIRTIOFS_CACHE_AUTO, VIRTIOFS_CACHE_ALWAYS, VIRTIOFS_CACHE_NONE };

struct virtiofsd_spec {
	const char *binary;      /* /usr/lib/qemu/virtiofsd */
	const char *socket_path; /* where we bind its vhost-user socket */
	const char *shared_dir;  /* <state>/shared */
	enum virtiofs_cache cache;
	const char *log_path; /* <state>/virtiofsd.log (stderr), created/truncated */
	int debug;            /* -o log_level=debug instead of warn */
};

/*
 * Binds socket_path and starts virtiofsd on it (--fd): not on a path of its
 * own, for which Debian's virtiofsd writes a pid file named after the path
 * (/var/run/virtiofsd/<path with '/' as '.'>.pid), which a relative path would
 * share between sandboxes and an absolute one can make longer than a file name.
 * Returns our copy of the listening socket: while the caller holds it, QEMU's
 * connect never fails, so a virtiofsd that dies at start is what reports, not
 * QEMU. -1 with nothing left running on failure.
 */
int virtiofsd_start(const struct virtiofsd_spec *spec, struct proc *out, husk_err *err);
int virtiofsd_version(const char *binary, char *buf, size_t len, husk_err *err);
/* "auto" | "always" | "none"; -1 on anything else. */
int virtiofs_cache_parse(const char *s, enum virtiofs_cache *out);
const char *virtiofs_cache_name(enum virtiofs_cache c);

#endif
