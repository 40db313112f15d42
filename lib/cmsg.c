#include "cmsg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

ssize_t cmsg_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	char control[CMSG_SPACE(sizeof(int) * HUSK_MAX_FDS)];
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (nfds > HUSK_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	if (nfds) {
		memset(control, 0, sizeof(control));
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

ssize_t cmsg_recv(int sock, void *buf, size_t len, int *fds, size_t maxfds, size_t *nfds)
{
	char control[CMSG_SPACE(sizeof(int) * HUSK_MAX_FDS)];
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov,
	                     .msg_iovlen = 1,
	                     .msg_control = control,
	                     .msg_controllen = sizeof(control)};
	size_t got = 0;
	int overflow = 0;
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *in = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, in + i, sizeof(fd));
			if (got < maxfds) {
				fds[got++] = fd;
			} else {
				close(fd);
				overflow = 1;
			}
		}
	}
	if (overflow || (msg.msg_flags & MSG_CTRUNC)) {
		for (size_t i = 0; i < got; i++)
			close(fds[i]);
		errno = EMSGSIZE;
		return -1;
	}
	*nfds = got;
	return n;
}
