#include "ocistate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/json.h"

/* state.json is one flat object */
#define OCISTATE_MAX_DEPTH 4

static const char *const status_names[] = {"creating", "created", "running", "stopped", "paused"};

const char *oci_status_name(enum oci_status s)
{
	return status_names[s];
}

int proc_start_time(pid_t pid, unsigned long long *out)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields resume after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* field 3 (state) follows; starttime is field 22 */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -1;
	*out = strtoull(p + 1, NULL, 10);
	return 0;
}

int ocistate_init(struct oci_state *s, const char *id, const char *bundle, const char *rootfs,
                  json_object *annotations, husk_err *err)
{
	struct timespec now;
	struct tm tm;
	char date[32];

	*s = (struct oci_state){.status = OCI_CREATING, .pid = getpid(), .exit_status = -1};
	snprintf(s->id, sizeof(s->id), "%s", id);
	if (proc_start_time(s->pid, &s->pid_start) < 0)
		return husk_error_set(err, errno, "/proc/self/stat");
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(s->created, sizeof(s->created), "%.20s.%09ldZ", date, now.tv_nsec % 1000000000);
	s->bundle = strdup(bundle);
	s->rootfs = strdup(rootfs);
	s->annotations = json_object_get(annotations);
	if (!s->bundle || !s->rootfs) {
		ocistate_free(s);
		return husk_error_set(err, ENOMEM, "state");
	}
	return 0;
}

void ocistate_free(struct oci_state *s)
{
	free(s->bundle);
	free(s->rootfs);
	s->bundle = s->rootfs = NULL;
	json_object_put(s->annotations);
	s->annotations = NULL;
}

static json_object *state_json(const struct oci_state *s, enum oci_status status, bool internal)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "ociVersion", json_object_new_string("1.1.0"));
	json_object_object_add(o, "id", json_object_new_string(s->id));
	json_object_object_add(
	    o, "pid", json_object_new_int(status == OCI_STOPPED && !internal ? 0 : s->pid));
	json_object_object_add(o, "status", json_object_new_string(oci_status_name(status)));
	json_object_object_add(o, "bundle", json_object_new_string(s->bundle));
	json_object_object_add(o, "rootfs", json_object_new_string(s->rootfs));
	json_object_object_add(o, "created", json_object_new_string(s->created));
	json_object_object_add(o, "owner", json_object_new_string(""));
	if (s->annotations)
		json_object_object_add(o, "annotations", json_object_get(s->annotations));
	if (internal) {
		json_object_object_add(o, "huskOwnerStart", json_object_new_uint64(s->pid_start));
		json_object_object_add(o, "huskExitStatus", json_object_new_int(s->exit_status));
	}
	return o;
}

int ocistate_write(const char *dir, const struct oci_state *s, husk_err *err)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, OCISTATE_FILE);
	snprintf(path, sizeof(path), "%s/%s", dir, OCISTATE_FILE);
	json_object *o = state_json(s, s->status, true);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                         JSON_C_TO_STRING_NOSLASHESCAPE);
	int ret = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		ret = husk_error_set(err, errno, "write %s", tmp);
	if (fd >= 0 && close(fd) < 0 && !ret)
		ret = husk_error_set(err, errno, "write %s", tmp);
	if (!ret && rename(tmp, path) < 0)
		ret = husk_error_set(err, errno, "rename %s", tmp);
	json_object_put(o);
	return ret;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v = json_member(o, key);
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int parse_state(json_object *o, const char *id, struct oci_state *s)
{
	const char *status = get_str(o, "status"), *bundle = get_str(o, "bundle"),
	           *rootfs = get_str(o, "rootfs"), *created = get_str(o, "created");
	json_object *pid = json_member(o, "pid"), *start = json_member(o, "huskOwnerStart"),
	            *exit = json_member(o, "huskExitStatus");
	if (!status || !bundle || !rootfs || !created || !pid || !start || !exit)
		return -1;
	*s = (struct oci_state){.status = OCI_STOPPED};
	for (size_t i = 0; i < ARRAY_SIZE(status_names); i++)
		if (!strcmp(status, status_names[i]))
			s->status = (enum oci_status)i;
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->created, sizeof(s->created), "%s", created);
	s->pid = json_object_get_int(pid);
	s->pid_start = json_object_get_uint64(start);
	s->exit_status = json_object_get_int(exit);
	s->bundle = strdup(bundle);
	s->rootfs = strdup(rootfs);
	json_object *annotations = json_member(o, "annotations");
	if (json_object_is_type(annotations, json_type_object))
		s->annotations = json_object_get(annotations);
	if (!s->bundle || !s->rootfs) {
		ocistate_free(s);
		return -1;
	}
	return 0;
}

int ocistate_read(const char *root, const char *id, struct oci_state *s, husk_err *err)
{
	char path[PATH_MAX];
	if (container_id_check(id, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s/%s", root, id, OCISTATE_FILE);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		husk_error_set(err, 0, "container %s does not exist", id);
		return husk_error_set_code(err, ENOENT);
	}
	if (fd < 0)
		return husk_error_set(err, errno, "%s", path);
	cleanup_free char *buf = malloc(OCISTATE_MAX + 1);
	if (!buf)
		return husk_error_set(err, ENOMEM, "%s", path);
	/* one write made the file (temp file + rename), but a read may still come short */
	size_t got = 0;
	ssize_t n = 1;
	while (got <= OCISTATE_MAX && (n = read(fd, buf + got, OCISTATE_MAX + 1 - got)) > 0)
		got += (size_t)n;
	if (n < 0 || got > OCISTATE_MAX)
		return husk_error_set(err, n < 0 ? errno : EFBIG, "%s", path);
	cleanup_json json_object *o =
	    json_parse_object(buf, got, OCISTATE_MAX, OCISTATE_MAX_DEPTH, NULL);
	if (!o || parse_state(o, id, s) < 0)
		return husk_error_set(err, EINVAL, "%s: malformed", path);
	snprintf(path, sizeof(path), "%s/%s/%s", root, id, OCISTATE_PAUSED);
	if (s->status == OCI_RUNNING && access(path, F_OK) == 0)
		s->status = OCI_PAUSED;
	return 0;
}

int ocistate_set_paused(const char *root, const char *id, bool paused, husk_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s/%s", root, id, OCISTATE_PAUSED);
	if (!paused)
		return unlink(path) < 0 && errno != ENOENT ? husk_error_set(err, errno, "%s", path)
		                                           : 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return husk_error_set(err, errno, "%s", path);
	close(fd);
	return 0;
}

int ocistate_owner_pidfd(const struct oci_state *s)
{
	unsigned long long start;
	if (s->pid <= 0)
		return -1;
	int fd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (fd < 0)
		return -1;
	/*
	 * checked after opening the pidfd: the pid cannot be reused while we hold it. A pidfd
	 * is readable once its process exited: an owner its parent has not reaped yet is gone too.
	 */
	struct pollfd exited = {.fd = fd, .events = POLLIN};
	if (proc_start_time(s->pid, &start) < 0 || start != s->pid_start ||
	    poll(&exited, 1, 0) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

enum oci_status ocistate_live_status(const struct oci_state *s)
{
	if (s->status == OCI_STOPPED)
		return OCI_STOPPED;
	cleanup_close int fd = ocistate_owner_pidfd(s);
	return fd < 0 ? OCI_STOPPED : s->status;
}

void ocistate_print(FILE *f, const struct oci_state *s, bool pretty)
{
	json_object *o = state_json(s, ocistate_live_status(s), false);
	fprintf(f, "%s\n",
	        json_object_to_json_string_ext(
	            o, JSON_C_TO_STRING_NOSLASHESCAPE |
	                   (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
	                           : JSON_C_TO_STRING_PLAIN)));
	json_object_put(o);
}

char *ocistate_json(const struct oci_state *s, enum oci_status status)
{
	json_object *o = state_json(s, status, false);
	char *text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                          JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

int ocistate_lock(const char *root, const char *id, husk_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s/%s", root, id, OCISTATE_LOCK);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == ENOENT) {
		husk_error_set(err, 0, "container %s does not exist", id);
		return husk_error_set_code(err, ENOENT);
	}
	if (fd < 0)
		return husk_error_set(err, errno, "%s", path);
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return husk_error_set(err, errno, "lock %s", path);
	}
	return fd;
}
