#include "metricsdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/text.h"

#define FAILCOUNT_FILE METRICS_DIR "/failures"
#define FAILCOUNT_MAX  1024

static const char *const names[FAIL_CAUSES] = {"bundle", "boot", "container", "helper"};

const char *failcount_name(enum fail_cause c)
{
	return names[c];
}

int failcount_dir(husk_err *err)
{
	if (mkdir(METRICS_DIR, 0700) < 0 && errno != EEXIST)
		return husk_error_set(err, errno, "%s", METRICS_DIR);
	return 0;
}

static int read_counts(int fd, uint64_t counts[FAIL_CAUSES])
{
	char buf[FAILCOUNT_MAX];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	for (size_t i = 0; i < FAIL_CAUSES; i++)
		counts[i] = text_field_u64(buf, names[i]);
	return 0;
}

static int write_counts(int fd, const uint64_t counts[FAIL_CAUSES])
{
	char buf[FAILCOUNT_MAX];
	size_t o = 0;
	for (size_t i = 0; i < FAIL_CAUSES; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s: %llu\n", names[i],
		                      (unsigned long long)counts[i]);
	if (pwrite(fd, buf, o, 0) != (ssize_t)o || ftruncate(fd, (off_t)o) < 0)
		return -1;
	return 0;
}

void failcount_add(enum fail_cause c)
{
	cleanup_error husk_err err = NULL;
	uint64_t counts[FAIL_CAUSES];
	if (failcount_dir(&err) < 0) {
		log_debug("failure count: %s", husk_error_msg(err));
		return;
	}
	cleanup_close int fd =
	    open(FAILCOUNT_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0 || read_counts(fd, counts) < 0) {
		log_debug("failure count: %s: %m", FAILCOUNT_FILE);
		return;
	}
	counts[c]++;
	if (write_counts(fd, counts) < 0)
		log_debug("failure count: %s: %m", FAILCOUNT_FILE);
}

int failcount_read(uint64_t counts[FAIL_CAUSES], husk_err *err)
{
	for (size_t i = 0; i < FAIL_CAUSES; i++)
		counts[i] = 0;
	cleanup_close int fd = open(FAILCOUNT_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : husk_error_set(err, errno, "%s", FAILCOUNT_FILE);
	if (flock(fd, LOCK_SH) < 0 || read_counts(fd, counts) < 0)
		return husk_error_set(err, errno, "%s", FAILCOUNT_FILE);
	return 0;
}

int metrics_sock_path(int dirfd, char out[METRICS_SOCK_PATH_MAX], husk_err *err)
{
	struct stat st;
	if (fstat(dirfd, &st) < 0)
		return husk_error_set(err, errno, "state directory");
	snprintf(out, METRICS_SOCK_PATH_MAX, "%s/%llx-%llx.sock", METRICS_DIR,
	         (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	return 0;
}

void metrics_sock_remove(const char *dir)
{
	char path[METRICS_SOCK_PATH_MAX];
	cleanup_close int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && metrics_sock_path(fd, path, NULL) == 0)
		unlink(path);
}
