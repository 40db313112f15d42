#include "control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "ocistate.h"
#include "statedir.h"

/* requests and replies are flat objects */
#define CONTROL_MAX_DEPTH 4

static int send_all(int fd, const char *buf, size_t len, husk_err *err)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_error_set(err, errno, "send");
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one line (without '\n') of at most len-1 bytes before the deadline: its length. */
static ssize_t recv_line(int fd, char *buf, size_t len, int timeout_ms, husk_err *err)
{
	size_t have = 0;
	int64_t deadline = deadline_after(timeout_ms);
	while (have < len - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, deadline_left(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return husk_error_set(err, errno, "poll");
		if (r == 0)
			return husk_error_set(err, ETIMEDOUT, "no answer within %d ms", timeout_ms);
		ssize_t n = recv(fd, buf + have, len - 1 - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_error_set(err, errno, "recv");
		if (n == 0)
			return husk_error_set(err, ECONNRESET,
			                      "connection closed without an answer");
		char *nl = memchr(buf + have, '\n', (size_t)n);
		have += (size_t)n;
		if (nl)
			return nl - buf;
	}
	return husk_error_set(err, EMSGSIZE, "answer longer than %zu bytes", len - 1);
}

static int check_reply(const char *line, size_t len, husk_err *err)
{
	cleanup_json json_object *o =
	    json_parse_object(line, len, CONTROL_MAX_LINE, CONTROL_MAX_DEPTH, NULL);
	json_object *ok = json_member(o, "ok"), *msg = json_member(o, "error");
	if (!ok)
		return husk_error_set(err, EPROTO, "malformed answer");
	if (json_object_get_boolean(ok))
		return 0;
	return husk_error_set(err, 0, "%s", msg ? json_object_get_string(msg) : "failed");
}

int control_call(const char *root, const char *id, const struct control_request *req,
                 int timeout_ms, husk_err *err)
{
	char path[STATEDIR_SOCK_PATH_MAX], line[CONTROL_MAX_LINE];
	cleanup_close int dir = statedir_open(root, id, err);
	if (dir < 0 || statedir_sock_path(dir, OCISTATE_CONTROL, path, err) < 0)
		return -1;
	cleanup_close int fd = unix_connect("connect", path, err);
	if (fd < 0)
		return -1;
	int n = snprintf(line, sizeof(line), "{\"op\":\"%s\",\"signal\":%d,\"all\":%s}\n", req->op,
	                 req->signal, req->all ? "true" : "false");
	if (send_all(fd, line, (size_t)n, err) < 0)
		return husk_error_prefix(err, "%s", path);
	ssize_t len = recv_line(fd, line, sizeof(line), timeout_ms, err);
	if (len < 0)
		return husk_error_prefix(err, "%s", path);
	return check_reply(line, (size_t)len, err);
}

int control_parse(const char *line, size_t len, struct control_request *req, husk_err *err)
{
	cleanup_json json_object *o =
	    json_parse_object(line, len, CONTROL_MAX_LINE, CONTROL_MAX_DEPTH, NULL);
	json_object *op = json_member(o, "op"), *sig = json_member(o, "signal"),
	            *all = json_member(o, "all");
	*req = (struct control_request){0};
	if (!json_object_is_type(op, json_type_string) ||
	    strlen(json_object_get_string(op)) >= sizeof(req->op))
		return husk_error_set(err, EINVAL, "malformed request");
	strcpy(req->op, json_object_get_string(op));
	if (json_object_is_type(sig, json_type_int))
		req->signal = json_object_get_int(sig);
	if (all)
		req->all = json_object_get_boolean(all);
	return 0;
}

size_t control_reply(husk_err error, char *buf, size_t len)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(!error));
	if (error)
		json_object_object_add(o, "error", json_object_new_string(husk_error_msg(error)));
	int n =
	    snprintf(buf, len, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (n < 0 || (size_t)n >= len) {
		n = snprintf(buf, len, "{\"ok\":false,\"error\":\"reply too long\"}\n");
	}
	return (size_t)n;
}
