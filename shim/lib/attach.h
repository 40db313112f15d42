/*
 * A second connection to a running sandbox's agent, for CLI commands that
 * talk to the guest themselves (exec, ps, pause, resume, update, events)
 * instead of going through the sandbox owner. The agent serves many
 * connections; each caller names its own processes (exec ids).
 */
#ifndef HUSK_ATTACH_H
#define HUSK_ATTACH_H

#include "agent_client.h"
#include "config.h"
#include "lib/error.h"
#include "lib/loop.h"
#include "ocistate.h"

/*
 * Reads root/id's state and connects to its agent: through the sandbox's
 * hybrid vsock socket when it has one, else kernel vsock at cfg->guest_cid.
 * Fails with "container ID does not exist" (ENOENT) or "container is not
 * running" / "... has stopped" when no VM is there to talk to. On success
 * *st holds the state (ocistate_free it) and the agent is driven by loop.
 */
struct agent_client *sandbox_attach(struct husk_loop *loop, const char *root, const char *id,
                                    const struct husk_config *cfg, struct oci_state *st,
                                    husk_err *err);

/*
 * Connects to the debug console (port DEBUG_CONSOLE_PORT) of the sandbox of
 * id: a CLI container under root, a shim v2 pod (its sandbox id) or a task of
 * one. Fails with one line, dialling nothing, unless the sandbox was created
 * with the debug console (sandbox_set_debug_console).
 */
struct agent_client *debug_console_attach(struct husk_loop *loop, const char *root, const char *id,
                                          const struct husk_config *cfg, husk_err *err);

/* What a CLI command holds while it talks to one container's agent. */
struct attach_session {
	struct husk_loop *loop;
	struct husk_config cfg; /* config_load(NULL): $HUSK_CONFIG, /etc/husk, defaults */
	struct oci_state st;
	struct agent_client *agent;
};

/* Loads the config, makes a loop and sandbox_attach()es; attach_close undoes it. */
int attach_open(struct attach_session *s, const char *root, const char *id, husk_err *err);
void attach_close(struct attach_session *s);

#endif
