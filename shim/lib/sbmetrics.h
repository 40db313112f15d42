/*
 * A sandbox's metrics in the Prometheus text format, served by its owner (the
 * CLI's owner, the shim v2) on its socket in METRICS_DIR (metricsdir.h): each connection gets one
 * exposition and EOF. The guest's figures come from the agent's GuestStats at that moment. husk
 * metrics gathers every sandbox's (docs/operations.md, Metrics).
 */
#ifndef HUSK_SBMETRICS_H
#define HUSK_SBMETRICS_H

#include "lib/error.h"
#include "lib/loop.h"
#include "sandbox.h"

/* What one exposition may come to (husk metrics reads no more). */
#define SBMETRICS_TEXT_MAX (64 * 1024)

struct sbmetrics;

/*
 * Listens for sb (kind "cli" or "pod"); pod_name and pod_namespace (the CRI's,
 * or NULL) label every sample with the sandbox id. Free it before sb.
 */
struct sbmetrics *sbmetrics_serve(struct husk_loop *loop, struct sandbox *sb, const char *kind,
                                  const char *pod_name, const char *pod_namespace, husk_err *err);
/* The sandbox's state as the front sees it: "created", "running", "paused", "stopped". */
void sbmetrics_set_state(struct sbmetrics *m, const char *state);
/* Stops listening (the socket removed) and drops connections waiting for the agent. */
void sbmetrics_free(struct sbmetrics *m);

#endif
