#include "confine.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "lib/cleanup.h"

static void release_filter(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* What the loop does after start-up; glibc's wrappers may pick either of a pair. */
static const int allowed[] = {
    /* the loop, its timer, signalfd and eventfds */
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(read),
    SCMP_SYS(readv),
    SCMP_SYS(write),
    SCMP_SYS(writev),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(getpid),
    /* QEMU's connection (messages with fds), host connections, CONNECT to <uds>_P */
    SCMP_SYS(accept4),
    SCMP_SYS(connect),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendmsg),
    SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),
    SCMP_SYS(shutdown),
    SCMP_SYS(getsockopt),
    SCMP_SYS(fcntl),
    SCMP_SYS(close),
    /* guest RAM regions (checked against the memfd's size), and malloc */
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(munmap),
    SCMP_SYS(brk),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    /* exit: the listening sockets are unlinked */
    SCMP_SYS(unlink),
    SCMP_SYS(exit_group),
    SCMP_SYS(exit),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigprocmask),
};

int vsockd_confine(husk_err *err)
{
	__attribute__((cleanup(release_filter))) scmp_filter_ctx ctx =
	    seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return husk_error_set(err, ENOMEM, "seccomp");
	int r = 0;
	for (size_t i = 0; i < ARRAY_SIZE(allowed) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* Unix sockets only; guest RAM and heap mappings, never executable */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		                     SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
		                     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_load(ctx);
	if (r < 0)
		return husk_error_set(err, -r, "seccomp filter");
	return 0;
}
