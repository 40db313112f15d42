#include "fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int mkdir_p(const char *path, mode_t mode, husk_err *err)
{
	cleanup_free char *buf = strdup(path);
	if (!buf)
		return husk_error_set(err, ENOMEM, "mkdir %s", path);
	for (char *c = buf + 1;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char saved = *c;
		*c = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return husk_error_set(err, errno, "mkdir %s", buf);
		if (!saved)
			return 0;
		*c = saved;
	}
}

void close_fd(int *fd)
{
	if (*fd < 0)
		return;
	int saved = errno;
	close(*fd);
	errno = saved;
	*fd = -1;
}
