/*
 * The hybrid vsock CONNECT line (untrusted host clients) and the guest port
 * path builder: never read past the newline, accept exactly "CONNECT <u32>",
 * and every path is "<uds>_<decimal port>" within sun_path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/vsock/hybrid.h"

static void check_path(const uint8_t *data, size_t size)
{
	char uds[160];
	size_t n = size < sizeof(uds) - 1 ? size : sizeof(uds) - 1;
	memcpy(uds, data, n);
	uds[n] = '\0';
	uint32_t port = 0;
	if (size >= 4)
		memcpy(&port, data, 4);
	char out[UDS_PATH_MAX + 1], want[200];
	int r = hybrid_port_path(out, sizeof(out), uds, port);
	snprintf(want, sizeof(want), "%s_%u", uds, port);
	if (r == 0 && (strcmp(out, want) != 0 || strlen(out) > UDS_PATH_MAX))
		abort();
	if (r < 0 && strlen(want) <= UDS_PATH_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct connect_line l = {0};
	size_t used = 0;
	int r = 0;
	while (used < size && (r = connect_line_feed(&l, (char)data[used++])) == 0)
		;
	if (l.len > CONNECT_LINE_MAX || (r == 1 && data[used - 1] != '\n') ||
	    memchr(l.buf, '\n', l.len))
		abort();
	uint32_t port;
	if (r == 1 && connect_line_parse(l.buf, l.len, &port) == 0) {
		/* only "CONNECT " + digits gets here, and the value round-trips */
		if (l.len < 9 || memcmp(l.buf, "CONNECT ", 8) != 0)
			abort();
		uint64_t v = 0;
		for (size_t i = 8; i < l.len; i++) {
			if (l.buf[i] < '0' || l.buf[i] > '9')
				abort();
			v = v * 10 + (uint64_t)(l.buf[i] - '0');
		}
		if (v != port)
			abort();
	}
	check_path(data, size);
	return 0;
}
