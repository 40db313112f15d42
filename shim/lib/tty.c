/* Placeholder until the terminal work lands: every call fails cleanly. */
#include "tty.h"

#include <errno.h>

struct tty_front *tty_front_console(const char *console_socket, husk_err *err)
{
	husk_error_set(err, ENOTSUP, "terminals not supported yet");
	return NULL;
}

struct tty_front *tty_front_own(int fd, husk_err *err)
{
	husk_error_set(err, ENOTSUP, "terminals not supported yet");
	return NULL;
}

int tty_front_fd(const struct tty_front *t)
{
	return -1;
}

bool tty_front_size(const struct tty_front *t, unsigned *cols, unsigned *rows)
{
	return false;
}

void tty_front_resize(const struct tty_front *t, struct agent *a, const char *container_id,
                      const char *exec_id)
{
}

void tty_front_free(struct tty_front *t)
{
}
