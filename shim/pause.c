/*
 * husk pause and resume: the cgroup v2 freezer of the container's cgroup in
 * the guest, over the command's own agent connection, under the container's
 * lock. The paused state is the marker file ocistate.h describes.
 */
#include <stdio.h>

#include "shim/lib/attach.h"
#include "lib/cleanup.h"
#include "husk.h"

static int freeze(const struct husk_globals *g, int argc, char **argv, bool pause, husk_err *err)
{
	const char *verb = pause ? "pause" : "resume";
	Husk__Agent__V1__ContainerRequest req = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	struct attach_session s;
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: husk %s ID\n", verb);
		return 2;
	}
	const char *id = argv[1];
	cleanup_close int lock =
	    container_id_check(id, err) < 0 ? -1 : ocistate_lock(g->root, id, err);
	if (lock < 0 || attach_open(&s, g->root, id, err) < 0)
		goto fail;
	enum oci_status st = ocistate_live_status(&s.st);
	req.container_id = (char *)id;
	int r;
	if (st != (pause ? OCI_RUNNING : OCI_PAUSED))
		r = husk_error_set(err, 0, "container is %s, not %s", oci_status_name(st),
		                   pause ? "running" : "paused");
	else if ((r = agent_client_call_sync(s.agent, pause ? "PauseContainer" : "ResumeContainer",
	                                     &req.base, &husk__agent__v1__empty__descriptor,
	                                     (int)s.cfg.timeouts.agent_call_ms, &resp, err)) == 0)
		r = ocistate_set_paused(g->root, id, pause, err);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	attach_close(&s);
	if (r == 0)
		return 0;
fail:
	husk_error_prefix(err, "%s %s", verb, id);
	return 1;
}

int cmd_pause(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	return freeze(g, argc, argv, true, err);
}

int cmd_resume(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	return freeze(g, argc, argv, false, err);
}
