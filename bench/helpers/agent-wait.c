/*
 * Waits until something in the guest accepts a vsock connection on a port
 * (husk-agent: 1024) through husk-vsockd's hybrid socket, then exits 0.
 * Usage: agent-wait UDS_PATH PORT TIMEOUT_MS
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vsock/dial.h"
#include "cleanup.h"
#include "log.h"

int main(int argc, char **argv)
{
	cleanup_error husk_err err = NULL;

	log_init("agent-wait");
	if (argc != 4) {
		fprintf(stderr, "usage: agent-wait UDS_PATH PORT TIMEOUT_MS\n");
		return 2;
	}
	int fd = vsock_dial(VSOCK_HYBRID, 0, argv[1], (uint32_t)strtoul(argv[2], NULL, 10),
			    atoi(argv[3]), &err);
	if (fd < 0) {
		fprintf(stderr, "agent-wait: %s\n", husk_error_msg(err));
		return 1;
	}
	close(fd);
	return 0;
}
