#include "modload.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"

static int valid_module_name(const char *name)
{
	size_t len = strlen(name);

	return len > 3 && !strchr(name, '/') && strcmp(name + len - 3, ".ko") == 0;
}

static int load_module(int dirfd, const char *name, husk_err *err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return husk_error_set(err, errno, "module %s: open", name);
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
		return husk_error_set(err, errno, "module %s: finit_module", name);
	return 0;
}

/* Splits order_file into the "modules" directory beside it and opens that. */
static int open_module_dir(const char *order_file, husk_err *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(order_file, '/');
	int n, fd;

	if (slash)
		n = snprintf(dir, sizeof(dir), "%.*s/modules", (int)(slash - order_file),
		             order_file);
	else
		n = snprintf(dir, sizeof(dir), "modules");
	if (n < 0 || (size_t)n >= sizeof(dir))
		return husk_error_set(err, ENAMETOOLONG, "module directory for %s", order_file);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return husk_error_set(err, errno, "open %s", dir);
	return fd;
}

/* Reads one line into buf without its newline; 1 = line, 0 = EOF, -1 = error. */
static int read_name(FILE *f, char *buf, size_t size, unsigned lineno, husk_err *err)
{
	size_t len;

	if (!fgets(buf, (int)size, f))
		return ferror(f) ? husk_error_set(err, EIO, "read line %u", lineno) : 0;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(f))
		return husk_error_set(err, 0, "line %u longer than %d bytes", lineno,
		                      MODLOAD_NAME_MAX);
	return 1;
}

int modload_all(const char *order_file, husk_err *err)
{
	char name[MODLOAD_NAME_MAX + 2];
	cleanup_fclose FILE *f = NULL;
	cleanup_close int dirfd = -1;
	unsigned lineno = 0;
	int r;

	f = fopen(order_file, "re");
	if (!f)
		return husk_error_set(err, errno, "open %s", order_file);
	dirfd = open_module_dir(order_file, err);
	if (dirfd < 0)
		return -1;
	while ((r = read_name(f, name, sizeof(name), ++lineno, err)) > 0) {
		if (name[0] == '\0')
			continue;
		if (!valid_module_name(name))
			return husk_error_set(err, 0, "%s line %u: bad module name '%s'",
			                      order_file, lineno, name);
		if (load_module(dirfd, name, err) < 0)
			return -1;
	}
	return r < 0 ? husk_error_prefix(err, "%s", order_file) : 0;
}
