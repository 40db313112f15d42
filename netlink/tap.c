#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/cleanup.h"

#define TUN_DEV "/dev/net/tun"

int tap_open(const char *name, husk_err *err)
{
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
	if (strlen(name) >= sizeof(ifr.ifr_name))
		return husk_error_set(err, ENAMETOOLONG, "tap %s", name);
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	cleanup_close int fd = open(TUN_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return husk_error_set(err, errno, "tap %s: %s", name, TUN_DEV);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return husk_error_set(err, errno, "tap %s: TUNSETIFF", name);
	return move_fd(fd);
}

int tap_probe(husk_err *err)
{
	cleanup_close int fd = open(TUN_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return husk_error_set(err, errno, "%s", TUN_DEV);
	return 0;
}
