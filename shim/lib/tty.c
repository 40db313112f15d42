#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/cmsg.h"
#include "lib/fs.h"
#include "lib/log.h"

/* The name runc sends with the master: its pty package names the master by the device it opened. */
#define CONSOLE_NAME      "/dev/ptmx"
#define RESIZE_TIMEOUT_MS 10000

struct tty_front {
	int fd;
	bool own; /* the caller's fd: not closed, saved mode restored */
	struct termios saved;
};

static int make_raw(int fd, struct termios *saved, husk_err *err)
{
	struct termios t;
	if (tcgetattr(fd, &t) < 0)
		return husk_error_set(err, errno, "terminal mode");
	if (saved)
		*saved = t;
	cfmakeraw(&t);
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return husk_error_set(err, errno, "terminal raw mode");
	return 0;
}

/* A pty pair; the slave is opened without becoming anyone's terminal yet. */
static int open_pty(int *master, int *slave, husk_err *err)
{
	char name[64];
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return husk_error_set(err, errno, "open /dev/ptmx");
	if (grantpt(*master) < 0 || unlockpt(*master) < 0 ||
	    ptsname_r(*master, name, sizeof(name)) != 0)
		return husk_error_set(err, errno, "pty");
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		return husk_error_set(err, errno, "open %s", name);
	return 0;
}

struct tty_front *tty_front_console(const char *console_socket, husk_err *err)
{
	cleanup_close int sock = -1, master = -1, slave = -1;
	cleanup_free struct tty_front *t = calloc(1, sizeof(*t));
	if (!t) {
		husk_error_set(err, ENOMEM, "console");
		return NULL;
	}
	if ((sock = unix_connect("console socket", console_socket, err)) < 0 ||
	    open_pty(&master, &slave, err) < 0 || make_raw(slave, NULL, err) < 0)
		return NULL;
	/* so that the receiver's resizes raise SIGWINCH here */
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		log_warn("console: not our controlling terminal (%s): resizes will not reach "
		         "the container",
		         strerror(errno));
	if (cmsg_send(sock, CONSOLE_NAME, strlen(CONSOLE_NAME), &master, 1) < 0) {
		husk_error_set(err, errno, "send the console to %s", console_socket);
		return NULL;
	}
	t->fd = move_fd(slave);
	return move_ptr(t);
}

struct tty_front *tty_front_own(int fd, husk_err *err)
{
	struct tty_front *t = calloc(1, sizeof(*t));
	if (!t) {
		husk_error_set(err, ENOMEM, "terminal");
		return NULL;
	}
	if (!isatty(fd)) {
		husk_error_set(err, ENOTTY, "fd %d is not a terminal", fd);
		free(t);
		return NULL;
	}
	if (make_raw(fd, &t->saved, err) < 0) {
		free(t);
		return NULL;
	}
	t->fd = fd;
	t->own = true;
	return t;
}

int tty_own_fd(void)
{
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++)
		if (isatty(fd))
			return fd;
	return -1;
}

int tty_front_fd(const struct tty_front *t)
{
	return t->fd;
}

bool tty_front_size(const struct tty_front *t, unsigned *cols, unsigned *rows)
{
	struct winsize ws;
	if (ioctl(t->fd, TIOCGWINSZ, &ws) < 0 || (ws.ws_col == 0 && ws.ws_row == 0))
		return false;
	*cols = ws.ws_col;
	*rows = ws.ws_row;
	return true;
}

static void on_resized(ProtobufCMessage *resp, husk_err error, void *data)
{
	if (!resp)
		log_warn("resize terminal: %s", husk_error_msg(error));
}

void tty_front_resize(const struct tty_front *t, struct agent_client *a, const char *container_id,
                      const char *exec_id)
{
	Husk__Agent__V1__ResizePtyRequest req = HUSK__AGENT__V1__RESIZE_PTY_REQUEST__INIT;
	cleanup_error husk_err err = NULL;
	unsigned cols, rows;
	if (!tty_front_size(t, &cols, &rows))
		return;
	req.container_id = (char *)container_id;
	req.exec_id = (char *)exec_id;
	req.width = cols;
	req.height = rows;
	if (agent_client_call(a, "ResizePty", &req.base, &husk__agent__v1__empty__descriptor,
	                      RESIZE_TIMEOUT_MS, on_resized, NULL, &err) < 0)
		log_warn("resize terminal: %s", husk_error_msg(err));
}

void tty_front_free(struct tty_front *t)
{
	if (!t)
		return;
	if (t->own && tcsetattr(t->fd, TCSADRAIN, &t->saved) < 0)
		log_warn("restore terminal mode: %s", strerror(errno));
	if (!t->own)
		close(t->fd);
	free(t);
}

int tty_release_stdio(husk_err *err)
{
	cleanup_close int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
	    dup2(null, STDERR_FILENO) < 0)
		return husk_error_set(err, errno, "/dev/null");
	return 0;
}

int tty_winch_fd(husk_err *err)
{
	static const int winch[] = {SIGWINCH};
	return signals_block_fd(winch, ARRAY_SIZE(winch), err);
}
