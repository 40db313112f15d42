#include "tests/unit/harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "agent/copyup.h"
#include "lib/error.h"

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror("write");
		close(fd);
	}
	chmod(path, mode);
}

static const char *get(const char *dir, const char *name)
{
	static char buf[256];
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static mode_t mode_of(const char *dir, const char *name)
{
	struct stat st;
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) < 0 ? 0 : st.st_mode;
}

TEST(copy_tree_copies_files_dirs_links_and_nodes_with_modes)
{
	char src[] = "/tmp/test_copyup_src.XXXXXX", dst[] = "/tmp/test_copyup_dst.XXXXXX";
	char path[512], link[64];
	cleanup_error husk_err err = NULL;
	CHECK(mkdtemp(src) && mkdtemp(dst));
	put(src, "a", "hello", 0640);
	snprintf(path, sizeof(path), "%s/d", src);
	CHECK_INT(mkdir(path, 0751), ==, 0);
	CHECK_INT(chmod(path, 0751), ==, 0);
	put(src, "d/b", "nested", 0600);
	snprintf(path, sizeof(path), "%s/l", src);
	CHECK_INT(symlink("/etc/passwd", path), ==, 0);
	snprintf(path, sizeof(path), "%s/p", src);
	CHECK_INT(mkfifo(path, 0620), ==, 0);
	CHECK_INT(chmod(path, 0620), ==, 0);

	int from = open(src, O_RDONLY | O_DIRECTORY), to = open(dst, O_RDONLY | O_DIRECTORY);
	CHECK_INT(copy_tree(from, to, &err), ==, 0);
	CHECK_STR(get(dst, "a"), "hello");
	CHECK_INT(mode_of(dst, "a"), ==, S_IFREG | 0640);
	CHECK_STR(get(dst, "d/b"), "nested");
	CHECK_INT(mode_of(dst, "d"), ==, S_IFDIR | 0751);
	CHECK_INT(mode_of(dst, "p"), ==, S_IFIFO | 0620);
	snprintf(path, sizeof(path), "%s/l", dst);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	CHECK(n > 0);
	link[n > 0 ? n : 0] = '\0';
	CHECK_STR(link, "/etc/passwd");
	/* an existing entry in the destination is an error naming it */
	CHECK_INT(copy_tree(from, to, &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "copy ") != NULL);
	close(from);
	close(to);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", src, dst);
	CHECK_INT(system(cmd), ==, 0);
}
