/*
 * The serving shim: accepts containerd's connections on the listener it was
 * given as fd 3, queues every Task request and serves the queue from the top
 * of the loop, and exits once Shutdown finds no task left (or on SIGTERM).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "task_request.h"
#include "shim.h"
#include "shim/lib/sbmetrics.h"

#define LISTEN_FD      3
#define EVENT_FLUSH_MS 3000

/* Every method's handler: the request waits for the top of the loop. */
static void enqueue(struct ttrpc_call *call, const uint8_t *payload, size_t len, void *data)
{
	struct shim *s = data;
	const char *method = ttrpc_call_method(call);
	struct job *j = calloc(1, sizeof(*j));
	if (!j) {
		ttrpc_reply(call, TTRPC_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
		return;
	}
	*j = (struct job){.call = call, .payload = payload, .len = len};
	for (size_t i = 0; i < task_nrpcs && !j->rpc; i++)
		if (!strcmp(task_rpcs[i].method, method))
			j->rpc = &task_rpcs[i];
	*s->jobs_tail = j;
	s->jobs_tail = &j->next;
}

static void serve_job(struct shim *s, struct job *j)
{
	cleanup_error husk_err err = NULL;
	ProtobufCMessage *req =
	    task_request_decode(j->rpc->req_desc, j->rpc->method, j->payload, j->len, &err);
	if (!req) {
		log_warn("%s", husk_error_msg(err));
		ttrpc_reply_husk_error(j->call, err);
		return;
	}
	log_debug("task %s", j->rpc->method);
	j->rpc->serve(s, j->call, req);
	protobuf_c_message_free_unpacked(req, NULL);
}

void shim_run_jobs(struct shim *s)
{
	while (s->jobs) {
		struct job *j = s->jobs;
		s->jobs = j->next;
		if (!s->jobs)
			s->jobs_tail = &s->jobs;
		serve_job(s, j);
		free(j);
	}
}

static int on_accept(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct shim *s = data;
	cleanup_error husk_err conn_err = NULL;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return 0;
	if (ttrpc_server_add_conn(s->srv, c, &conn_err) < 0)
		log_warn("connection refused: %s", husk_error_msg(conn_err));
	return 0;
}

int shim_listen(struct shim *s, int fd, husk_err *err)
{
	struct ttrpc_method methods[TASK_MAX_RPCS];
	if (task_nrpcs > TASK_MAX_RPCS)
		return husk_error_set(err, E2BIG, "task service table");
	for (size_t i = 0; i < task_nrpcs; i++)
		methods[i] = (struct ttrpc_method){TASK_SERVICE, task_rpcs[i].method, enqueue};
	s->srv = ttrpc_server_new(s->loop, methods, task_nrpcs, s, err);
	if (!s->srv)
		return -1;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return husk_error_set(err, errno, "listener fd %d", fd);
	s->listen_fd = fd;
	return husk_loop_add(s->loop, fd, EPOLLIN, on_accept, s, err);
}

static int on_signal(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct shim *s = data;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("signal %u: shutting down", si.ssi_signo);
		s->shutdown = true;
	}
	return 0;
}

static int signals_fd(husk_err *err)
{
	static const int stop[] = {SIGTERM, SIGINT};
	return signals_block_fd(stop, ARRAY_SIZE(stop), err);
}

/* containerd reads <bundle>/log (a FIFO it opened) into its own log: our stderr. */
static void open_log_fifo(void)
{
	int fd = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static void serve_loop(struct shim *s)
{
	cleanup_error husk_err err = NULL;
	while (!s->shutdown) {
		int timeout = shim_progress(s);
		if (husk_loop_run_once(s->loop, timeout, &err) < 0) {
			/* only the sandbox's helpers fail the loop: QEMU or a back-end died */
			shim_vm_died(s, err);
			husk_error_free(&err);
		}
		shim_run_jobs(s);
	}
	shim_progress(s);
}

static void tear_down(struct shim *s)
{
	tasks_free(s);
	if (s->oom_timer >= 0) {
		husk_loop_del(s->loop, s->oom_timer);
		close(s->oom_timer);
	}
	sbmetrics_free(s->metrics);
	s->metrics = NULL;
	sandbox_destroy(s->sb);
	s->sb = NULL;
	shim_leave_pod_cgroup(s);
	if (s->pub)
		publisher_flush(s->pub, EVENT_FLUSH_MS);
	publisher_free(s->pub);
	ttrpc_server_free(s->srv);
	if (s->listen_fd >= 0) {
		husk_loop_del(s->loop, s->listen_fd);
		close(s->listen_fd);
	}
	if (s->args->address && !strncmp(s->args->address, "unix://", 7))
		unlink(s->args->address + 7);
	if (s->cfg_loaded)
		config_free(&s->cfg);
	husk_loop_free(s->loop);
}

int shim_serve(const struct shim_args *a)
{
	struct shim s = {.args = a, .listen_fd = -1, .oom_timer = -1};
	cleanup_error husk_err err = NULL;
	s.jobs_tail = &s.jobs;
	signal(SIGPIPE, SIG_IGN);
	open_log_fifo();
	cleanup_close int sigfd = signals_fd(&err);
	if (sigfd < 0 || !(s.loop = husk_loop_new(&err)) ||
	    !(s.pub = publisher_new(s.loop, getenv("TTRPC_ADDRESS"), a->ns, &err)) ||
	    shim_listen(&s, LISTEN_FD, &err) < 0 ||
	    husk_loop_add(s.loop, sigfd, EPOLLIN, on_signal, &s, &err) < 0) {
		log_error("%s", husk_error_msg(err));
		if (s.loop)
			tear_down(&s);
		return 1;
	}
	log_debug("serving %s for namespace %s", a->address, a->ns);
	serve_loop(&s);
	husk_loop_del(s.loop, sigfd);
	tear_down(&s);
	return 0;
}
