/* Scope-based cleanup and explicit ownership transfer (lxc/crun habit). */
#ifndef HUSK_CLEANUP_H
#define HUSK_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_free_fn(void *p)
{
	free(*(void **)p);
}

static inline void cleanup_close_fn(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void cleanup_fclose_fn(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void cleanup_closedir_fn(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define cleanup_free     __attribute__((cleanup(cleanup_free_fn)))
#define cleanup_close    __attribute__((cleanup(cleanup_close_fn)))
#define cleanup_fclose   __attribute__((cleanup(cleanup_fclose_fn)))
#define cleanup_closedir __attribute__((cleanup(cleanup_closedir_fn)))

/* Hand an fd or pointer out of a cleanup-owned variable. */
static inline int move_fd_impl(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}
#define move_fd(fd) move_fd_impl(&(fd))

static inline void *move_ptr_impl(void *pp)
{
	void **p = pp;
	void *r = *p;
	*p = NULL;
	return r;
}
#define move_ptr(p) move_ptr_impl(&(p))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
