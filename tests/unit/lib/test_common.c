#include "tests/unit/harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wchar.h>

#include "lib/cleanup.h"
#include "lib/cmsg.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/loop.h"
#include <sys/epoll.h>

TEST(error_prefix_builds_one_line)
{
	cleanup_error husk_err err = NULL;
	CHECK_INT(husk_error_set(&err, ENOENT, "config.json"), ==, -1);
	husk_error_prefix(&err, "bundle %s", "/x");
	husk_error_prefix(&err, "create %s", "abc");
	CHECK_STR(husk_error_msg(err),
	          "create abc: bundle /x: config.json: No such file or directory");
	CHECK_INT(err->code, ==, ENOENT);
}

TEST(error_without_code_has_no_suffix)
{
	cleanup_error husk_err err = NULL;
	husk_error_set(&err, 0, "bad value %d", 7);
	CHECK_STR(husk_error_msg(err), "bad value 7");
	CHECK_STR(husk_error_msg(NULL), "unknown error");
}

TEST(error_set_code_keeps_the_message)
{
	cleanup_error husk_err err = NULL;
	CHECK_INT(husk_error_set_code(&err, EEXIST), ==, -1);
	CHECK(!err);
	husk_error_set(&err, 0, "container x already exists");
	CHECK_INT(husk_error_set_code(&err, EEXIST), ==, -1);
	CHECK_STR(husk_error_msg(err), "container x already exists");
	CHECK_INT(err->code, ==, EEXIST);
}

/* A message that cannot be made takes the path of an allocation failing. */
static int set_unprintable(husk_err *err)
{
	static const wchar_t not_ascii[] = {0x100, 0};
	return husk_error_set(err, EINVAL, "%ls", not_ascii);
}

TEST(error_without_memory_is_still_an_error)
{
	cleanup_error husk_err err = NULL;
	CHECK_INT(set_unprintable(&err), ==, -1);
	CHECK(err != NULL);
	CHECK_STR(husk_error_msg(err), "out of memory");
	CHECK_INT(err->code, ==, ENOMEM);
	husk_error_prefix(&err, "create %s", "abc");
	husk_error_set_code(&err, EEXIST);
	CHECK_STR(husk_error_msg(err), "out of memory");
	CHECK_INT(err->code, ==, ENOMEM);
	husk_error_free(&err);
	CHECK(!err);
	set_unprintable(&err);
	husk_error_set(&err, ENOENT, "config.json");
	CHECK_STR(husk_error_msg(err), "config.json: No such file or directory");
}

TEST(log_levels_parse)
{
	enum husk_log_level l;
	CHECK_INT(log_parse_level("debug", &l), ==, 0);
	CHECK_INT(l, ==, LOG_LEVEL_DEBUG);
	CHECK_INT(log_parse_level("warning", &l), ==, 0);
	CHECK_INT(l, ==, LOG_LEVEL_WARN);
	CHECK_INT(log_parse_level("loud", &l), ==, -1);
}

TEST(log_json_line_is_escaped)
{
	int p[2];
	char buf[512] = {0};
	CHECK(pipe(p) == 0);
	log_set_output(p[1], 1);
	log_error("quote \" and\nnewline");
	log_set_output(STDERR_FILENO, 0);
	close(p[1]);
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	CHECK(n > 0);
	CHECK(strstr(buf, "{\"level\":\"error\",\"msg\":\"quote \\\" and\\u000anewline\"") == buf);
}

TEST(cmsg_passes_fds)
{
	int sv[2], p[2], got[HUSK_MAX_FDS];
	size_t nfds = 0;
	char b = 0;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(pipe(p) == 0);
	CHECK_INT(cmsg_send(sv[0], "x", 1, p, 2), ==, 1);
	CHECK_INT(cmsg_recv(sv[1], &b, 1, got, HUSK_MAX_FDS, &nfds), ==, 1);
	CHECK_INT(nfds, ==, 2);
	CHECK(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
	CHECK_INT(write(got[1], "y", 1), ==, 1);
	CHECK_INT(read(p[0], &b, 1), ==, 1);
	CHECK_INT(b, ==, 'y');
	for (int i = 0; i < 2; i++) {
		close(got[i]);
		close(p[i]);
		close(sv[i]);
	}
}

TEST(cmsg_rejects_too_many_fds)
{
	int sv[2], p[2], got[1];
	size_t nfds = 9;
	char b;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(pipe(p) == 0);
	CHECK_INT(cmsg_send(sv[0], "x", 1, p, 2), ==, 1);
	CHECK_INT(cmsg_recv(sv[1], &b, 1, got, 1, &nfds), ==, -1);
	CHECK_INT(errno, ==, EMSGSIZE);
	CHECK_INT(nfds, ==, 0);
	for (int i = 0; i < 2; i++) {
		close(p[i]);
		close(sv[i]);
	}
}

struct counter {
	int hits;
	int fd;
};

static int on_readable(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	struct counter *c = data;
	char b;
	if (read(fd, &b, 1) != 1)
		return husk_error_set(err, errno, "read");
	c->hits++;
	husk_loop_del(loop, fd);
	husk_loop_stop(loop, 7);
	return 0;
}

TEST(loop_dispatches_and_stops)
{
	struct counter c = {0, -1};
	int p[2];
	husk_err err = NULL;
	struct husk_loop *loop = husk_loop_new(&err);
	CHECK(loop);
	CHECK(pipe(p) == 0);
	CHECK_INT(husk_loop_add(loop, p[0], EPOLLIN, on_readable, &c, &err), ==, 0);
	CHECK_INT(write(p[1], "z", 1), ==, 1);
	CHECK_INT(husk_loop_run(loop, &err), ==, 7);
	CHECK_INT(c.hits, ==, 1);
	husk_loop_free(loop);
	close(p[0]);
	close(p[1]);
}
