/*
 * The `start` and `delete` actions containerd runs before and after a
 * shim's life (runtime/v2 binary.go). start: one socket per group (pod),
 * named after sha256(containerd address/namespace/group); an existing live
 * socket is reused, else the serving shim is started with the listener as
 * fd 3 and its address printed. delete: prints a DeleteResponse and clears
 * what a dead shim left, never touching a shim that still serves.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "proto/containerd/task.pb-c.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "proto/ttrpc.pb-c.h"
#include "shim.h"
#include "oci/limits.h"
#include "oci/specjson.h"
#include "oci/ocispec.h"
#include "shim/lib/bundle.h"
#include "shim/lib/hostcg.h"
#include "shim/lib/statedir.h"
#include "ttrpc/ttrpc.h"

#define OPTIONS_MAX    (1u << 20)
#define ADDRESS_MAX    106
#define CLEAR_ATTEMPTS 100
#define CLEAR_RETRY_MS 50
#define PROBE_MS       2000
/* a service no shim serves: any ttrpc server answers it at once (UNIMPLEMENTED) */
#define PROBE_SERVICE "containerd-shim-husk-v2.Probe"
#define PROBE_METHOD  "Serving"

char *spec_annotation(const char *json, size_t len, const char *key)
{
	cleanup_error husk_err err = NULL;
	cleanup_json json_object *root = spec_json_parse(json, len, &err);
	json_object *val = json_member(json_member(root, "annotations"), key);
	return json_object_is_type(val, json_type_string) ? strdup(json_object_get_string(val))
	                                                  : NULL;
}

char *spec_group(const char *json, size_t len)
{
	static const char *const keys[] = {"io.containerd.runc.v2.group",
	                                   "io.kubernetes.cri.sandbox-id"};
	char *group = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(keys) && !group; i++)
		group = spec_annotation(json, len, keys[i]);
	return group;
}

char *shim_group_id(const char *bundle, const char *id, husk_err *err)
{
	struct bundle spec = {0};
	cleanup_free char *rootfs = NULL;
	if (bundle_load(bundle, &spec, &rootfs, err) < 0)
		return NULL;
	char *group = spec_group(spec.json, spec.json_len);
	bundle_free(&spec);
	if (!group)
		group = strdup(id);
	if (!group)
		husk_error_set(err, ENOMEM, "group id");
	else if (container_id_check(group, err) < 0) {
		free(group);
		return NULL;
	}
	return group;
}

/* unix:///run/containerd/s/<sha256(address/ns/group)>; sock gets the path. */
static int socket_address(const struct shim_args *a, const char *group, char *addr, size_t len,
                          struct sockaddr_un *sa, husk_err *err)
{
	char hex[2 * SHA256_LEN + 1];
	cleanup_free char *joined = NULL;
	if (asprintf(&joined, "%s/%s/%s", a->address, a->ns, group) < 0)
		return husk_error_set(err, ENOMEM, "address");
	sha256_hex(joined, strlen(joined), hex);
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", SHIM_SOCKET_DIR, hex);
	int n = snprintf(addr, len, "unix://%s", sa->sun_path);
	if (n < 0 || (size_t)n >= len || n > ADDRESS_MAX)
		return husk_error_set(err, ENAMETOOLONG, "address %s", addr);
	return 0;
}

static bool socket_alive(const struct sockaddr_un *sa)
{
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
}

/* A ttrpc request frame (stream 1) for PROBE_SERVICE; its length, 0 if buf is too small. */
static size_t probe_frame(uint8_t *buf, size_t size)
{
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	req.service = (char *)PROBE_SERVICE;
	req.method = (char *)PROBE_METHOD;
	size_t len = ttrpc__request__get_packed_size(&req);
	if (size < TTRPC_HEADER_LEN || len > size - TTRPC_HEADER_LEN)
		return 0;
	struct ttrpc_header h = {
	    .length = (uint32_t)len, .stream_id = 1, .type = TTRPC_TYPE_REQUEST};
	ttrpc_header_encode(&h, buf);
	ttrpc__request__pack(&req, buf + TTRPC_HEADER_LEN);
	return TTRPC_HEADER_LEN + len;
}

/*
 * Whether a shim serves the group's socket. That a connect succeeds is not
 * enough: a shim killed outright has its files released one at a time as it
 * exits, containerd's connections to it (whose closing makes containerd run
 * `delete`) before its listener, so its socket can still accept for a moment
 * after the shim is gone. So a request for a service nobody serves goes out:
 * a serving shim answers it from its loop at once (it never waits behind a
 * task request), while a dead shim's listener goes away unanswered and resets
 * the connection. An unanswered socket is dead only if it then refuses
 * connections; one silent for PROBE_MS is taken for a busy shim and left be.
 */
static bool shim_serves(const struct sockaddr_un *sa)
{
	uint8_t frame[TTRPC_HEADER_LEN + 64], byte;
	size_t len = probe_frame(frame, sizeof(frame));
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || len == 0)
		return true; /* cannot tell */
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		return false;
	if (send(fd, frame, len, MSG_NOSIGNAL) == (ssize_t)len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r;
		do
			r = poll(&p, 1, PROBE_MS);
		while (r < 0 && errno == EINTR);
		if (r == 0 || (r > 0 && recv(fd, &byte, 1, MSG_DONTWAIT) == 1))
			return true;
	}
	return socket_alive(sa);
}

/* Binds the group's socket; 0 with *fd = -1 when a live shim already owns it. */
static int bind_socket(const struct sockaddr_un *sa, int *fd, husk_err *err)
{
	*fd = -1;
	if (mkdir_p(SHIM_SOCKET_DIR, 0711, err) < 0)
		return -1;
	cleanup_close int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return husk_error_set(err, errno, "socket");
	mode_t old = umask(0077);
	int r = bind(s, (const struct sockaddr *)sa, sizeof(*sa));
	if (r < 0 && errno == EADDRINUSE) {
		if (shim_serves(sa)) {
			umask(old);
			return 0;
		}
		unlink(sa->sun_path);
		r = bind(s, (const struct sockaddr *)sa, sizeof(*sa));
	}
	umask(old);
	if (r < 0)
		return husk_error_set(err, errno, "bind %s", sa->sun_path);
	if (listen(s, 64) < 0) {
		unlink(sa->sun_path);
		return husk_error_set(err, errno, "listen %s", sa->sun_path);
	}
	*fd = move_fd(s);
	return 0;
}

/* <bundle>/address, written whole or not at all. */
static int write_address_file(const char *address, husk_err *err)
{
	cleanup_close int fd = open("address.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(address);
	if (fd < 0 || write(fd, address, len) != (ssize_t)len ||
	    rename("address.tmp", "address") < 0)
		return husk_error_set(err, errno, "address file");
	return 0;
}

/* The serving shim: fd 3 the listener, stdio /dev/null, its own session. */
static int spawn_server(const struct shim_args *a, const char *address, int listen_fd,
                        husk_err *err)
{
	const char *argv[] = {SHIM_NAME, "-namespace", a->ns,   "-id",
	                      a->id,     "-address",   address, a->debug ? "-debug" : NULL,
	                      NULL};
	int status_pipe[2];
	if (pipe2(status_pipe, O_CLOEXEC) < 0)
		return husk_error_set(err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(status_pipe[0]);
		close(status_pipe[1]);
		return husk_error_set(err, errno, "fork");
	}
	if (pid == 0) {
		/* stdio first: /dev/null may be opened as fd 3 */
		int devnull = open("/dev/null", O_RDWR);
		if (setsid() < 0 || devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
		    dup2(devnull, 2) < 0)
			goto fail;
		if (listen_fd == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(listen_fd, 3) < 0)
			goto fail;
		close_range(4, ~0U, CLOSE_RANGE_CLOEXEC);
		execv("/proc/self/exe", (char *const *)argv);
	fail : {
		int e = errno;
		if (write(status_pipe[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	}
	close(status_pipe[1]);
	int child_errno = 0;
	ssize_t n = read(status_pipe[0], &child_errno, sizeof(child_errno));
	close(status_pipe[0]);
	if (n == sizeof(child_errno))
		return husk_error_set(err, child_errno, "exec %s", SHIM_NAME);
	return 0;
}

/* containerd writes the runtime options (an Any) on stdin; they come again with Create. */
static void drain_stdin(void)
{
	char buf[4096];
	size_t total = 0;
	ssize_t n;
	while (total < OPTIONS_MAX && (n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		total += (size_t)n;
}

int shim_action_start(const struct shim_args *a)
{
	cleanup_error husk_err err = NULL;
	cleanup_free char *group = NULL;
	cleanup_close int listen_fd = -1;
	char address[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	struct sockaddr_un sa;

	drain_stdin();
	if (!(group = shim_group_id(".", a->id, &err)) ||
	    socket_address(a, group, address, sizeof(address), &sa, &err) < 0 ||
	    bind_socket(&sa, &listen_fd, &err) < 0 || write_address_file(address, &err) < 0)
		goto fail;
	if (listen_fd >= 0 && spawn_server(a, address, listen_fd, &err) < 0) {
		unlink(sa.sun_path);
		goto fail;
	}
	printf("%s", address);
	return fflush(stdout) == 0 ? 0 : 1;
fail:
	fprintf(stderr, "%s: start %s: %s\n", SHIM_NAME, a->id, husk_error_msg(err));
	return 1;
}

/*
 * What a dead shim of this group left: its sandbox state and its socket. Its
 * VM's helpers die with it (PR_SET_PDEATHSIG) but can take a moment to, on a
 * loaded host: the removal is retried quietly for a bounded time, then once
 * more with its warnings.
 */
static void clear_dead_shim(const char *group, const struct sockaddr_un *sa)
{
	char dir[PATH_MAX];
	struct stat st;
	enum husk_log_level level = log_get_level();
	snprintf(dir, sizeof(dir), "%s/%s", SHIM_STATE_ROOT, group);
	unlink(sa->sun_path);
	hostcg_remove_recorded(dir);
	log_set_level(LOG_LEVEL_ERROR);
	for (int i = 0; i < CLEAR_ATTEMPTS && stat(dir, &st) == 0; i++) {
		if (i)
			nanosleep(&(struct timespec){0, CLEAR_RETRY_MS * 1000000L}, NULL);
		statedir_remove_path(dir);
	}
	log_set_level(level);
	if (stat(dir, &st) == 0)
		statedir_remove_path(dir);
}

int shim_action_delete(const struct shim_args *a)
{
	cleanup_error husk_err err = NULL;
	const char *bundle = a->bundle ? a->bundle : ".";
	char address[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	struct sockaddr_un sa;
	cleanup_free char *group = shim_group_id(bundle, a->id, &err);
	if (!group) {
		/* no readable bundle: the task's group is itself */
		husk_error_free(&err);
		group = strdup(a->id);
	}
	if (group && container_id_check(group, &err) == 0 &&
	    socket_address(a, group, address, sizeof(address), &sa, &err) == 0 && !shim_serves(&sa))
		clear_dead_shim(group, &sa);
	if (err)
		fprintf(stderr, "%s: delete %s: %s\n", SHIM_NAME, a->id, husk_error_msg(err));

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	Containerd__Types__Timestamp ts = CONTAINERD__TYPES__TIMESTAMP__INIT;
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	resp.exit_status = 128 + 9;
	resp.exited_at = &ts;
	uint8_t buf[64];
	size_t len = containerd__task__v2__delete_response__pack(&resp, buf);
	return fwrite(buf, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
}
