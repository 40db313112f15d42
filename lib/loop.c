#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define MAX_EVENTS 64

struct watch {
	int fd;
	int dead;
	husk_loop_cb cb;
	void *data;
	struct watch *next;
};

struct husk_loop {
	int epfd;
	int stopped;
	int status;
	struct watch *watches;
};

struct husk_loop *husk_loop_new(husk_err *err)
{
	struct husk_loop *loop = calloc(1, sizeof(*loop));
	if (!loop) {
		husk_error_set(err, ENOMEM, "event loop");
		return NULL;
	}
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		husk_error_set(err, errno, "epoll_create1");
		free(loop);
		return NULL;
	}
	return loop;
}

void husk_loop_free(struct husk_loop *loop)
{
	if (!loop)
		return;
	while (loop->watches) {
		struct watch *w = loop->watches;
		loop->watches = w->next;
		free(w);
	}
	close(loop->epfd);
	free(loop);
}

static struct watch *find_watch(struct husk_loop *loop, int fd)
{
	for (struct watch *w = loop->watches; w; w = w->next)
		if (w->fd == fd && !w->dead)
			return w;
	return NULL;
}

int husk_loop_add(struct husk_loop *loop, int fd, uint32_t events, husk_loop_cb cb, void *data,
                  husk_err *err)
{
	struct watch *w = calloc(1, sizeof(*w));
	if (!w)
		return husk_error_set(err, ENOMEM, "event loop watch");
	w->fd = fd;
	w->cb = cb;
	w->data = data;
	struct epoll_event ev = {.events = events, .data.ptr = w};
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		free(w);
		return husk_error_set(err, e, "epoll_ctl add fd %d", fd);
	}
	w->next = loop->watches;
	loop->watches = w;
	return 0;
}

int husk_loop_mod(struct husk_loop *loop, int fd, uint32_t events, husk_err *err)
{
	struct watch *w = find_watch(loop, fd);
	if (!w)
		return husk_error_set(err, ENOENT, "epoll_ctl mod fd %d", fd);
	struct epoll_event ev = {.events = events, .data.ptr = w};
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return husk_error_set(err, errno, "epoll_ctl mod fd %d", fd);
	return 0;
}

void husk_loop_del(struct husk_loop *loop, int fd)
{
	struct watch *w = find_watch(loop, fd);
	if (!w)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	/* Freed after the current dispatch round: later events may still point at it. */
	w->dead = 1;
}

static void reap_dead(struct husk_loop *loop)
{
	struct watch **pp = &loop->watches;
	while (*pp) {
		struct watch *w = *pp;
		if (w->dead) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

int husk_loop_run_once(struct husk_loop *loop, int timeout_ms, husk_err *err)
{
	struct epoll_event evs[MAX_EVENTS];
	int n = epoll_wait(loop->epfd, evs, MAX_EVENTS, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return husk_error_set(err, errno, "epoll_wait");
	}
	int ret = 0;
	for (int i = 0; i < n && !loop->stopped; i++) {
		struct watch *w = evs[i].data.ptr;
		if (w->dead)
			continue;
		if (w->cb(loop, w->fd, evs[i].events, w->data, err) < 0) {
			ret = -1;
			break;
		}
	}
	reap_dead(loop);
	return ret;
}

int husk_loop_run(struct husk_loop *loop, husk_err *err)
{
	while (!loop->stopped)
		if (husk_loop_run_once(loop, -1, err) < 0)
			return -1;
	return loop->status;
}

void husk_loop_stop(struct husk_loop *loop, int status)
{
	loop->stopped = 1;
	loop->status = status;
}

int husk_loop_stopped(struct husk_loop *loop)
{
	return loop->stopped;
}

int signals_block_fd(const int *sigs, size_t n, husk_err *err)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < n; i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return husk_error_set(err, errno, "sigprocmask");
	int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return husk_error_set(err, errno, "signalfd");
	return fd;
}
