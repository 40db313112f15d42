#include "modload.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/cleanup.h"

static int valid_module_name(const char *name)
{
	size_t len = strlen(name);

	return len > 3 && !strchr(name, '/') && strcmp(name + len - 3, ".ko") == 0;
}

/*
 * A module kept gzipped (NAME.ko.gz: those loaded on demand, which so take a
 * third of the guest memory the initrd's files hold for good), unpacked into
 * a memfd for finit_module.
 */
static int gunzip_module(int dirfd, const char *name, husk_err *err)
{
	char gz[MODLOAD_NAME_MAX + 8], buf[65536];
	size_t total = 0;
	int n;

	snprintf(gz, sizeof(gz), "%s.gz", name);
	int fd = openat(dirfd, gz, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return husk_error_set(err, errno, "module %s: open", name);
	gzFile z = gzdopen(fd, "rb");
	if (!z) {
		close(fd);
		return husk_error_set(err, ENOMEM, "module %s: gzdopen", name);
	}
	cleanup_close int mfd = memfd_create(name, MFD_CLOEXEC);
	if (mfd < 0) {
		gzclose(z);
		return husk_error_set(err, errno, "module %s: memfd_create", name);
	}
	/* ends with n 0 at the end of the stream, > 0 when too large or not written */
	while ((n = gzread(z, buf, sizeof(buf))) > 0 && (total += (size_t)n) <= MODLOAD_SIZE_MAX &&
	       write(mfd, buf, (size_t)n) == n)
		;
	gzclose(z);
	if (n != 0)
		return husk_error_set(err, EINVAL, "module %s: unpack %s", name, gz);
	return move_fd(mfd);
}

static int load_module(int dirfd, const char *name, husk_err *err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		fd = gunzip_module(dirfd, name, err);
	else if (fd < 0)
		return husk_error_set(err, errno, "module %s: open", name);
	if (fd < 0)
		return -1;
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
static int read_line(FILE *f, char *buf, size_t size, unsigned lineno, husk_err *err)
{
	size_t len;

	if (!fgets(buf, (int)size, f))
		return ferror(f) ? husk_error_set(err, EIO, "read line %u", lineno) : 0;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(f))
		return husk_error_set(err, 0, "line %u longer than %zu bytes", lineno, size - 2);
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
	while ((r = read_line(f, name, sizeof(name), ++lineno, err)) > 0) {
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

/* Opens file in dir; NULL with errno set when it cannot. */
static FILE *open_in(int dirfd, const char *file)
{
	int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "re");
	if (fd >= 0 && !f)
		close(fd);
	return f;
}

/* Module names treat '-' and '_' alike (kmod does too). */
static void underscores(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
}

/*
 * The module an alias line of modules.alias ("alias PATTERN MODULE") maps name
 * to, as a file name into file; 0 when none does.
 */
static int resolve_alias(int dirfd, const char *name, char *file, size_t size, husk_err *err)
{
	char line[MODLOAD_LINE_MAX + 2], pattern[MODLOAD_LINE_MAX], module[MODLOAD_NAME_MAX];
	cleanup_fclose FILE *f = open_in(dirfd, "modules.alias");
	unsigned lineno = 0;
	int r;

	if (!f)
		return errno == ENOENT ? 0 : husk_error_set(err, errno, "open modules.alias");
	while ((r = read_line(f, line, sizeof(line), ++lineno, err)) > 0)
		if (sscanf(line, "alias %1023s %127s", pattern, module) == 2 &&
		    fnmatch(pattern, name, 0) == 0) {
			underscores(module);
			snprintf(file, size, "%s.ko", module);
			return 1;
		}
	return r < 0 ? husk_error_prefix(err, "modules.alias") : 0;
}

/*
 * The dependencies of module file (the line "FILE: DEP..." of modules.dep,
 * all of them as depmod lists them) into line, split at spaces into deps.
 * Returns their number, or -1 when modules.dep has no such module.
 */
static int find_deps(int dirfd, const char *file, char *line, size_t size, char **deps, size_t max,
                     husk_err *err)
{
	cleanup_fclose FILE *f = open_in(dirfd, "modules.dep");
	size_t flen = strlen(file);
	unsigned lineno = 0;
	int r;

	if (!f)
		return husk_error_set(err, errno, "open modules.dep");
	while ((r = read_line(f, line, size, ++lineno, err)) > 0) {
		if (strncmp(line, file, flen) != 0 || line[flen] != ':')
			continue;
		size_t n = 0;
		for (char *save, *t = strtok_r(line + flen + 1, " ", &save); t;
		     t = strtok_r(NULL, " ", &save)) {
			if (n == max || !valid_module_name(t))
				return husk_error_set(
				    err, 0, "modules.dep line %u: bad dependencies", lineno);
			deps[n++] = t;
		}
		return (int)n;
	}
	return r < 0 ? husk_error_prefix(err, "modules.dep")
	             : husk_error_set(err, ENOENT, "module %s: not in the guest image", file);
}

int modload_probe(const char *dir, const char *name, husk_err *err)
{
	char file[MODLOAD_NAME_MAX + 4], line[MODLOAD_LINE_MAX + 2], *deps[MODLOAD_DEPS_MAX];
	cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int n;

	if (dirfd < 0)
		return husk_error_set(err, errno, "open %s", dir);
	if (strlen(name) >= MODLOAD_NAME_MAX || strchr(name, '/'))
		return husk_error_set(err, EINVAL, "module %.64s: bad name", name);
	n = resolve_alias(dirfd, name, file, sizeof(file), err);
	if (n < 0)
		return -1;
	if (n == 0) {
		snprintf(file, sizeof(file), "%s.ko", name);
		underscores(file);
	}
	n = find_deps(dirfd, file, line, sizeof(line), deps, MODLOAD_DEPS_MAX, err);
	if (n < 0)
		return husk_error_prefix(err, "%s", name);
	cleanup_close int mods = openat(dirfd, "modules", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mods < 0)
		return husk_error_set(err, errno, "open %s/modules", dir);
	/* depmod lists them so that the last is loaded first */
	while (n-- > 0)
		if (load_module(mods, deps[n], err) < 0)
			return -1;
	return load_module(mods, file, err);
}
