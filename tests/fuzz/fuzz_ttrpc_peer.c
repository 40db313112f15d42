#include "fuzz_ttrpc_peer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/loop.h"
#include "ttrpc/ttrpc.h"

#define SVC "fuzz.Svc"

static struct {
	struct ttrpc_call *held[2048];
	size_t nheld;
	int closed;
	int replies[FUZZ_TTRPC_PENDING];
} st;

static void echo(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	ttrpc_call_metadata(call, "containerd-namespace-ttrpc");
	ttrpc_reply(call, TTRPC_OK, NULL, p, len);
}

static void fail(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	ttrpc_reply(call, TTRPC_NOT_FOUND, "not found", NULL, 0);
}

/* Kept until the end, without a cancel callback: replied to after the close. */
static void hold(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	if (st.nheld == sizeof(st.held) / sizeof(st.held[0]))
		abort(); /* the server must bound calls in flight below this */
	st.held[st.nheld++] = call;
}

static void drop(void *data)
{
}

/* Kept with a cancel callback: the connection frees it when it closes. */
static void cancellable(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	ttrpc_call_set_cancel(call, drop, NULL);
}

static const struct ttrpc_method methods[] = {
    {SVC, "Echo", echo},
    {SVC, "Fail", fail},
    {SVC, "Hold", hold},
    {SVC, "Cancel", cancellable},
};

static void conn_closed(void *data)
{
	st.closed = 1;
}

static void count_reply(enum ttrpc_code code, const char *message, const uint8_t *payload,
                        size_t len, void *data)
{
	st.replies[(intptr_t)data]++;
}

static struct husk_loop *fuzz_loop(void)
{
	static struct husk_loop *loop;
	if (!loop)
		loop = husk_loop_new(NULL);
	if (!loop)
		abort();
	return loop;
}

static int finished(enum fuzz_ttrpc_role role, struct ttrpc_conn *cli)
{
	return role == FUZZ_SERVER ? st.closed : !ttrpc_client_alive(cli);
}

/* Writes everything, half-closes and drains replies until the connection saw the end. */
static void pump(struct husk_loop *loop, int peer, enum fuzz_ttrpc_role role,
                 struct ttrpc_conn *cli, const uint8_t *data, size_t size)
{
	uint8_t sink[65536];
	size_t off = 0;
	int shut = 0;

	while (!finished(role, cli)) {
		if (off < size) {
			ssize_t n = write(peer, data + off, size - off);
			if (n > 0)
				off += (size_t)n;
		}
		if (off == size && !shut) {
			shutdown(peer, SHUT_WR);
			shut = 1;
		}
		if (husk_loop_run_once(loop, 10, NULL) < 0)
			abort();
		while (read(peer, sink, sizeof(sink)) > 0)
			;
	}
}

void fuzz_ttrpc_feed(enum fuzz_ttrpc_role role, const uint8_t *data, size_t size)
{
	struct husk_loop *loop = fuzz_loop();
	struct ttrpc_server *srv = NULL;
	struct ttrpc_conn *cli = NULL;
	int sv[2];

	memset(&st, 0, sizeof(st));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (role == FUZZ_SERVER) {
		srv = ttrpc_server_new(loop, methods, sizeof(methods) / sizeof(methods[0]), NULL,
		                       NULL);
		if (!srv || ttrpc_server_add_conn(srv, sv[0], NULL) < 0)
			abort();
		ttrpc_server_on_conn_closed(srv, conn_closed, NULL);
	} else {
		cli = ttrpc_client_new(loop, sv[0], NULL);
		if (!cli)
			abort();
		for (intptr_t i = 0; i < FUZZ_TTRPC_PENDING; i++)
			if (ttrpc_client_call(cli, SVC, "Echo", NULL, 0, 0, count_reply, (void *)i,
			                      NULL) < 0)
				abort();
	}
	pump(loop, sv[1], role, cli, data, size);
	close(sv[1]);
	for (size_t i = 0; i < st.nheld; i++)
		ttrpc_reply(st.held[i], TTRPC_OK, NULL, NULL, 0);
	for (int i = 0; cli && i < FUZZ_TTRPC_PENDING; i++)
		if (st.replies[i] != 1)
			__builtin_trap();
	ttrpc_client_free(cli);
	ttrpc_server_free(srv);
	/* reaps the watches of the closed connection */
	husk_loop_run_once(loop, 0, NULL);
}
