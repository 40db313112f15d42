/* Supervision of Debian's C virtiofsd (7.2) serving one shared directory to one QEMU. */
#ifndef HUSK_VIRTIOFSD_H
#define HUSK_VIRTIOFSD_H

#include "lib/error.h"
#include "lib/proc.h"

enum virtiofs_cache { VIRTIOFS_CACHE_AUTO, VIRTIOFS_CACHE_ALWAYS, VIRTIOFS_CACHE_NONE };

struct virtiofsd_spec {
	const char *binary;      /* /usr/lib/qemu/virtiofsd */
	const char *socket_path; /* <state>/virtiofsd.sock */
	const char *shared_dir;  /* <state>/shared */
	enum virtiofs_cache cache;
	const char *log_path; /* <state>/virtiofsd.log (stderr), created/truncated */
	int debug;            /* -o log_level=debug instead of warn */
	int timeout_ms;       /* for the socket to appear */
};

/*
 * Starts virtiofsd and returns once its socket exists (inotify, bounded by
 * timeout_ms). On failure nothing is left running; the error names the log.
 */
int virtiofsd_start(const struct virtiofsd_spec *spec, struct proc *out, husk_err *err);
/*
 * Debian's virtiofsd locks its socket path with a pid file it never removes
 * (/var/run/virtiofsd/<socket path with '/' as '.'>.pid): once p is reaped,
 * removes that file if it still names p.
 */
void virtiofsd_remove_pidfile(const struct proc *p, const char *socket_path);
int virtiofsd_version(const char *binary, char *buf, size_t len, husk_err *err);
/* "auto" | "always" | "none"; -1 on anything else. */
int virtiofs_cache_parse(const char *s, enum virtiofs_cache *out);
const char *virtiofs_cache_name(enum virtiofs_cache c);

#endif
