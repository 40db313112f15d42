#include "attach.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypervisor/vsock/dial.h"
#include "lib/cleanup.h"
#include "sandbox.h"
#include "statedir.h"

#define ATTACH_DIAL_MS 5000

/* The agent (or the debug console) on port of the sandbox whose state dir is open at dir. */
static struct agent_client *dial_guest(struct husk_loop *loop, int dir, unsigned port,
                                       const struct husk_config *cfg, husk_err *err)
{
	char uds[STATEDIR_SOCK_PATH_MAX];
	struct stat sb;
	struct token token;
	if (statedir_sock_path(dir, STATEDIR_VSOCK_SOCK, uds, err) < 0 ||
	    token_read_at(dir, STATEDIR_AGENT_TOKEN, &token, err) < 0)
		return NULL;
	enum vsock_transport t =
	    lstat(uds, &sb) == 0 && S_ISSOCK(sb.st_mode) ? VSOCK_HYBRID : VSOCK_VHOST;
	unsigned cid = t == VSOCK_VHOST ? statedir_cid(dir) : 0;
	int fd = vsock_dial(t, cid ? cid : cfg->guest_cid, uds, port, ATTACH_DIAL_MS, err);
	struct agent_client *a = fd < 0 ? NULL : agent_client_new(loop, fd, &token, err);
	if (!a) {
		husk_error_prefix(err, port == AGENT_PORT ? "agent" : "debug console");
		return NULL;
	}
	agent_client_set_timeout(a, (int)cfg->timeouts.agent_call_ms);
	return a;
}

/* Whether st's sandbox has a VM to talk to. */
static int check_live(const struct oci_state *st, husk_err *err)
{
	enum oci_status s = ocistate_live_status(st);
	if (s == OCI_STOPPED)
		return husk_error_set(err, 0, "container has stopped");
	if (s == OCI_CREATING)
		return husk_error_set(err, 0, "container is still being created");
	return 0;
}

struct agent_client *sandbox_attach(struct husk_loop *loop, const char *root, const char *id,
                                    const struct husk_config *cfg, struct oci_state *st,
                                    husk_err *err)
{
	if (container_id_check(id, err) < 0 || ocistate_read(root, id, st, err) < 0)
		return NULL;
	cleanup_close int dir = statedir_open(root, id, err);
	struct agent_client *a = dir >= 0 && check_live(st, err) == 0
	                             ? dial_guest(loop, dir, AGENT_PORT, cfg, err)
	                             : NULL;
	if (!a)
		ocistate_free(st);
	return a;
}

/* A task of a shim v2 pod: SHIM_V2 root/<pod>/tasks/<id> (shim/v2 records them). */
static int open_task_pod(const char *id, husk_err *err)
{
	cleanup_closedir DIR *d = opendir(STATEDIR_SHIM_V2_ROOT);
	struct dirent *e;
	char path[sizeof(STATEDIR_TASKS) + SPEC_MAX_ID + 1];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || container_id_check(e->d_name, NULL) < 0)
			continue;
		cleanup_close int dir = statedir_open(STATEDIR_SHIM_V2_ROOT, e->d_name, NULL);
		snprintf(path, sizeof(path), "%s/%s", STATEDIR_TASKS, id);
		if (dir >= 0 && faccessat(dir, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			return move_fd(dir);
	}
	return husk_error_set(err, 0, "container %s does not exist", id);
}

/* The state dir of a running CLI sandbox, a shim v2 pod or a task of one. */
static int open_any_sandbox(const char *root, const char *id, husk_err *err)
{
	struct oci_state st;
	if (ocistate_read(root, id, &st, NULL) == 0) {
		int live = check_live(&st, err);
		ocistate_free(&st);
		return live < 0 ? -1 : statedir_open(root, id, err);
	}
	int dir = statedir_open(STATEDIR_SHIM_V2_ROOT, id, NULL);
	return dir >= 0 ? dir : open_task_pod(id, err);
}

struct agent_client *debug_console_attach(struct husk_loop *loop, const char *root, const char *id,
                                          const struct husk_config *cfg, husk_err *err)
{
	if (container_id_check(id, err) < 0)
		return NULL;
	cleanup_close int dir = open_any_sandbox(root, id, err);
	if (dir < 0)
		return NULL;
	if (!statedir_debug_console(dir)) {
		husk_error_set(err, 0,
		               "the debug console is off for this sandbox (enable it at creation: "
		               "\"debug_console\": true in husk.json, or the annotation %s=true)",
		               SANDBOX_DEBUG_CONSOLE_ANNOTATION);
		return NULL;
	}
	return dial_guest(loop, dir, DEBUG_CONSOLE_PORT, cfg, err);
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
