/*
 * husk configuration (JSON, parsed with json-c). Lookup: --config FILE, else
 * $HUSK_CONFIG, else
 * /etc/husk/husk.json if it exists, else built-in defaults (= configs/husk.json).
 * Unknown keys and bad values are errors naming the key.
 */
#ifndef HUSK_CONFIG_H
#define HUSK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypervisor/qemu/accel.h"
#include "lib/error.h"
#include "lib/log.h"
#include "hypervisor/qemu/virtiofsd.h"

#define CONFIG_SYSTEM_PATH "/etc/husk/husk.json"
#define CONFIG_MAX_SIZE    (1024 * 1024)

enum config_vsock { CONFIG_VSOCK_AUTO, CONFIG_VSOCK_VHOST, CONFIG_VSOCK_HYBRID };

struct husk_config {
	char *source;    /* file it came from, or "built-in defaults" */
	char *qemu;      /* binary: bare name (PATH) or absolute path */
	char *kernel;    /* absolute */
	char *initrd;    /* absolute */
	char *virtiofsd; /* absolute */
	char *vsockd;    /* absolute */
	enum accel_mode accel;
	unsigned vcpus;      /* 1..64 */
	unsigned memory_mib; /* 64..65536 */
	enum config_vsock vsock;
	uint32_t guest_cid; /* 3..0xfffffffe */
	enum virtiofs_cache virtiofs_cache;
	unsigned boot_concurrency; /* boots at once on the host, 0: the online CPUs */
	struct {
		unsigned admission_ms;  /* waiting for a boot slot */
		unsigned boot_ms;       /* agent reachable after QEMU start */
		unsigned agent_call_ms; /* one agent RPC */
		unsigned shutdown_ms;   /* guest shutdown before SIGKILL */
	} timeouts;
	enum husk_log_level log_level;
	bool debug_console; /* sandboxes created with it serve the debug console */
};

/* path_or_null: --config value. Defaults for kernel/initrd/vsockd resolve next to /proc/self/exe.
 */
int config_load(const char *path_or_null, struct husk_config *out, husk_err *err);
/*
 * Parses JSON text (len bytes, not necessarily NUL-terminated); name is used in
 * messages. exe_dir is the directory the kernel/initrd/vsockd defaults are relative to.
 */
int config_parse(const char *name, const char *text, size_t len, const char *exe_dir,
                 struct husk_config *out, husk_err *err);
void config_free(struct husk_config *c);
const char *config_vsock_name(enum config_vsock v);

#endif
