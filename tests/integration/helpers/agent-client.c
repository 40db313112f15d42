/*
 * agent-client: drives a husk-agent from the host for tests, one API call (or
 * one "run": create, start, stream output, wait) per invocation.
 *   agent-client (-u UNIX_SOCKET | -H HYBRID_VSOCK_UDS) COMMAND ARGS...
 * (setup-network takes the items of netargs.h). With AGENT_TOKEN_FILE in the
 * environment, the connection starts with that token's preamble (lib/token.h).
 * Errors print "agent-client: MESSAGE [ERRNO_NAME]" and exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/agent.pb-c.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/loop.h"
#include "lib/token.h"
#include "ttrpc/ttrpc.h"
#include "hypervisor/vsock/dial.h"
#include "netargs.h"

#define SERVICE    "husk.agent.v1.Agent"
#define TIMEOUT_MS 60000
/* GetOOMEvent waits for an event that may take a while under TCG */
#define OOM_TIMEOUT_MS 300000
#define MAX_FILE       (1 << 20)

/* One output stream copied to a local fd by chained long-poll reads. */
struct pump {
	struct client *c;
	const char *method;
	char *id, *eid;
	int out_fd;
};

struct client {
	struct pump
	    pumps[2]; /* stdout, stderr: they outlive the command (callbacks run at hangup) */
	struct husk_loop *loop;
	struct ttrpc_conn *conn;
	int open_streams;
	int failed;
};

/* Retries while the agent is not listening yet, up to TIMEOUT_MS. */
static int dial_unix(const char *path, husk_err *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path))
		return husk_error_set(err, ENAMETOOLONG, "%s", path);
	strcpy(addr.sun_path, path);
	for (int waited_ms = 0;; waited_ms += 10) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return husk_error_set(err, errno, "socket");
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			return fd;
		int e = errno;
		close(fd);
		if ((e != ENOENT && e != ECONNREFUSED) || waited_ms >= TIMEOUT_MS)
			return husk_error_set(err, e, "connect %s", path);
		usleep(10000);
	}
}

static int call(struct client *c, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp, husk_err *err)
{
	ProtobufCMessage *r = NULL;
	if (ttrpc_client_call_pb_sync(c->conn, SERVICE, method, req, desc, TIMEOUT_MS, &r, err))
		return -1;
	if (resp)
		*resp = r;
	else if (r)
		protobuf_c_message_free_unpacked(r, NULL);
	return 0;
}

static int read_file(const char *path, ProtobufCBinaryData *out, husk_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return husk_error_set(err, errno, "open %s", path);
	out->data = malloc(MAX_FILE);
	if (!out->data)
		return husk_error_set(err, ENOMEM, "%s", path);
	ssize_t n = read(fd, out->data, MAX_FILE);
	if (n < 0)
		return husk_error_set(err, errno, "read %s", path);
	out->len = (size_t)n;
	return 0;
}

static int cmd_health(struct client *c, char **argv, husk_err *err)
{
	Husk__Agent__V1__HealthRequest req = HUSK__AGENT__V1__HEALTH_REQUEST__INIT;
	Husk__Agent__V1__HealthResponse *r;
	if (call(c, "Health", &req.base, &husk__agent__v1__health_response__descriptor,
	         (ProtobufCMessage **)&r, err) < 0)
		return -1;
	printf("%s %s %s\n", r->agent_version, r->kernel_release, r->boot_id);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return 0;
}

static int do_create(struct client *c, char **argv, husk_err *err)
{
	Husk__Agent__V1__CreateContainerRequest req =
	    HUSK__AGENT__V1__CREATE_CONTAINER_REQUEST__INIT;
	req.container_id = argv[0];
	req.rootfs_tag = argv[1];
	req.stdin = argv[3] && strcmp(argv[3], "--stdin") == 0;
	if (read_file(argv[2], &req.oci_spec_json, err) < 0)
		return -1;
	int ret =
	    call(c, "CreateContainer", &req.base, &husk__agent__v1__empty__descriptor, NULL, err);
	free(req.oci_spec_json.data);
	return ret;
}

static int do_start(struct client *c, const char *id, husk_err *err)
{
	Husk__Agent__V1__ContainerRequest req = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	Husk__Agent__V1__StartContainerResponse *r;
	req.container_id = (char *)id;
	if (call(c, "StartContainer", &req.base,
	         &husk__agent__v1__start_container_response__descriptor, (ProtobufCMessage **)&r,
	         err) < 0)
		return -1;
	printf("pid %u\n", r->pid);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return 0;
}

static int do_wait(struct client *c, const char *id, const char *eid, int *status, husk_err *err)
{
	Husk__Agent__V1__ProcessRequest req = HUSK__AGENT__V1__PROCESS_REQUEST__INIT;
	Husk__Agent__V1__WaitProcessResponse *r;
	req.container_id = (char *)id;
	req.exec_id = (char *)eid;
	if (call(c, "WaitProcess", &req.base, &husk__agent__v1__wait_process_response__descriptor,
	         (ProtobufCMessage **)&r, err) < 0)
		return -1;
	*status = r->exit_status;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return 0;
}

static int cmd_create(struct client *c, char **argv, husk_err *err)
{
	return do_create(c, argv, err);
}

static int cmd_start(struct client *c, char **argv, husk_err *err)
{
	return do_start(c, argv[0], err);
}

static int cmd_exec(struct client *c, char **argv, husk_err *err)
{
	Husk__Agent__V1__ExecProcessRequest req = HUSK__AGENT__V1__EXEC_PROCESS_REQUEST__INIT;
	Husk__Agent__V1__ExecProcessResponse *r;
	req.container_id = argv[0];
	req.exec_id = argv[1];
	req.stdin = argv[3] && strcmp(argv[3], "--stdin") == 0;
	if (read_file(argv[2], &req.process_json, err) < 0)
		return -1;
	int ret =
	    call(c, "ExecProcess", &req.base, &husk__agent__v1__exec_process_response__descriptor,
	         (ProtobufCMessage **)&r, err);
	free(req.process_json.data);
	if (ret == 0) {
		printf("pid %u\n", r->pid);
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	return ret;
}

static int cmd_signal(struct client *c, char **argv, husk_err *err)
{
	Husk__Agent__V1__SignalProcessRequest req = HUSK__AGENT__V1__SIGNAL_PROCESS_REQUEST__INIT;
	req.container_id = argv[0];
	req.exec_id = argv[1];
	req.signal = (uint32_t)atoi(argv[2]);
	req.all = argv[3] && strcmp(argv[3], "--all") == 0;
	return call(c, "SignalProcess", &req.base, &husk__agent__v1__empty__descriptor, NULL, err);
}

static int cmd_wait(struct client *c, char **argv, husk_err *err)
{
	int status;
	if (do_wait(c, argv[0], argv[1] ? argv[1] : "", &status, err) < 0)
		return -1;
	printf("exit %d\n", status);
	return 0;
}

static int cmd_write(struct client *c, char **argv, husk_err *err)
{
	Husk__Agent__V1__WriteStdinRequest req = HUSK__AGENT__V1__WRITE_STDIN_REQUEST__INIT;
	Husk__Agent__V1__WriteStdinResponse *r;
	req.container_id = argv[0];
	req.exec_id = argv[1];
	req.data.data = (uint8_t *)argv[2];
	req.data.len = strlen(argv[2]);
	if (call(c, "WriteStdin", &req.base, &husk__agent__v1__write_stdin_response__descriptor,
	         (ProtobufCMessage **)&r, err) < 0)
		return -1;
	printf("written %u\n", r->written);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return 0;
}

static int cmd_close_stdin(struct client *c, char **argv, husk_err *err)
{
	Husk__Agent__V1__ProcessRequest req = HUSK__AGENT__V1__PROCESS_REQUEST__INIT;
	req.container_id = argv[0];
	req.exec_id = argv[1];
	return call(c, "CloseStdin", &req.base, &husk__agent__v1__empty__descriptor, NULL, err);
}

static int cmd_resize(struct client *c, char **argv, husk_err *err)
{
	Husk__Agent__V1__ResizePtyRequest req = HUSK__AGENT__V1__RESIZE_PTY_REQUEST__INIT;
	req.container_id = argv[0];
	req.exec_id = argv[1];
	req.width = (uint32_t)atoi(argv[2]);
	req.height = (uint32_t)atoi(argv[3]);
	return call(c, "ResizePty", &req.base, &husk__agent__v1__empty__descriptor, NULL, err);
}

static int cmd_remove(struct client *c, char **argv, husk_err *err)
{
	Husk__Agent__V1__ContainerRequest req = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	req.container_id = argv[0];
	return call(c, "RemoveContainer", &req.base, &husk__agent__v1__empty__descriptor, NULL,
	            err);
}

static int cmd_destroy(struct client *c, char **argv, husk_err *err)
{
	Husk__Agent__V1__Empty req = HUSK__AGENT__V1__EMPTY__INIT;
	return call(c, "DestroySandbox", &req.base, &husk__agent__v1__empty__descriptor, NULL, err);
}

static int cmd_oom_event(struct client *c, char **argv, husk_err *err)
{
	Husk__Agent__V1__Empty req = HUSK__AGENT__V1__EMPTY__INIT;
	Husk__Agent__V1__OOMEvent *r;
	if (ttrpc_client_call_pb_sync(c->conn, SERVICE, "GetOOMEvent", &req.base,
	                              &husk__agent__v1__oomevent__descriptor, OOM_TIMEOUT_MS,
	                              (ProtobufCMessage **)&r, err) < 0)
		return -1;
	printf("oom %s\n", r->container_id);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return 0;
}

static int cmd_update(struct client *c, char **argv, husk_err *err)
{
	Husk__Agent__V1__UpdateContainerRequest req =
	    HUSK__AGENT__V1__UPDATE_CONTAINER_REQUEST__INIT;
	req.container_id = argv[0];
	if (read_file(argv[1], &req.resources_json, err) < 0)
		return -1;
	int ret =
	    call(c, "UpdateContainer", &req.base, &husk__agent__v1__empty__descriptor, NULL, err);
	free(req.resources_json.data);
	return ret;
}

static int cmd_stats(struct client *c, char **argv, husk_err *err)
{
	Husk__Agent__V1__ContainerRequest req = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	Husk__Agent__V1__StatsContainerResponse *r;
	req.container_id = argv[0];
	if (call(c, "StatsContainer", &req.base,
	         &husk__agent__v1__stats_container_response__descriptor, (ProtobufCMessage **)&r,
	         err) < 0)
		return -1;
	printf("cpu_usage_usec %llu\ncpu_user_usec %llu\ncpu_system_usec %llu\n"
	       "memory_current %llu\nmemory_max %llu\nmemory_oom_kill %llu\n"
	       "pids_current %llu\npids_max %llu\nio_rbytes %llu\nio_wbytes %llu\n",
	       (unsigned long long)r->cpu_usage_usec, (unsigned long long)r->cpu_user_usec,
	       (unsigned long long)r->cpu_system_usec, (unsigned long long)r->memory_current,
	       (unsigned long long)r->memory_max, (unsigned long long)r->memory_oom_kill,
	       (unsigned long long)r->pids_current, (unsigned long long)r->pids_max,
	       (unsigned long long)r->io_rbytes, (unsigned long long)r->io_wbytes);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return 0;
}

static int cmd_setup_network(struct client *c, char **argv, husk_err *err)
{
	cleanup_free struct netargs *a = malloc(sizeof(*a));
	if (!a)
		return husk_error_set(err, ENOMEM, "setup-network");
	if (netargs_parse(argv, a, err) < 0)
		return -1;
	return call(c, "SetupNetwork", &a->req.base, &husk__agent__v1__empty__descriptor, NULL,
	            err);
}

static void issue_read(struct pump *p);

static void on_read(enum ttrpc_code code, const char *msg, const uint8_t *payload, size_t len,
                    void *data)
{
	struct pump *p = data;
	Husk__Agent__V1__ReadStreamResponse *r =
	    code == TTRPC_OK ? husk__agent__v1__read_stream_response__unpack(NULL, len, payload)
	                     : NULL;
	if (!r) {
		fprintf(stderr, "agent-client: %s: %s\n", p->method, msg ? msg : "bad response");
		p->c->failed = 1;
		p->c->open_streams--;
		return;
	}
	if (r->data.len && write(p->out_fd, r->data.data, r->data.len) < 0)
		p->c->failed = 1;
	if (r->eof)
		p->c->open_streams--;
	else
		issue_read(p);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void issue_read(struct pump *p)
{
	Husk__Agent__V1__ReadStreamRequest req = HUSK__AGENT__V1__READ_STREAM_REQUEST__INIT;
	cleanup_error husk_err err = NULL;
	uint8_t buf[256];
	req.container_id = p->id;
	req.exec_id = p->eid;
	size_t len = protobuf_c_message_pack(&req.base, buf);
	if (ttrpc_client_call(p->c->conn, SERVICE, p->method, buf, len, 0, on_read, p, &err) < 0) {
		fprintf(stderr, "agent-client: %s\n", husk_error_msg(err));
		p->c->failed = 1;
		p->c->open_streams--;
	}
}

static void start_pumps(struct client *c, char *id, char *eid)
{
	c->pumps[0] = (struct pump){c, "ReadStdout", id, eid, 1};
	c->pumps[1] = (struct pump){c, "ReadStderr", id, eid, 2};
	c->open_streams = 2;
	issue_read(&c->pumps[0]);
	issue_read(&c->pumps[1]);
}

/* Copies stdout and stderr of (id, eid) until both end, then waits for its exit. */
static int pump_and_wait(struct client *c, char *id, char *eid, int *status, husk_err *err)
{
	start_pumps(c, id, eid);
	int64_t deadline = deadline_after(TIMEOUT_MS);
	while (c->open_streams > 0 && ttrpc_client_alive(c->conn)) {
		int left = deadline_left(deadline);
		if (left == 0)
			return husk_error_set(err, ETIMEDOUT, "output of %s not finished", id);
		if (husk_loop_run_once(c->loop, left, err) < 0)
			return -1;
	}
	if (c->failed)
		return husk_error_set(err, 0, "reading output failed");
	return do_wait(c, id, eid, status, err);
}

static int cmd_run(struct client *c, char **argv, husk_err *err)
{
	int status;
	if (do_create(c, argv, err) < 0 || do_start(c, argv[0], err) < 0)
		return -1;
	fflush(stdout);
	if (pump_and_wait(c, argv[0], "", &status, err) < 0)
		return -1;
	printf("exit %d\n", status);
	return 0;
}

static int cmd_output(struct client *c, char **argv, husk_err *err)
{
	int status;
	if (pump_and_wait(c, argv[0], argv[1], &status, err) < 0)
		return -1;
	printf("exit %d\n", status);
	return 0;
}

/*
 * Leaves ReadStdout and ReadStderr pending and hangs up: the Health reply
 * proves the agent has taken both reads (it serves a connection in order).
 */
static int cmd_abandon(struct client *c, char **argv, husk_err *err)
{
	start_pumps(c, argv[0], argv[1]);
	return cmd_health(c, argv, err);
}

struct command {
	const char *name;
	int min_args;
	int (*fn)(struct client *c, char **argv, husk_err *err);
};

static const struct command commands[] = {
    {"health", 0, cmd_health},   {"create", 3, cmd_create},
    {"start", 1, cmd_start},     {"exec", 3, cmd_exec},
    {"signal", 3, cmd_signal},   {"wait", 1, cmd_wait},
    {"write", 3, cmd_write},     {"close-stdin", 2, cmd_close_stdin},
    {"remove", 1, cmd_remove},   {"destroy", 0, cmd_destroy},
    {"run", 3, cmd_run},         {"output", 2, cmd_output},
    {"abandon", 2, cmd_abandon}, {"oom-event", 0, cmd_oom_event},
    {"update", 2, cmd_update},   {"stats", 1, cmd_stats},
    {"resize", 4, cmd_resize},   {"setup-network", 0, cmd_setup_network},
};

static int dial(const char *opt, const char *path, husk_err *err)
{
	if (strcmp(opt, "-u") == 0)
		return dial_unix(path, err);
	if (strcmp(opt, "-H") == 0)
		return vsock_dial(VSOCK_HYBRID, 0, path, 1024, TIMEOUT_MS, err);
	return husk_error_set(err, 0, "unknown option %s", opt);
}

static int connect_agent(const char *opt, const char *path, husk_err *err)
{
	const char *file = getenv("AGENT_TOKEN_FILE");
	struct token t;
	char p[TOKEN_PREAMBLE_LEN];
	if (file && token_read_at(AT_FDCWD, file, &t, err) < 0)
		return -1;
	cleanup_close int fd = dial(opt, path, err);
	if (fd < 0)
		return -1;
	if (file) {
		token_preamble(&t, p);
		if (write(fd, p, sizeof(p)) != (ssize_t)sizeof(p))
			return husk_error_set(err, errno, "send the token");
	}
	return move_fd(fd);
}

static int run(int argc, char **argv, husk_err *err)
{
	struct client c = {0};
	const struct command *cmd = NULL;
	for (size_t i = 0; argc >= 4 && i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[3], commands[i].name) == 0 && argc - 4 >= commands[i].min_args)
			cmd = &commands[i];
	if (!cmd)
		return husk_error_set(err, 0, "usage: agent-client -u SOCKET|-H UDS COMMAND ARGS");
	int fd = connect_agent(argv[1], argv[2], err);
	if (fd < 0)
		return -1;
	if (!(c.loop = husk_loop_new(err)) || !(c.conn = ttrpc_client_new(c.loop, fd, err))) {
		close(fd);
		husk_loop_free(c.loop);
		return -1;
	}
	int ret = cmd->fn(&c, argv + 4, err);
	ttrpc_client_free(c.conn);
	husk_loop_free(c.loop);
	return ret;
}

int main(int argc, char **argv)
{
	cleanup_error husk_err err = NULL;
	if (run(argc, argv, &err) == 0)
		return 0;
	const char *name = err && err->code ? strerrorname_np(err->code) : NULL;
	fprintf(stderr, "agent-client: %s [%s]\n", husk_error_msg(err), name ? name : "-");
	return 1;
}
