/*
 * The whole guest tx path of husk-vsockd: a hostile guest's packet stream
 * (headers, lengths, ops, ports), interleaved with rx buffers, host-side
 * traffic, timeouts and device restarts, through the real device code and a
 * synthetic ring. Input: records of [action][args...].
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "hypervisor/vsock/hybrid.h"
#include "hypervisor/vsock/vsock_dev.h"
#include "tests/guest/vsock_guest.h"

#define CID         3
#define LISTEN_PORT 1234
#define MAX_HOST    16

static struct test_guest g;
static struct vsock_dev dev;
static struct husk_loop *loop;
static char uds[64];
static int listener = -1;
static int host_fds[MAX_HOST];
static unsigned nhost;

static char dir[] = "/tmp/fuzz_vsock_tx.XXXXXX";
static char listen_path[96];

static void remove_files(void)
{
	unlink(listen_path);
	rmdir(dir);
}

static void setup(void)
{
	husk_err err = NULL;
	log_set_level(LOG_LEVEL_ERROR);
	if (!mkdtemp(dir) || tg_init(&g) < 0 || !(loop = husk_loop_new(&err)))
		abort();
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	hybrid_port_path(listen_path, sizeof(listen_path), uds, LISTEN_PORT);
	listener = uds_listen(listen_path, &err);
	atexit(remove_files);
	if (listener < 0 || vsock_dev_init(&dev, loop, &g.vu, CID, uds, 8192, &err) < 0)
		abort();
}

/* Accepts what the device connected to and has every host peer send a little. */
static void host_traffic(void)
{
	int fd;
	while (nhost < MAX_HOST && (fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0)
		host_fds[nhost++] = fd;
	static const char data[300] = "host";
	for (unsigned i = 0; i < nhost; i++)
		(void)!send(host_fds[i], data, sizeof(data), MSG_DONTWAIT | MSG_NOSIGNAL);
	husk_err err = NULL;
	husk_loop_run_once(loop, 0, &err);
	husk_error_free(&err);
}

static void send_packet(const uint8_t **data, size_t *size, uint8_t action)
{
	uint8_t raw[VSOCK_PKT_HDR_SIZE] = {0};
	size_t n = *size < sizeof(raw) ? *size : sizeof(raw);
	memcpy(raw, *data, n);
	*data += n;
	*size -= n;
	struct vsock_hdr h;
	vsock_hdr_decode(raw, &h);
	if (action & 0x10) { /* mostly plausible packets, to get past the gate */
		h.src_cid = CID;
		h.dst_cid = VSOCK_CID_HOST;
		h.type = VSOCK_TYPE_STREAM;
		h.op = 1 + h.op % 7;
		h.src_port %= 4;
		h.dst_port = (action & 0x20) ? LISTEN_PORT : VSOCK_LOCAL_PORT_LO + h.dst_port % 4;
	}
	uint32_t avail = (uint32_t)(*size < 2048 ? *size : 2048);
	if (action & 0x40)
		h.len = h.len % (avail + 1);
	vsock_hdr_encode(&h, raw);
	static uint8_t buf[VSOCK_PKT_HDR_SIZE + 2048];
	memcpy(buf, raw, sizeof(raw));
	size_t payload = h.len < avail ? h.len : avail;
	memcpy(buf + sizeof(raw), *data, payload);
	*data += payload;
	*size -= payload;
	tg_send_raw(&g, buf, sizeof(raw) + payload);
}

static void host_connect(uint8_t port_sel)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) < 0)
		return;
	if (nhost < MAX_HOST)
		host_fds[nhost++] = sp[1];
	else
		close(sp[1]);
	vsock_dev_connect_host(&dev, sp[0], port_sel % 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!loop)
		setup();
	vsock_dev_ops.started(&dev);
	unsigned queued = 0;
	while (size > 0) {
		uint8_t a = *data++;
		size--;
		switch (a % 6) {
		case 0:
			if (tg_rx_outstanding(&g) + 8 <= TG_NUM) {
				g.rx_buf_len = 44 + (a >> 3) * 97;
				tg_add_rx(&g, 1 + (a >> 3) % 8);
				vsock_dev_ops.queue_kick(&dev, VSOCK_RX_QUEUE);
			}
			break;
		case 1:
			send_packet(&data, &size, a);
			if (++queued == TG_NUM / 2) {
				vsock_dev_ops.queue_kick(&dev, VSOCK_TX_QUEUE);
				queued = 0;
			}
			break;
		case 2:
			vsock_dev_ops.queue_kick(&dev, VSOCK_TX_QUEUE);
			queued = 0;
			break;
		case 3:
			host_traffic();
			break;
		case 4:
			vsock_dev_expire(&dev, monotonic_ms() + (a & 0x80 ? 60000 : 0));
			break;
		case 5:
			host_connect(a >> 3);
			break;
		}
	}
	vsock_dev_ops.queue_kick(&dev, VSOCK_TX_QUEUE);
	vsock_dev_ops.stopped(&dev);
	if (dev.conns.count != 0 || dev.rxq_head || dev.rst_len)
		abort(); /* stop must leave nothing behind */
	for (unsigned i = 0; i < nhost; i++)
		close(host_fds[i]);
	nhost = 0;
	int fd;
	while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0)
		close(fd);
	if (tg_reset(&g) < 0)
		abort();
	return 0;
}
