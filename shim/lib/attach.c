#include "attach.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "hypervisor/vsock/dial.h"
#include "lib/cleanup.h"
#include "statedir.h"

#define ATTACH_DIAL_MS 5000

struct agent_client *sandbox_attach(struct husk_loop *loop, const char *root, const char *id,
                                    const struct husk_config *cfg, struct oci_state *st,
                                    husk_err *err)
{
	char uds[STATEDIR_SOCK_PATH_MAX];
	struct stat sb;
	if (container_id_check(id, err) < 0 || ocistate_read(root, id, st, err) < 0)
		return NULL;
	cleanup_close int dir = statedir_open(root, id, err);
	if (dir < 0 || statedir_sock_path(dir, STATEDIR_VSOCK_SOCK, uds, err) < 0) {
		ocistate_free(st);
		return NULL;
	}
	enum oci_status s = ocistate_live_status(st);
	if (s == OCI_STOPPED || s == OCI_CREATING) {
		husk_error_set(err, 0,
		               s == OCI_STOPPED ? "container has stopped"
		                                : "container is still being created");
		ocistate_free(st);
		return NULL;
	}
	enum vsock_transport t =
	    lstat(uds, &sb) == 0 && S_ISSOCK(sb.st_mode) ? VSOCK_HYBRID : VSOCK_VHOST;
	int fd = vsock_dial(t, cfg->guest_cid, uds, AGENT_PORT, ATTACH_DIAL_MS, err);
	struct agent_client *a = fd < 0 ? NULL : agent_client_new(loop, fd, err);
	if (!a) {
		husk_error_prefix(err, "agent");
		ocistate_free(st);
		return NULL;
	}
	agent_client_set_timeout(a, (int)cfg->timeouts.agent_call_ms);
	return a;
}

int attach_open(struct attach_session *s, const char *root, const char *id, husk_err *err)
{
	*s = (struct attach_session){0};
	if (config_load(NULL, &s->cfg, err) < 0 || !(s->loop = husk_loop_new(err)) ||
	    !(s->agent = sandbox_attach(s->loop, root, id, &s->cfg, &s->st, err))) {
		husk_loop_free(s->loop);
		config_free(&s->cfg);
		*s = (struct attach_session){0};
		return -1;
	}
	return 0;
}

void attach_close(struct attach_session *s)
{
	agent_client_free(s->agent);
	husk_loop_free(s->loop);
	ocistate_free(&s->st);
	config_free(&s->cfg);
	*s = (struct attach_session){0};
}
