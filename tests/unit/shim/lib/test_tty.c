/* shim/lib/tty.c: the console front's one SCM_RIGHTS message and raw slave; the own front's
 * restore. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/cmsg.h"
#include "tests/unit/harness/test.h"
#include "shim/lib/tty.h"

static int open_pair(int *master, int *slave)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0 || grantpt(*master) < 0 || unlockpt(*master) < 0)
		return -1;
	*slave = open(ptsname(*master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	return *slave < 0 ? -1 : 0;
}

static int listen_at(struct sockaddr_un *addr)
{
	char dir[] = "/tmp/husk-tty-XXXXXX";
	if (!mkdtemp(dir))
		return -1;
	*addr = (struct sockaddr_un){.sun_family = AF_UNIX};
	snprintf(addr->sun_path, sizeof(addr->sun_path), "%s/s", dir);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) < 0 || listen(fd, 1) < 0)
		return -1;
	return fd;
}

static void remove_socket(const struct sockaddr_un *addr)
{
	char dir[sizeof(addr->sun_path)];
	snprintf(dir, sizeof(dir), "%s", addr->sun_path);
	unlink(dir);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
}

TEST(tty_console_sends_one_master_named_like_runc)
{
	cleanup_error husk_err err = NULL;
	struct sockaddr_un addr;
	cleanup_close int lfd = listen_at(&addr);
	CHECK(lfd >= 0);
	struct tty_front *t = tty_front_console(addr.sun_path, &err);
	remove_socket(&addr);
	CHECK(t != NULL);
	cleanup_close int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	int fds[HUSK_MAX_FDS];
	size_t nfds = 0;
	char name[64] = {0};
	ssize_t n = cmsg_recv(conn, name, sizeof(name) - 1, fds, HUSK_MAX_FDS, &nfds);
	CHECK_INT(nfds, ==, 1);
	cleanup_close int master = fds[0];
	CHECK_INT(n, ==, 9);
	CHECK_STR(name, "/dev/ptmx");
	/* the slave is raw: no echo, no CR/LF mapping either way */
	struct termios tio;
	CHECK_INT(tcgetattr(tty_front_fd(t), &tio), ==, 0);
	CHECK(!(tio.c_lflag & (ECHO | ICANON)) && !(tio.c_oflag & OPOST));
	CHECK_INT(write(master, "a\r", 2), ==, 2);
	char buf[8];
	CHECK_INT(read(tty_front_fd(t), buf, sizeof(buf)), ==, 2);
	CHECK(buf[1] == '\r');
	struct winsize ws = {.ws_row = 33, .ws_col = 111};
	unsigned cols, rows;
	CHECK(!tty_front_size(t, &cols, &rows));
	CHECK_INT(ioctl(master, TIOCSWINSZ, &ws), ==, 0);
	CHECK(tty_front_size(t, &cols, &rows));
	CHECK_INT(cols, ==, 111);
	CHECK_INT(rows, ==, 33);
	tty_front_free(t);
}

TEST(tty_console_names_a_missing_socket)
{
	cleanup_error husk_err err = NULL;
	CHECK(tty_front_console("/nonexistent/husk.sock", &err) == NULL);
	CHECK_STR(husk_error_msg(err),
	          "console socket /nonexistent/husk.sock: No such file or directory");
}

/* The terminal's mode, field by field (struct termios has padding that tcgetattr leaves alone). */
static int same_mode(const struct termios *a, const struct termios *b)
{
	return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
	       a->c_lflag == b->c_lflag && a->c_line == b->c_line &&
	       memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc)) == 0 && cfgetispeed(a) == cfgetispeed(b) &&
	       cfgetospeed(a) == cfgetospeed(b);
}

TEST(tty_own_raw_until_freed)
{
	cleanup_error husk_err err = NULL;
	cleanup_close int master = -1, slave = -1;
	struct termios before, during, after;
	CHECK_INT(open_pair(&master, &slave), ==, 0);
	CHECK_INT(tcgetattr(slave, &before), ==, 0);
	struct tty_front *t = tty_front_own(slave, &err);
	CHECK(t != NULL);
	CHECK_INT(tty_front_fd(t), ==, slave);
	CHECK_INT(tcgetattr(slave, &during), ==, 0);
	CHECK(!(during.c_lflag & (ECHO | ICANON | ISIG)));
	tty_front_free(t);
	CHECK_INT(tcgetattr(slave, &after), ==, 0);
	CHECK(same_mode(&before, &after));
	CHECK_INT(fcntl(slave, F_GETFD), >=, 0); /* the caller's fd stays open */
}

TEST(tty_own_refuses_a_non_terminal)
{
	cleanup_error husk_err err = NULL;
	cleanup_close int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(tty_front_own(fd, &err) == NULL);
	CHECK(strstr(husk_error_msg(err), "is not a terminal") != NULL);
}
