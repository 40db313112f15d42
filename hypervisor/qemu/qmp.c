/* Minimal QMP client: one command at a time, every wait bounded by poll. */
#include "qemu.h"

#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/cmsg.h"
#include "lib/fs.h"
#include "lib/json.h"

#define QMP_MAX_DEPTH 32

static int wait_fd(int fd, short events, int64_t deadline, husk_err *err)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		int n = poll(&pfd, 1, deadline_left(deadline));
		if (n > 0)
			return 0;
		if (n == 0)
			return husk_error_set(err, ETIMEDOUT, "QMP");
		if (errno != EINTR)
			return husk_error_set(err, errno, "QMP poll");
	}
}

static int send_all(struct qmp *q, const char *s, int64_t deadline, husk_err *err)
{
	size_t len = strlen(s), off = 0;
	while (off < len) {
		ssize_t n = send(q->fd, s + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return husk_error_set(err, errno, "QMP send");
		if (wait_fd(q->fd, POLLOUT, deadline, err) < 0)
			return -1;
	}
	return 0;
}

/* Next '\n'-terminated line into *line (points into q->buf, valid until the next read). */
static int read_line(struct qmp *q, char **line, size_t *linelen, int64_t deadline, husk_err *err)
{
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->len);
		if (nl) {
			*nl = '\0';
			*line = q->buf;
			*linelen = (size_t)(nl - q->buf);
			return 0;
		}
		if (q->len == QMP_MAX_LINE)
			return husk_error_set(err, EMSGSIZE, "QMP line longer than %d bytes",
			                      QMP_MAX_LINE);
		if (wait_fd(q->fd, POLLIN, deadline, err) < 0)
			return -1;
		ssize_t n = recv(q->fd, q->buf + q->len, QMP_MAX_LINE - q->len, MSG_DONTWAIT);
		if (n == 0)
			return husk_error_set(err, ECONNRESET, "QMP connection closed");
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return husk_error_set(err, errno, "QMP recv");
		if (n > 0)
			q->len += (size_t)n;
	}
}

/* Drops the line returned by the last read_line from the buffer. */
static void consume_line(struct qmp *q, size_t linelen)
{
	size_t used = linelen + 1;
	memmove(q->buf, q->buf + used, q->len - used);
	q->len -= used;
}

/* Reads lines until one that is not an asynchronous event. */
static int read_reply(struct qmp *q, json_object **out, int64_t deadline, husk_err *err)
{
	for (;;) {
		char *line = NULL;
		size_t len = 0;
		if (read_line(q, &line, &len, deadline, err) < 0)
			return -1;
		json_object *obj = json_parse_object(line, len, QMP_MAX_LINE, QMP_MAX_DEPTH, NULL);
		consume_line(q, len);
		if (!obj)
			return husk_error_set(err, EPROTO, "QMP: malformed reply");
		if (json_member(obj, "event")) {
			json_object_put(obj);
			continue;
		}
		*out = obj;
		return 0;
	}
}

static int reply_error(json_object *reply, const char *cmd, husk_err *err)
{
	json_object *e = json_member(reply, "error"), *desc = json_member(e, "desc");
	if (!e)
		return husk_error_set(err, EPROTO, "QMP %s: reply has neither return nor error",
		                      cmd);
	const char *text = json_object_is_type(desc, json_type_string)
	                       ? json_object_get_string(desc)
	                       : "unknown error";
	return husk_error_set(err, 0, "QMP %s: %.200s", cmd, text);
}

static int execute_until(struct qmp *q, const char *cmd, json_object *args, json_object **ret,
                         int64_t deadline, husk_err *err)
{
	json_object *req = json_object_new_object();
	if (!req)
		return husk_error_set(err, ENOMEM, "QMP %s", cmd);
	json_object_object_add(req, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(req, "arguments", json_object_get(args));
	cleanup_free char *line = NULL;
	int r =
	    asprintf(&line, "%s\n", json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	if (r < 0)
		return husk_error_set(err, ENOMEM, "QMP %s", cmd);
	if (send_all(q, line, deadline, err) < 0)
		return husk_error_prefix(err, "%s", cmd);
	json_object *reply = NULL;
	if (read_reply(q, &reply, deadline, err) < 0)
		return husk_error_prefix(err, "%s", cmd);
	json_object *val = json_member(reply, "return");
	if (!val) {
		reply_error(reply, cmd, err);
		json_object_put(reply);
		return -1;
	}
	if (ret)
		*ret = json_object_get(val);
	json_object_put(reply);
	return 0;
}

int qmp_execute(struct qmp *q, const char *cmd, json_object *args, json_object **ret,
                int timeout_ms, husk_err *err)
{
	return execute_until(q, cmd, args, ret, deadline_after(timeout_ms), err);
}

/*
 * The fd rides on the command's first byte alone (SCM_RIGHTS), which QEMU takes as the fd of
 * the command that follows; the rest goes as usual.
 */
int qmp_getfd(struct qmp *q, const char *name, int fd, int timeout_ms, husk_err *err)
{
	int64_t deadline = deadline_after(timeout_ms);
	cleanup_free char *line = NULL;
	if (asprintf(&line, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"%s\"}}\n",
	             name) < 0)
		return husk_error_set(err, ENOMEM, "QMP getfd");
	for (;;) {
		if (cmsg_send(q->fd, line, 1, &fd, 1) == 1)
			break;
		if (errno != EAGAIN && errno != EINTR)
			return husk_error_set(err, errno, "QMP getfd %s: send", name);
		if (errno == EAGAIN && wait_fd(q->fd, POLLOUT, deadline, err) < 0)
			return -1;
	}
	if (send_all(q, line + 1, deadline, err) < 0)
		return husk_error_prefix(err, "getfd %s", name);
	json_object *reply = NULL;
	if (read_reply(q, &reply, deadline, err) < 0)
		return husk_error_prefix(err, "getfd %s", name);
	int r = json_member(reply, "return") ? 0 : reply_error(reply, "getfd", err);
	json_object_put(reply);
	return r;
}

int qmp_connect(struct qmp *q, const char *path, int timeout_ms, husk_err *err)
{
	int64_t deadline = deadline_after(timeout_ms);
	q->len = 0;
	q->buf = malloc(QMP_MAX_LINE + 1);
	q->fd = q->buf ? unix_connect("QMP socket", path, err)
	               : husk_error_set(err, ENOMEM, "QMP buffer");
	if (q->fd < 0)
		goto fail;
	json_object *greeting = NULL;
	if (read_reply(q, &greeting, deadline, err) < 0) {
		husk_error_prefix(err, "greeting");
		goto fail;
	}
	bool is_qmp = json_member(greeting, "QMP");
	json_object_put(greeting);
	if (!is_qmp) {
		husk_error_set(err, EPROTO, "QMP %s: greeting is not QMP", path);
		goto fail;
	}
	if (execute_until(q, "qmp_capabilities", NULL, NULL, deadline, err) < 0)
		goto fail;
	return 0;
fail:
	qmp_close(q);
	return -1;
}

void qmp_close(struct qmp *q)
{
	close_fd(&q->fd);
	free(q->buf);
	q->buf = NULL;
	q->len = 0;
}

int qmp_query_status(struct qmp *q, char *status, size_t len, int timeout_ms, husk_err *err)
{
	json_object *ret = NULL;
	if (qmp_execute(q, "query-status", NULL, &ret, timeout_ms, err) < 0)
		return -1;
	json_object *st = json_member(ret, "status");
	bool ok = json_object_is_type(st, json_type_string);
	if (ok)
		snprintf(status, len, "%s", json_object_get_string(st));
	json_object_put(ret);
	return ok ? 0 : husk_error_set(err, EPROTO, "QMP query-status: no status");
}

int qmp_stop(struct qmp *q, int timeout_ms, husk_err *err)
{
	return qmp_execute(q, "stop", NULL, NULL, timeout_ms, err);
}

int qmp_cont(struct qmp *q, int timeout_ms, husk_err *err)
{
	return qmp_execute(q, "cont", NULL, NULL, timeout_ms, err);
}

int qmp_quit(struct qmp *q, int timeout_ms, husk_err *err)
{
	cleanup_error husk_err e = NULL;
	if (qmp_execute(q, "quit", NULL, NULL, timeout_ms, &e) == 0)
		return 0;
	if (e->code == ECONNRESET || e->code == EPIPE)
		return 0; /* QEMU went away before answering: that is what quit means */
	if (err) {
		husk_error_free(err);
		*err = move_ptr(e);
	}
	return -1;
}

/* {"id": "<prefix><index>"} */
static json_object *nic_args(const char *prefix, size_t index)
{
	char id[32];
	snprintf(id, sizeof(id), "%s%zu", prefix, index);
	json_object *o = json_object_new_object();
	if (o)
		json_object_object_add(o, "id", json_object_new_string(id));
	return o;
}

static int add_netdev(struct qmp *q, size_t index, bool vhost, int timeout_ms, husk_err *err)
{
	char tap[32], vhostfd[32];
	cleanup_json json_object *args = nic_args("net", index);
	snprintf(tap, sizeof(tap), "tap%zu", index);
	snprintf(vhostfd, sizeof(vhostfd), "vhost%zu", index);
	if (!args)
		return husk_error_set(err, ENOMEM, "QMP netdev_add");
	json_object_object_add(args, "type", json_object_new_string("tap"));
	json_object_object_add(args, "fd", json_object_new_string(tap));
	json_object_object_add(args, "vhost", json_object_new_boolean(vhost));
	if (vhost)
		json_object_object_add(args, "vhostfd", json_object_new_string(vhostfd));
	return qmp_execute(q, "netdev_add", args, NULL, timeout_ms, err);
}

static int add_device(struct qmp *q, size_t index, const uint8_t mac[6], int timeout_ms,
                      husk_err *err)
{
	char netdev[32], macstr[18];
	cleanup_json json_object *args = nic_args("nic", index);
	snprintf(netdev, sizeof(netdev), "net%zu", index);
	snprintf(macstr, sizeof(macstr), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
	         mac[3], mac[4], mac[5]);
	if (!args)
		return husk_error_set(err, ENOMEM, "QMP device_add");
	json_object_object_add(args, "driver", json_object_new_string("virtio-net-pci"));
	json_object_object_add(args, "netdev", json_object_new_string(netdev));
	json_object_object_add(args, "mac", json_object_new_string(macstr));
	return qmp_execute(q, "device_add", args, NULL, timeout_ms, err);
}

int qmp_add_nic(struct qmp *q, size_t index, const struct qemu_nic *nic, int timeout_ms,
                husk_err *err)
{
	char name[32];
	snprintf(name, sizeof(name), "tap%zu", index);
	if (qmp_getfd(q, name, nic->tap_fd, timeout_ms, err) < 0)
		return -1;
	snprintf(name, sizeof(name), "vhost%zu", index);
	if (nic->vhost_fd >= 0 && qmp_getfd(q, name, nic->vhost_fd, timeout_ms, err) < 0)
		return -1;
	return add_netdev(q, index, nic->vhost_fd >= 0, timeout_ms, err) < 0 ||
	               add_device(q, index, nic->mac, timeout_ms, err) < 0
	           ? -1
	           : 0;
}
