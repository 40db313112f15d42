/*
 * husk events: a container's events as JSON lines, as `runc events` prints
 * them: {"type":"stats",...} every --interval (StatsContainer) and
 * {"type":"oom","id":ID} as they happen (the sandbox-wide GetOOMEvent
 * long-poll, filtered by id), until the container stops; --stats prints one
 * stats line and exits. One epoll loop: the agent connection, a timerfd for
 * the interval and the owner's pidfd, whose exit means the container stopped.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "shim/lib/attach.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "husk.h"
#include "shim/lib/procfig.h"
#include "shim/lib/ratelimit.h"

/* after the owner exited or the connection ended, how long to wait for the other */
#define END_MS 10000

struct events {
	struct attach_session s;
	const char *id;
	bool stats_busy, owner_gone, conn_lost;
	husk_err failure;
	/* the guest may answer GetOOMEvent without end: one "oom" line per second */
	struct rate_limit oom_lines;
};

static void set_failure(struct events *e, husk_err error)
{
	if (!e->failure)
		husk_error_set(&e->failure, error ? error->code : 0, "%s",
		               error ? husk_error_msg(error) : "failed");
}

static void print_event(json_object *ev)
{
	printf("%s\n", json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
	                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(ev);
}

static json_object *new_event(const char *type, const char *id)
{
	json_object *ev = json_object_new_object();
	json_object_object_add(ev, "type", json_object_new_string(type));
	json_object_object_add(ev, "id", json_object_new_string(id));
	return ev;
}

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static uint64_t usec_to_ns(uint64_t us)
{
	return us > UINT64_MAX / 1000 ? UINT64_MAX : us * 1000;
}

static json_object *blkio_entry(const char *op, uint64_t value)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "op", json_object_new_string(op));
	add_u64(o, "value", value);
	return o;
}

/* runc's stats shape (types.Stats); a limit the guest does not set is the maximum, as in runc */
static json_object *stats_json(const Husk__Agent__V1__StatsContainerResponse *r)
{
	json_object *data = json_object_new_object(), *cpu = json_object_new_object(),
	            *usage = json_object_new_object(), *mem = json_object_new_object(),
	            *mem_usage = json_object_new_object(), *pids = json_object_new_object(),
	            *blkio = json_object_new_object(), *bytes = json_object_new_array();
	add_u64(usage, "total", usec_to_ns(r->cpu_usage_usec));
	add_u64(usage, "kernel", usec_to_ns(r->cpu_system_usec));
	add_u64(usage, "user", usec_to_ns(r->cpu_user_usec));
	json_object_object_add(cpu, "usage", usage);
	json_object_object_add(cpu, "throttling", json_object_new_object());
	add_u64(mem_usage, "limit", r->memory_max ? r->memory_max : UINT64_MAX);
	add_u64(mem_usage, "usage", r->memory_current);
	add_u64(mem_usage, "failcnt", 0);
	json_object_object_add(mem, "usage", mem_usage);
	add_u64(pids, "current", r->pids_current);
	if (r->pids_max)
		add_u64(pids, "limit", r->pids_max);
	json_object_array_add(bytes, blkio_entry("Read", r->io_rbytes));
	json_object_array_add(bytes, blkio_entry("Write", r->io_wbytes));
	json_object_object_add(blkio, "ioServiceBytesRecursive", bytes);
	json_object_object_add(data, "cpu", cpu);
	json_object_object_add(data, "memory", mem);
	json_object_object_add(data, "pids", pids);
	json_object_object_add(data, "blkio", blkio);
	json_object_object_add(data, "hugetlb", json_object_new_object());
	json_object_object_add(data, "intel_rdt", json_object_new_object());
	json_object_object_add(data, "network_interfaces", NULL);
	return data;
}

/*
 * The host's side, apart from the guest's figures above: the owner and every process under it
 * (QEMU, the helpers and what they forked). QEMU's memory holds the guest RAM it touched.
 */
static json_object *host_json(const struct oci_state *st)
{
	cleanup_close int owner = ocistate_owner_pidfd(st);
	if (owner < 0)
		return NULL;
	struct proc_figures f;
	procfig_read(st->pid, true, &f);
	json_object *host = json_object_new_object(), *mem = json_object_new_object(),
	            *cpu = json_object_new_object(), *usage = json_object_new_object();
	add_u64(mem, "pss", f.pss);
	add_u64(mem, "rss", f.rss);
	add_u64(usage, "total", f.cpu_ns);
	json_object_object_add(cpu, "usage", usage);
	json_object_object_add(host, "memory", mem);
	json_object_object_add(host, "cpu", cpu);
	add_u64(host, "processes", f.procs);
	return host;
}

static void print_stats(struct events *e, const Husk__Agent__V1__StatsContainerResponse *r)
{
	json_object *ev = new_event("stats", e->id), *data = stats_json(r),
	            *host = host_json(&e->s.st);
	if (host)
		json_object_object_add(data, "host", host);
	json_object_object_add(ev, "data", data);
	print_event(ev);
}

static int call_oom(struct events *e, husk_err *err);

static void on_oom(ProtobufCMessage *msg, husk_err error, void *data)
{
	struct events *e = data;
	Husk__Agent__V1__OOMEvent *ev = (void *)msg;
	cleanup_error husk_err call_err = NULL;
	if (!ev && agent_client_alive(e->s.agent)) {
		set_failure(e, error);
		return;
	}
	if (!ev) {
		/* the VM powers off when the container stops: the owner's exit tells */
		e->conn_lost = true;
		return;
	}
	if (!strcmp(ev->container_id, e->id) && rate_limit_allow(&e->oom_lines, monotonic_ms()))
		print_event(new_event("oom", e->id));
	if (call_oom(e, &call_err) < 0)
		set_failure(e, call_err);
}

static int call_oom(struct events *e, husk_err *err)
{
	Husk__Agent__V1__Empty req = HUSK__AGENT__V1__EMPTY__INIT;
	return agent_client_call(e->s.agent, "GetOOMEvent", &req.base,
	                         &husk__agent__v1__oomevent__descriptor, AGENT_CALL_LONG_POLL,
	                         on_oom, e, err);
}

static void on_stats(ProtobufCMessage *msg, husk_err error, void *data)
{
	struct events *e = data;
	e->stats_busy = false;
	if (msg)
		print_stats(e, (void *)msg);
	else if (error->code != ENOENT && agent_client_alive(e->s.agent))
		set_failure(e, error); /* not "container not found" of one that just stopped */
}

static int on_tick(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct events *e = data;
	Husk__Agent__V1__ContainerRequest req = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	uint64_t ticks;
	if (read(fd, &ticks, sizeof(ticks)) < 0 || e->stats_busy || e->conn_lost)
		return 0;
	req.container_id = (char *)e->id;
	if (agent_client_call(e->s.agent, "StatsContainer", &req.base,
	                      &husk__agent__v1__stats_container_response__descriptor,
	                      (int)e->s.cfg.timeouts.agent_call_ms, on_stats, e, err) < 0)
		return -1;
	e->stats_busy = true;
	return 0;
}

static int on_owner_exit(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct events *e = data;
	e->owner_gone = true;
	husk_loop_del(loop, fd);
	return 0;
}

/* Runs until the owner exited and the connection ended (either alone: END_MS more). */
static int follow(struct events *e, int64_t interval_ns, husk_err *err)
{
	struct itimerspec its = {
	    .it_interval = {interval_ns / 1000000000, interval_ns % 1000000000},
	    .it_value = {interval_ns / 1000000000, interval_ns % 1000000000}};
	cleanup_close int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	cleanup_close int owner = ocistate_owner_pidfd(&e->s.st);
	int64_t deadline = -1;
	if (owner < 0)
		return husk_error_set(err, 0, "container has stopped");
	if (timer < 0 || timerfd_settime(timer, 0, &its, NULL) < 0)
		return husk_error_set(err, errno, "interval timer");
	if (husk_loop_add(e->s.loop, timer, EPOLLIN, on_tick, e, err) < 0 ||
	    husk_loop_add(e->s.loop, owner, EPOLLIN, on_owner_exit, e, err) < 0 ||
	    call_oom(e, err) < 0)
		return -1;
	while (!(e->owner_gone && e->conn_lost)) {
		if ((e->owner_gone || e->conn_lost) && deadline < 0)
			deadline = deadline_after(END_MS);
		int left = deadline_left(deadline);
		if (left == 0)
			break;
		if (husk_loop_run_once(e->s.loop, left, err) < 0)
			return -1;
		if (e->failure) {
			*err = move_ptr(e->failure);
			return -1;
		}
	}
	husk_loop_del(e->s.loop, timer);
	if (!e->owner_gone)
		return husk_error_set(err, 0, "agent connection lost");
	return 0;
}

static int stats_once(struct events *e, husk_err *err)
{
	Husk__Agent__V1__ContainerRequest req = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = (char *)e->id;
	if (agent_client_call_sync(e->s.agent, "StatsContainer", &req.base,
	                           &husk__agent__v1__stats_container_response__descriptor,
	                           (int)e->s.cfg.timeouts.agent_call_ms, &resp, err) < 0)
		return -1;
	print_stats(e, (void *)resp);
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

/* A Go-style duration ("5s", "500ms", "1m30s", "1.5s"), > 0; -1 when malformed. */
static int64_t parse_duration(const char *s)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 6e10}, {"h", 3.6e12}};
	double total = 0;
	if (!*s)
		return -1;
	while (*s) {
		char *end;
		if ((*s < '0' || *s > '9') && *s != '.')
			return -1;
		double v = strtod(s, &end);
		size_t best = SIZE_MAX, best_len = 0;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t n = strlen(units[i].unit);
			if (!strncmp(end, units[i].unit, n) && n > best_len) {
				best = i;
				best_len = n;
			}
		}
		if (end == s || best == SIZE_MAX)
			return -1;
		total += v * units[best].ns;
		s = end + best_len;
	}
	return isfinite(total) && total >= 1 && total < 8.64e15 ? (int64_t)total : -1;
}

int cmd_events(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {{"stats", no_argument, NULL, 's'},
	                                     {"interval", required_argument, NULL, 'i'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *use = "usage: husk events [--stats] [--interval DURATION] ID\n";
	struct events e = {.oom_lines = RATE_LIMIT_INIT(1000, 1)};
	int64_t interval_ns = 5000000000LL;
	bool once = false;
	int c;
	while ((c = getopt_long(argc, argv, "+si:h", opts, NULL)) != -1) {
		if (c == 's') {
			once = true;
		} else if (c == 'i') {
			if ((interval_ns = parse_duration(optarg)) < 0)
				return husk_error_set(err, 0,
				                      "events: --interval %s: not a duration "
				                      "greater than 0 (like 5s or 500ms)",
				                      optarg),
				       1;
		} else {
			fputs(use, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1) {
		fputs(use, stderr);
		return 2;
	}
	e.id = argv[optind];
	if (attach_open(&e.s, g->root, e.id, err) < 0) {
		husk_error_prefix(err, "events %s", e.id);
		return 1;
	}
	int r = once ? stats_once(&e, err) : follow(&e, interval_ns, err);
	attach_close(&e.s);
	husk_error_free(&e.failure);
	if (r < 0) {
		husk_error_prefix(err, "events %s", e.id);
		return 1;
	}
	return 0;
}
