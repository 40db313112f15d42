/*
 * The sandbox owner: one VM (QEMU + virtiofsd + husk-vsockd) and the agent
 * connection, driven by the caller's husk_loop. Its fronts: the CLI's owner
 * (shim/owner.c: husk create, husk run) and containerd-shim-husk-v2.
 *
 * Helper deaths and the boot deadline surface as errors from whatever runs the
 * loop (husk_loop_run_once returns -1 naming the cause). sandbox_destroy()
 * tears everything down on every path and is safe to call at any stage.
 */
#ifndef HUSK_SANDBOX_H
#define HUSK_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent_client.h"
#include "config.h"
#include "lib/error.h"
#include "lib/loop.h"
#include "bundle.h"
#include "resources.h"
#include "statedir.h"

struct sandbox;

/*
 * Creates <root>/<id>/ and moves the calling process into a private mount
 * namespace (see mount_namespace_enter) where <state>/shared is a shared
 * mount, so rootfs binds added later also reach virtiofsd.
 * cfg must outlive the sandbox.
 */
struct sandbox *sandbox_create(struct husk_loop *loop, const char *root, const char *id,
                               const struct husk_config *cfg, husk_err *err);
/*
 * Binds a container's rootfs at <state>/shared/<container_id>; with ro it
 * turns read-only on the host once sandbox_create_container succeeded.
 */
int sandbox_add_rootfs(struct sandbox *sb, const char *container_id, const char *rootfs, bool ro,
                       husk_err *err);
/*
 * Binds the host sources of spec's bind mounts (spec->binds, made absolute by
 * spec_load) under <state>/shared, read-only where the mount says ro; the next
 * sandbox_create_container for container_id passes them to the agent. Before
 * or after boot. On error (naming the mount) nothing of this call stays bound.
 */
int sandbox_add_mounts(struct sandbox *sb, const char *container_id, const struct bundle *spec,
                       husk_err *err);
/*
 * Unbinds what sandbox_add_rootfs and sandbox_add_mounts bound for
 * container_id (after the guest removed the container); sandbox_destroy does
 * it for every container.
 */
void sandbox_release_container(struct sandbox *sb, const char *container_id);
/*
 * Sizes the VM from the spec's linux.resources (resources_vm_size in
 * resources.h), the config's vcpus and memory_mib where it sets no limit.
 * Before sandbox_boot; an ill-shaped linux.resources is an error.
 */
int sandbox_set_size(struct sandbox *sb, const struct bundle *spec, husk_err *err);
/* Whether the guest's console lines also go to the log (conslog.h); on unless set off. */
void sandbox_set_guest_log(struct sandbox *sb, bool on);
/*
 * Grows the VM (before sandbox_boot) to at least what limits l give (resources_vm_size: a
 * pod's); never shrinks it. *vcpus and *memory_mib are then its size.
 */
void sandbox_size_at_least(struct sandbox *sb, const struct resource_limits *l, unsigned *vcpus,
                           unsigned *memory_mib);
/*
 * Before sandbox_boot: whether the guest serves the debug console, from the
 * spec's annotation ("true" or "false") or else the config's debug_console.
 * When it does, the kernel command line says so and the state dir records it
 * (statedir_debug_console).
 */
#define SANDBOX_DEBUG_CONSOLE_ANNOTATION "io.husk.debug_console"
int sandbox_set_debug_console(struct sandbox *sb, const struct bundle *spec, husk_err *err);
/*
 * Before sandbox_boot: the network namespace at netns_path becomes the VM's (podnet.h), its
 * interfaces the guest's NICs, configured by SetupNetwork once the agent answers.
 * sandbox_destroy detaches it.
 */
int sandbox_attach_network(struct sandbox *sb, const char *netns_path, husk_err *err);
/*
 * Starts husk-vsockd, virtiofsd and QEMU, then waits for the agent (Health) and sets up the
 * guest's network if one is attached.
 */
int sandbox_boot(struct sandbox *sb, husk_err *err);
int sandbox_create_container(struct sandbox *sb, const char *container_id,
                             const struct bundle *spec, bool with_stdin, husk_err *err);
int sandbox_start_container(struct sandbox *sb, const char *container_id, uint32_t *pid,
                            husk_err *err);
/* Fire-and-forget SignalProcess; a failure is logged, not fatal. */
void sandbox_signal(struct sandbox *sb, const char *container_id, const char *exec_id, int sig);
struct sandbox_stats {
	const char *id;
	unsigned vcpus, memory_mib;
	const char *accel;             /* "kvm" or "tcg" once booted, else NULL */
	pid_t vsockd, virtiofsd, qemu; /* 0 when not running */
	int64_t boot_us;               /* boot admitted to the agent ready; -1 until booted */
	int64_t start_us;              /* sandbox_create to its first container started, or -1 */
};
void sandbox_stats(struct sandbox *sb, struct sandbox_stats *out);
struct agent_client *sandbox_agent(struct sandbox *sb);
/* The QEMU process (the host pid standing for the guest), or 0 when it is not running. */
pid_t sandbox_vmm_pid(struct sandbox *sb);
/* <root>/<id> */
const char *sandbox_dir(struct sandbox *sb);
/* <root>/<id> open (O_PATH), for statedir_sock_path. */
int sandbox_dir_fd(struct sandbox *sb);
/*
 * sandbox_destroy then leaves the state directory with only these entries
 * (names, NULL-terminated, must outlive sb): husk create's state outlives the VM.
 */
void sandbox_keep_files(struct sandbox *sb, const char *const *names);
/*
 * Powers the guest off (DestroySandbox, then QMP quit, then SIGKILL), stops
 * the helpers, unmounts and removes the state directory, frees sb.
 * NULL is a no-op.
 */
void sandbox_destroy(struct sandbox *sb);

#endif
