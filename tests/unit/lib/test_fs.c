/* lib/fs.h and lib/clock.h: mkdir -p, close_fd, deadlines. */
#include "tests/unit/harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/fs.h"

TEST(mkdir_p_creates_every_missing_directory_with_the_mode)
{
	char root[] = "/tmp/husk-test-fs-XXXXXX", path[128];
	CHECK(mkdtemp(root) != NULL);
	snprintf(path, sizeof(path), "%s/a/b/c", root);
	cleanup_error husk_err err = NULL;
	mode_t old = umask(0);
	int r = mkdir_p(path, 0711, &err);
	umask(old);
	CHECK_INT(r, ==, 0);
	struct stat st;
	CHECK_INT(stat(path, &st), ==, 0);
	CHECK(S_ISDIR(st.st_mode));
	CHECK_INT(st.st_mode & 07777, ==, 0711);
	CHECK_INT(mkdir_p(path, 0711, &err), ==, 0); /* already there */
	CHECK(!err);
	snprintf(path, sizeof(path), "rm -rf %s", root);
	CHECK_INT(system(path), ==, 0);
}

TEST(mkdir_p_names_the_component_that_failed)
{
	char root[] = "/tmp/husk-test-fs-XXXXXX", file[128], path[160], want[256];
	CHECK(mkdtemp(root) != NULL);
	snprintf(file, sizeof(file), "%s/file", root);
	int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/sub/x", file);
	cleanup_error husk_err err = NULL;
	int r = mkdir_p(path, 0700, &err);
	unlink(file);
	rmdir(root);
	CHECK_INT(r, ==, -1);
	snprintf(want, sizeof(want), "mkdir %s/sub: Not a directory", file);
	CHECK_STR(husk_error_msg(err), want);
	CHECK_INT(err->code, ==, ENOTDIR);
}

TEST(close_fd_closes_once_and_keeps_errno)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	int copy = fd;
	errno = EAGAIN;
	close_fd(&fd);
	CHECK_INT(fd, ==, -1);
	CHECK_INT(errno, ==, EAGAIN);
	CHECK_INT(fcntl(copy, F_GETFD), ==, -1);
	close_fd(&fd); /* already closed: nothing to do */
	CHECK_INT(fd, ==, -1);
}

TEST(deadline_left_of_none_expired_and_pending)
{
	CHECK_INT(deadline_after(-1), ==, -1);
	CHECK_INT(deadline_left(-1), ==, -1);
	CHECK_INT(deadline_left(deadline_after(0)), ==, 0);
	CHECK_INT(deadline_left(monotonic_ms() - 1000), ==, 0);
	int left = deadline_left(deadline_after(60000));
	CHECK_INT(left, >, 59000);
	CHECK_INT(left, <=, 60000);
}
