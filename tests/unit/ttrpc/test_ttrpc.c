#include "tests/unit/harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/loop.h"
#include "ttrpc/ttrpc.h"
#include "proto/ttrpc.pb-c.h"

#define SVC      "test.Echo"
#define MAX_HELD 128
#define WAIT_MS  5000

/* What the test methods saw; reset by fixture_setup. */
static struct {
	struct ttrpc_call *held[MAX_HELD];
	int nheld;
	int cancels;
	int conns_closed;
	int64_t timeout_ns;
	char metadata[64];
	struct husk_loop *loop;
	struct ttrpc_conn *nested_client;
	int timer_fd;
	struct ttrpc_call *timer_call;
} seen;

static void echo(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	const char *md = ttrpc_call_metadata(call, "containerd-namespace-ttrpc");
	snprintf(seen.metadata, sizeof(seen.metadata), "%s", md ? md : "");
	seen.timeout_ns = ttrpc_call_timeout_ns(call);
	ttrpc_reply(call, TTRPC_OK, NULL, p, len);
}

static void fail(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	ttrpc_reply(call, TTRPC_NOT_FOUND, "no such thing", NULL, 0);
}

static void hold(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	if (seen.nheld == MAX_HELD) {
		ttrpc_reply(call, TTRPC_INTERNAL, "too many held", NULL, 0);
		return;
	}
	seen.held[seen.nheld++] = call;
}

static void count_cancel(void *data)
{
	seen.cancels++;
	/* a reply from inside the cancel callback must be harmless */
	ttrpc_reply(data, TTRPC_CANCELED, "gone", NULL, 0);
}

static void never(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	seen.held[seen.nheld++] = call;
	ttrpc_call_set_cancel(call, count_cancel, call);
}

static int timer_fired(struct husk_loop *loop, int fd, uint32_t events, void *data, husk_err *err)
{
	uint64_t ticks;
	if (read(fd, &ticks, sizeof(ticks)) < 0)
		return husk_error_set(err, errno, "timerfd");
	husk_loop_del(loop, fd);
	ttrpc_reply(seen.timer_call, TTRPC_OK, NULL, (const uint8_t *)"late", 4);
	seen.timer_call = NULL;
	return 0;
}

static void later(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	struct itimerspec its = {.it_value.tv_nsec = 20 * 1000000};
	seen.timer_call = call;
	timerfd_settime(seen.timer_fd, 0, &its, NULL);
	husk_loop_add(seen.loop, seen.timer_fd, EPOLLIN, timer_fired, NULL, NULL);
}

/* Answers only after a sync call of its own on a second connection to the same server. */
static void nested(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	cleanup_error husk_err err = NULL;
	cleanup_free uint8_t *resp = NULL;
	size_t rlen = 0;
	if (ttrpc_client_call_sync(seen.nested_client, SVC, "Echo", p, len, WAIT_MS, &resp, &rlen,
	                           &err) < 0) {
		ttrpc_reply_husk_error(call, err);
		return;
	}
	ttrpc_reply(call, TTRPC_OK, NULL, resp, rlen);
}

/* Unpacks a KeyValue and answers with it reversed (protobuf helper round trip). */
static void swap(struct ttrpc_call *call, const uint8_t *p, size_t len, void *data)
{
	Ttrpc__KeyValue *in = ttrpc__key_value__unpack(NULL, len, p);
	if (!in) {
		ttrpc_reply(call, TTRPC_INVALID_ARGUMENT, "bad KeyValue", NULL, 0);
		return;
	}
	Ttrpc__KeyValue out = TTRPC__KEY_VALUE__INIT;
	out.key = in->value;
	out.value = in->key;
	ttrpc_reply_pb(call, &out.base);
	ttrpc__key_value__free_unpacked(in, NULL);
}

static const struct ttrpc_method methods[] = {
    {SVC, "Echo", echo},   {SVC, "Fail", fail},     {SVC, "Hold", hold}, {SVC, "Never", never},
    {SVC, "Later", later}, {SVC, "Nested", nested}, {SVC, "Swap", swap},
};

static void conn_closed(void *data)
{
	seen.conns_closed++;
}

struct fixture {
	struct husk_loop *loop;
	struct ttrpc_server *srv;
	struct ttrpc_conn *cli;
	int raw; /* peer of a server connection driven by hand, or -1 */
};

static void fixture_teardown(struct fixture *f)
{
	ttrpc_client_free(f->cli);
	ttrpc_client_free(seen.nested_client);
	seen.nested_client = NULL;
	ttrpc_server_free(f->srv);
	if (f->raw >= 0)
		close(f->raw);
	if (seen.timer_fd >= 0)
		close(seen.timer_fd);
	husk_loop_free(f->loop);
}

/* Server connection whose peer is another ttrpc connection (client) or a raw fd. */
static int fixture_connect(struct fixture *f, int raw)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (ttrpc_server_add_conn(f->srv, sv[0], NULL) < 0) {
		close(sv[1]);
		return -1;
	}
	if (raw) {
		f->raw = sv[1];
		return fcntl(f->raw, F_SETFL, O_NONBLOCK);
	}
	f->cli = ttrpc_client_new(f->loop, sv[1], NULL);
	return f->cli ? 0 : -1;
}

static int fixture_setup(struct fixture *f, int raw)
{
	memset(&seen, 0, sizeof(seen));
	f->cli = NULL;
	f->raw = -1;
	f->loop = husk_loop_new(NULL);
	seen.loop = f->loop;
	seen.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	f->srv = ttrpc_server_new(f->loop, methods, ARRAY_SIZE(methods), NULL, NULL);
	if (!f->loop || !f->srv || seen.timer_fd < 0)
		return -1;
	ttrpc_server_on_conn_closed(f->srv, conn_closed, NULL);
	return fixture_connect(f, raw);
}

/* Runs the loop until *flag reaches want (or WAIT_MS pass). */
static int run_until(struct fixture *f, const int *flag, int want)
{
	int64_t end = monotonic_ms() + WAIT_MS;
	while (*flag < want && monotonic_ms() < end)
		if (husk_loop_run_once(f->loop, 100, NULL) < 0)
			return -1;
	return *flag >= want ? 0 : -1;
}

/* Writes all of buf to the raw peer, serving the loop whenever the socket is full. */
static int raw_write(struct fixture *f, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int64_t end = monotonic_ms() + WAIT_MS;
	while (len && monotonic_ms() < end) {
		ssize_t n = write(f->raw, p, len);
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
		husk_loop_run_once(f->loop, n > 0 ? 0 : 10, NULL);
	}
	return len ? -1 : 0;
}

static int raw_read(struct fixture *f, uint8_t *buf, size_t len)
{
	int64_t end = monotonic_ms() + WAIT_MS;
	while (len && monotonic_ms() < end) {
		ssize_t n = read(f->raw, buf, len);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return -1;
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else {
			husk_loop_run_once(f->loop, 10, NULL);
		}
	}
	return len ? -1 : 0;
}

static size_t frame(uint8_t *out, uint32_t stream_id, uint8_t type, const void *data, size_t len)
{
	struct ttrpc_header h = {.length = len, .stream_id = stream_id, .type = type};
	ttrpc_header_encode(&h, out);
	memcpy(out + TTRPC_HEADER_LEN, data, len);
	return TTRPC_HEADER_LEN + len;
}

static size_t request_frame(uint8_t *out, uint32_t stream_id, const char *method,
                            const char *payload)
{
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	req.service = SVC;
	req.method = (char *)method;
	req.payload.data = (uint8_t *)payload;
	req.payload.len = strlen(payload);
	size_t len = ttrpc__request__pack(&req, out + TTRPC_HEADER_LEN);
	struct ttrpc_header h = {.length = len, .stream_id = stream_id, .type = 1};
	ttrpc_header_encode(&h, out);
	return TTRPC_HEADER_LEN + len;
}

/* Reads one response frame from the raw peer: its stream id and decoded envelope. */
static Ttrpc__Response *raw_response(struct fixture *f, uint32_t *stream_id)
{
	uint8_t hb[TTRPC_HEADER_LEN];
	struct ttrpc_header h;
	if (raw_read(f, hb, sizeof(hb)) < 0 || ttrpc_header_decode(hb, &h, NULL) < 0 ||
	    h.type != TTRPC_TYPE_RESPONSE)
		return NULL;
	cleanup_free uint8_t *data = malloc(h.length + 1);
	if (!data || raw_read(f, data, h.length) < 0)
		return NULL;
	*stream_id = h.stream_id;
	return ttrpc__response__unpack(NULL, h.length, data);
}

static int response_code(const Ttrpc__Response *r)
{
	return r && r->status ? r->status->code : 0;
}

TEST(ttrpc_header_round_trip_and_limits)
{
	uint8_t b[TTRPC_HEADER_LEN];
	struct ttrpc_header h = {.length = 0x3c, .stream_id = 0x01020304, .type = 2}, g;
	ttrpc_header_encode(&h, b);
	CHECK(memcmp(b, "\x00\x00\x00\x3c\x01\x02\x03\x04\x02\x00", 10) == 0);
	CHECK_INT(ttrpc_header_decode(b, &g, NULL), ==, 0);
	CHECK_INT(g.length, ==, 0x3c);
	CHECK_INT(g.stream_id, ==, 0x01020304);
	CHECK_INT(g.type, ==, 2);

	cleanup_error husk_err err = NULL;
	h.length = TTRPC_MAX_DATA + 1;
	ttrpc_header_encode(&h, b);
	CHECK_INT(ttrpc_header_decode(b, &g, &err), ==, -1);
	CHECK_INT(err->code, ==, EMSGSIZE);
	h.length = TTRPC_MAX_DATA;
	h.type = 3;
	ttrpc_header_encode(&h, b);
	CHECK_INT(ttrpc_header_decode(b, &g, NULL), ==, -1);
}

TEST(ttrpc_errno_mapping_round_trips)
{
	const int errs[] = {0,      ENOENT, EEXIST, EINVAL,    ETIMEDOUT, EPERM,
	                    ENOSPC, EBUSY,  ENOSYS, ECANCELED, ENOTCONN};
	for (size_t i = 0; i < ARRAY_SIZE(errs); i++)
		CHECK_INT(ttrpc_code_to_errno(ttrpc_code_from_errno(errs[i])), ==, errs[i]);
	CHECK_INT(ttrpc_code_from_errno(ENOENT), ==, TTRPC_NOT_FOUND);
	CHECK_INT(ttrpc_code_from_errno(E2BIG), ==, TTRPC_UNKNOWN);
	CHECK_INT(ttrpc_code_to_errno(TTRPC_INTERNAL), ==, EIO);
}

TEST(ttrpc_sync_round_trip)
{
	struct fixture f;
	cleanup_error husk_err err = NULL;
	cleanup_free uint8_t *resp = NULL;
	size_t len = 0;
	CHECK(fixture_setup(&f, 0) == 0);
	int rc = ttrpc_client_call_sync(f.cli, SVC, "Echo", (const uint8_t *)"hello", 5, 2000,
	                                &resp, &len, &err);
	CHECK_INT(rc, ==, 0);
	CHECK_INT(len, ==, 5);
	CHECK(memcmp(resp, "hello", 5) == 0);
	CHECK_INT(seen.timeout_ns, ==, 2000LL * 1000000);

	rc = ttrpc_client_call_sync(f.cli, SVC, "Fail", NULL, 0, 2000, NULL, NULL, &err);
	CHECK_INT(rc, ==, -1);
	CHECK_STR(husk_error_msg(err), "test.Echo/Fail: no such thing");
	CHECK_INT(err->code, ==, ENOENT);
	CHECK(ttrpc_client_alive(f.cli));
	fixture_teardown(&f);
}

TEST(ttrpc_protobuf_helpers)
{
	struct fixture f;
	cleanup_error husk_err err = NULL;
	Ttrpc__KeyValue in = TTRPC__KEY_VALUE__INIT;
	ProtobufCMessage *out = NULL;
	CHECK(fixture_setup(&f, 0) == 0);
	in.key = "k";
	in.value = "v";
	CHECK_INT(ttrpc_client_call_pb_sync(f.cli, SVC, "Swap", &in.base,
	                                    &ttrpc__key_value__descriptor, 2000, &out, &err),
	          ==, 0);
	Ttrpc__KeyValue *kv = (Ttrpc__KeyValue *)out;
	CHECK_STR(kv->key, "v");
	CHECK_STR(kv->value, "k");
	protobuf_c_message_free_unpacked(out, NULL);

	/* an empty request does not unpack as a KeyValue with fields, but it is valid */
	CHECK_INT(ttrpc_client_call_pb_sync(f.cli, SVC, "Swap", NULL, &ttrpc__key_value__descriptor,
	                                    2000, &out, &err),
	          ==, 0);
	protobuf_c_message_free_unpacked(out, NULL);
	fixture_teardown(&f);
}

struct async_result {
	int calls;
	int code;
	char message[128];
	uint8_t payload[16];
	size_t len;
};

static void record(enum ttrpc_code code, const char *message, const uint8_t *payload, size_t len,
                   void *data)
{
	struct async_result *r = data;
	r->calls++;
	r->code = code;
	snprintf(r->message, sizeof(r->message), "%s", message);
	r->len = len < sizeof(r->payload) ? len : sizeof(r->payload);
	if (len)
		memcpy(r->payload, payload, r->len);
}

static int replied_total(struct async_result *r, int n)
{
	int total = 0;
	for (int i = 0; i < n; i++)
		total += r[i].calls;
	return total;
}

TEST(ttrpc_hundred_calls_answered_out_of_order)
{
	struct fixture f;
	static struct async_result r[100];
	int done = 0;
	memset(r, 0, sizeof(r));
	CHECK(fixture_setup(&f, 0) == 0);
	for (int i = 0; i < 100; i++) {
		uint8_t b = (uint8_t)i;
		CHECK_INT(ttrpc_client_call(f.cli, SVC, "Hold", &b, 1, 0, record, &r[i], NULL), ==,
		          0);
	}
	CHECK(run_until(&f, &seen.nheld, 100) == 0);
	/* answer odd positions backwards, then even ones forwards, each with 255 - its byte */
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < 100; k++) {
			int i = pass == 0 ? 99 - k : k;
			if (i % 2 != (pass == 0))
				continue;
			struct ttrpc_call *call = seen.held[i];
			uint8_t b = (uint8_t)(255 - i);
			CHECK_INT(ttrpc_reply(call, TTRPC_OK, NULL, &b, 1), ==, 0);
		}
	}
	int64_t end = monotonic_ms() + WAIT_MS;
	while ((done = replied_total(r, 100)) < 100 && monotonic_ms() < end)
		husk_loop_run_once(f.loop, 100, NULL);
	CHECK_INT(done, ==, 100);
	/* held[i] got the byte i because calls were dispatched in order */
	for (int i = 0; i < 100; i++) {
		CHECK_INT(r[i].calls, ==, 1);
		CHECK_INT(r[i].code, ==, TTRPC_OK);
		CHECK_INT(r[i].len, ==, 1);
		CHECK_INT(r[i].payload[0], ==, 255 - i);
	}
	fixture_teardown(&f);
}

TEST(ttrpc_async_reply_driven_by_another_fd)
{
	struct fixture f;
	cleanup_error husk_err err = NULL;
	cleanup_free uint8_t *resp = NULL;
	size_t len = 0;
	CHECK(fixture_setup(&f, 0) == 0);
	CHECK_INT(ttrpc_client_call_sync(f.cli, SVC, "Later", NULL, 0, 2000, &resp, &len, &err), ==,
	          0);
	CHECK_INT(len, ==, 4);
	CHECK(memcmp(resp, "late", 4) == 0);
	CHECK(seen.timer_call == NULL);
	fixture_teardown(&f);
}

TEST(ttrpc_sync_call_nested_in_a_handler)
{
	struct fixture f;
	cleanup_error husk_err err = NULL;
	cleanup_free uint8_t *resp = NULL;
	size_t len = 0;
	int sv[2];
	CHECK(fixture_setup(&f, 0) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(ttrpc_server_add_conn(f.srv, sv[0], NULL) == 0);
	seen.nested_client = ttrpc_client_new(f.loop, sv[1], NULL);
	CHECK(seen.nested_client);
	CHECK_INT(ttrpc_client_call_sync(f.cli, SVC, "Nested", (const uint8_t *)"in", 2, 2000,
	                                 &resp, &len, &err),
	          ==, 0);
	CHECK_INT(len, ==, 2);
	CHECK(memcmp(resp, "in", 2) == 0);
	fixture_teardown(&f);
}

TEST(ttrpc_unknown_service_and_method)
{
	struct fixture f;
	cleanup_error husk_err err = NULL;
	struct async_result r = {0};
	CHECK(fixture_setup(&f, 0) == 0);
	CHECK_INT(ttrpc_client_call_sync(f.cli, "no.Such", "X", NULL, 0, 2000, NULL, NULL, &err),
	          ==, -1);
	CHECK_STR(husk_error_msg(err), "no.Such/X: service no.Such");
	CHECK_INT(err->code, ==, ENOSYS);
	CHECK_INT(ttrpc_client_call(f.cli, SVC, "Y", NULL, 0, 0, record, &r, NULL), ==, 0);
	CHECK(run_until(&f, &r.calls, 1) == 0);
	CHECK_INT(r.code, ==, TTRPC_UNIMPLEMENTED);
	CHECK_STR(r.message, "method Y");
	fixture_teardown(&f);
}

TEST(ttrpc_even_stream_id_is_rejected)
{
	struct fixture f;
	uint8_t buf[256];
	uint32_t id = 0;
	CHECK(fixture_setup(&f, 1) == 0);
	CHECK(raw_write(&f, buf, request_frame(buf, 2, "Echo", "x")) == 0);
	Ttrpc__Response *r = raw_response(&f, &id);
	CHECK(r);
	CHECK_INT(id, ==, 2);
	CHECK_INT(response_code(r), ==, TTRPC_INVALID_ARGUMENT);
	CHECK_STR(r->status->message, "StreamID must be odd for client initiated streams");
	ttrpc__response__free_unpacked(r, NULL);
	fixture_teardown(&f);
}

TEST(ttrpc_malformed_envelope_and_duplicate_stream)
{
	struct fixture f;
	uint8_t buf[256];
	uint32_t id = 0;
	CHECK(fixture_setup(&f, 1) == 0);
	CHECK(raw_write(&f, buf, frame(buf, 1, 1, "\xff\xff\xff", 3)) == 0);
	Ttrpc__Response *r = raw_response(&f, &id);
	CHECK(r);
	CHECK_INT(id, ==, 1);
	CHECK_INT(response_code(r), ==, TTRPC_INVALID_ARGUMENT);
	ttrpc__response__free_unpacked(r, NULL);

	CHECK(raw_write(&f, buf, request_frame(buf, 5, "Hold", "a")) == 0);
	CHECK(run_until(&f, &seen.nheld, 1) == 0);
	CHECK(raw_write(&f, buf, request_frame(buf, 5, "Echo", "b")) == 0);
	r = raw_response(&f, &id);
	CHECK(r);
	CHECK_INT(id, ==, 5);
	CHECK_INT(response_code(r), ==, TTRPC_INVALID_ARGUMENT);
	ttrpc__response__free_unpacked(r, NULL);
	ttrpc_reply(seen.held[0], TTRPC_OK, NULL, (const uint8_t *)"held", 4);
	r = raw_response(&f, &id);
	CHECK(r);
	CHECK_INT(id, ==, 5);
	CHECK_INT(response_code(r), ==, 0);
	CHECK_INT(r->payload.len, ==, 4);
	ttrpc__response__free_unpacked(r, NULL);
	fixture_teardown(&f);
}

TEST(ttrpc_oversize_frame_is_refused_and_connection_survives)
{
	struct fixture f;
	uint8_t buf[256];
	uint32_t id = 0;
	size_t big = TTRPC_MAX_DATA + 1;
	cleanup_free uint8_t *junk = calloc(1, big);
	CHECK(junk);
	CHECK(fixture_setup(&f, 1) == 0);
	struct ttrpc_header h = {.length = big, .stream_id = 7, .type = 1};
	ttrpc_header_encode(&h, buf);
	CHECK(raw_write(&f, buf, TTRPC_HEADER_LEN) == 0);
	/* the refusal may come before the body is through: read it while writing */
	CHECK(raw_write(&f, junk, big) == 0);
	Ttrpc__Response *r = raw_response(&f, &id);
	CHECK(r);
	CHECK_INT(id, ==, 7);
	CHECK_INT(response_code(r), ==, TTRPC_RESOURCE_EXHAUSTED);
	/* what containerd/ttrpc v1.1.1's server answers, byte for byte */
	CHECK_STR(r->status->message,
	          "message length 4194305 exceed maximum message size of 4194304");
	ttrpc__response__free_unpacked(r, NULL);

	CHECK(raw_write(&f, buf, request_frame(buf, 9, "Echo", "after")) == 0);
	r = raw_response(&f, &id);
	CHECK(r);
	CHECK_INT(id, ==, 9);
	CHECK_INT(response_code(r), ==, 0);
	CHECK_INT(r->payload.len, ==, 5);
	ttrpc__response__free_unpacked(r, NULL);
	CHECK_INT(seen.conns_closed, ==, 0);
	fixture_teardown(&f);
}

TEST(ttrpc_unknown_frame_type_is_skipped)
{
	struct fixture f;
	uint8_t buf[512];
	uint32_t id = 0;
	CHECK(fixture_setup(&f, 1) == 0);
	size_t n = frame(buf, 3, 7, "\x0a\x01zzzzzzzz", 10);
	n += frame(buf + n, 5, TTRPC_TYPE_RESPONSE, "", 0);
	n += request_frame(buf + n, 11, "Echo", "ok");
	CHECK(raw_write(&f, buf, n) == 0);
	Ttrpc__Response *r = raw_response(&f, &id);
	CHECK(r);
	CHECK_INT(id, ==, 11);
	CHECK_INT(r->payload.len, ==, 2);
	ttrpc__response__free_unpacked(r, NULL);
	fixture_teardown(&f);
}

TEST(ttrpc_frames_delivered_one_byte_at_a_time)
{
	struct fixture f;
	uint8_t buf[512];
	uint32_t id = 0;
	CHECK(fixture_setup(&f, 1) == 0);
	size_t n = request_frame(buf, 1, "Echo", "slow");
	n += request_frame(buf + n, 3, "Echo", "");
	for (size_t i = 0; i < n; i++)
		CHECK(raw_write(&f, buf + i, 1) == 0);
	Ttrpc__Response *r = raw_response(&f, &id);
	CHECK(r);
	CHECK_INT(id, ==, 1);
	CHECK_INT(r->payload.len, ==, 4);
	CHECK(memcmp(r->payload.data, "slow", 4) == 0);
	ttrpc__response__free_unpacked(r, NULL);
	/* an empty OK reply is a zero-length frame, as containerd sends for Empty */
	uint8_t empty[TTRPC_HEADER_LEN];
	CHECK(raw_read(&f, empty, sizeof(empty)) == 0);
	CHECK(memcmp(empty, "\x00\x00\x00\x00\x00\x00\x00\x03\x02\x00", 10) == 0);
	fixture_teardown(&f);
}

TEST(ttrpc_request_metadata_is_visible)
{
	struct fixture f;
	uint8_t buf[512];
	uint32_t id = 0;
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	Ttrpc__KeyValue kv = TTRPC__KEY_VALUE__INIT, *kvs[] = {&kv};
	CHECK(fixture_setup(&f, 1) == 0);
	req.service = SVC;
	req.method = "Echo";
	req.timeout_nano = 42;
	kv.key = "containerd-namespace-ttrpc";
	kv.value = "k8s.io";
	req.n_metadata = 1;
	req.metadata = kvs;
	size_t len = ttrpc__request__pack(&req, buf + TTRPC_HEADER_LEN);
	struct ttrpc_header h = {.length = len, .stream_id = 1, .type = 1};
	ttrpc_header_encode(&h, buf);
	CHECK(raw_write(&f, buf, TTRPC_HEADER_LEN + len) == 0);
	Ttrpc__Response *r = raw_response(&f, &id);
	CHECK(r);
	ttrpc__response__free_unpacked(r, NULL);
	CHECK_STR(seen.metadata, "k8s.io");
	CHECK_INT(seen.timeout_ns, ==, 42);
	fixture_teardown(&f);
}

TEST(ttrpc_peer_close_fails_pending_calls)
{
	struct fixture f;
	struct async_result r[3] = {0};
	CHECK(fixture_setup(&f, 0) == 0);
	for (int i = 0; i < 3; i++)
		CHECK_INT(ttrpc_client_call(f.cli, SVC, "Never", NULL, 0, 0, record, &r[i], NULL),
		          ==, 0);
	CHECK(run_until(&f, &seen.nheld, 3) == 0);
	ttrpc_server_free(f.srv); /* closes the server end: cancels run, the client sees EOF */
	f.srv = NULL;
	CHECK_INT(seen.cancels, ==, 3);
	int64_t end = monotonic_ms() + WAIT_MS;
	while (replied_total(r, 3) < 3 && monotonic_ms() < end)
		husk_loop_run_once(f.loop, 100, NULL);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(r[i].calls, ==, 1);
		CHECK_INT(r[i].code, ==, TTRPC_UNAVAILABLE);
		CHECK_STR(r[i].message, "connection closed");
	}
	CHECK(!ttrpc_client_alive(f.cli));
	cleanup_error husk_err err = NULL;
	CHECK_INT(ttrpc_client_call(f.cli, SVC, "Echo", NULL, 0, 0, record, &r[0], &err), ==, -1);
	CHECK_INT(err->code, ==, ENOTCONN);
	CHECK_INT(r[0].calls, ==, 1);
	fixture_teardown(&f);
}

TEST(ttrpc_reply_after_close_is_harmless)
{
	struct fixture f;
	struct async_result r = {0};
	CHECK(fixture_setup(&f, 0) == 0);
	CHECK_INT(ttrpc_client_call(f.cli, SVC, "Hold", NULL, 0, 0, record, &r, NULL), ==, 0);
	CHECK(run_until(&f, &seen.nheld, 1) == 0);
	ttrpc_client_free(f.cli); /* the pending call completes with UNAVAILABLE */
	f.cli = NULL;
	CHECK_INT(r.calls, ==, 1);
	CHECK_INT(r.code, ==, TTRPC_UNAVAILABLE);
	CHECK(run_until(&f, &seen.conns_closed, 1) == 0);
	CHECK_INT(ttrpc_reply(seen.held[0], TTRPC_OK, NULL, NULL, 0), ==, 0);
	fixture_teardown(&f);
}

static void free_client_in_callback(enum ttrpc_code code, const char *message,
                                    const uint8_t *payload, size_t len, void *data)
{
	struct async_result *r = data;
	r->calls++;
	r->code = code;
	ttrpc_client_free(seen.nested_client);
	seen.nested_client = NULL;
}

TEST(ttrpc_client_freed_from_its_own_callback)
{
	struct fixture f;
	struct async_result r[2] = {0};
	CHECK(fixture_setup(&f, 0) == 0);
	seen.nested_client = move_ptr(f.cli);
	for (int i = 0; i < 2; i++)
		CHECK_INT(ttrpc_client_call(seen.nested_client, SVC, "Echo", NULL, 0, 0,
		                            free_client_in_callback, &r[i], NULL),
		          ==, 0);
	CHECK(run_until(&f, &r[0].calls, 1) == 0);
	/* the first reply freed the client, which failed the second call */
	CHECK_INT(r[0].code, ==, TTRPC_OK);
	CHECK_INT(r[1].calls, ==, 1);
	CHECK_INT(r[1].code, ==, TTRPC_UNAVAILABLE);
	fixture_teardown(&f);
}

TEST(ttrpc_sync_call_times_out_and_late_reply_is_dropped)
{
	struct fixture f;
	cleanup_error husk_err err = NULL;
	cleanup_free uint8_t *resp = NULL;
	size_t len = 0;
	CHECK(fixture_setup(&f, 0) == 0);
	int64_t start = monotonic_ms();
	CHECK_INT(ttrpc_client_call_sync(f.cli, SVC, "Hold", NULL, 0, 50, NULL, NULL, &err), ==,
	          -1);
	CHECK_INT(monotonic_ms() - start, >=, 50);
	CHECK_STR(husk_error_msg(err), "test.Echo/Hold: timed out after 50 ms");
	CHECK_INT(err->code, ==, ETIMEDOUT);
	CHECK_INT(seen.nheld, ==, 1);
	ttrpc_reply(seen.held[0], TTRPC_OK, NULL, (const uint8_t *)"stale", 5);
	CHECK_INT(ttrpc_client_call_sync(f.cli, SVC, "Echo", (const uint8_t *)"new", 3, 2000, &resp,
	                                 &len, &err),
	          ==, 0);
	CHECK_INT(len, ==, 3);
	CHECK(memcmp(resp, "new", 3) == 0);
	fixture_teardown(&f);
}

/*
 * The Connect request of the recorded containerd session (shared notes, section
 * 1), byte for byte. The note's header says 0x3c, but its body adds up to 0x28
 * bytes (the capture evidently carried 20 more bytes, e.g. timeout/metadata,
 * that the note leaves out), so the header is checked with the body's length.
 */
TEST(ttrpc_client_bytes_match_containerd_connect)
{
	static const uint8_t want[] = "\x00\x00\x00\x28\x00\x00\x00\x01\x01\x00"
	                              "\x0a\x17"
	                              "containerd.task.v2.Task"
	                              "\x12\x07"
	                              "Connect"
	                              "\x1a\x04\x0a\x02"
	                              "t3";
	struct husk_loop *loop = husk_loop_new(NULL);
	struct async_result r = {0};
	uint8_t got[sizeof(want)];
	int sv[2];
	CHECK(loop);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	struct ttrpc_conn *c = ttrpc_client_new(loop, sv[0], NULL);
	CHECK(c);
	CHECK_INT(ttrpc_client_call(c, "containerd.task.v2.Task", "Connect",
	                            (const uint8_t *)"\x0a\x02t3", 4, 0, record, &r, NULL),
	          ==, 0);
	CHECK_INT(read(sv[1], got, sizeof(got)), ==, sizeof(want) - 1);
	CHECK(memcmp(got, want, sizeof(want) - 1) == 0);
	/* containerd's empty reply: a zero-length response frame */
	CHECK_INT(write(sv[1], "\x00\x00\x00\x00\x00\x00\x00\x01\x02\x00", 10), ==, 10);
	for (int i = 0; i < 50 && !r.calls; i++)
		husk_loop_run_once(loop, 100, NULL);
	CHECK_INT(r.calls, ==, 1);
	CHECK_INT(r.code, ==, TTRPC_OK);
	CHECK_INT(r.len, ==, 0);
	ttrpc_client_free(c);
	close(sv[1]);
	husk_loop_free(loop);
}

/* A Unix peer running as another user is refused, as containerd's shims do. */
TEST(ttrpc_server_refuses_other_users)
{
	struct fixture f;
	char dir[] = "/tmp/ttrpc-test-XXXXXX";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	cleanup_error husk_err err = NULL;
	if (geteuid() != 0) {
		printf("  skipped: needs root to switch users\n");
		return;
	}
	CHECK(fixture_setup(&f, 0) == 0);
	CHECK(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(l >= 0);
	CHECK(bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	chmod(sa.sun_path, 0777);
	CHECK(listen(l, 1) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (setgid(65534) < 0 || setuid(65534) < 0 ||
		    connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(1);
		char b;
		_exit(read(s, &b, 1) == 0 ? 0 : 2); /* expects the server to hang up */
	}
	int a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	int rc = ttrpc_server_add_conn(f.srv, a, &err);
	int status = -1;
	ttrpc_server_free(f.srv); /* hangs up on the child even if it was let in */
	f.srv = NULL;
	waitpid(pid, &status, 0);
	close(l);
	unlink(sa.sun_path);
	rmdir(dir);
	CHECK(a >= 0);
	CHECK_INT(rc, ==, -1);
	CHECK_INT(err->code, ==, EPERM);
	CHECK(strstr(husk_error_msg(err), "uid 65534"));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fixture_teardown(&f);
}

/* Reads whatever the raw peer has into got (capacity cap), serving the loop once. */
static size_t raw_collect(struct fixture *f, uint8_t *got, size_t have, size_t cap)
{
	husk_loop_run_once(f->loop, 1, NULL);
	ssize_t n;
	while (have < cap && (n = read(f->raw, got + have, cap - have)) > 0)
		have += (size_t)n;
	return have;
}

TEST(ttrpc_server_stops_reading_while_its_peer_does_not)
{
	enum { N = 12, PLEN = 1 << 20, FRAME_MAX = PLEN + 64 };
	struct fixture f;
	cleanup_free char *payload = malloc(PLEN + 1);
	cleanup_free uint8_t *reqs = malloc((size_t)N * FRAME_MAX);
	cleanup_free uint8_t *got = malloc((size_t)N * FRAME_MAX);
	size_t total = 0, off = 0, have = 0;
	CHECK(payload && reqs && got);
	memset(payload, 'p', PLEN);
	payload[PLEN] = 0;
	for (int i = 0; i < N; i++)
		total += request_frame(reqs + total, 2 * i + 1, "Echo", payload);
	CHECK(fixture_setup(&f, 1) == 0);

	/* 12 MiB of replies exceed the high-water mark: the server must stop taking requests */
	for (int stuck = 0; off < total && stuck < 50;) {
		ssize_t w = write(f.raw, reqs + off, total - off);
		stuck = w > 0 ? 0 : stuck + 1;
		off += w > 0 ? (size_t)w : 0;
		husk_loop_run_once(f.loop, 0, NULL);
	}
	CHECK(off < total);

	/* reading again lets everything through, in order and intact */
	int64_t end = monotonic_ms() + 4 * WAIT_MS;
	/* each reply: header, then tag, 3-byte varint length and the payload */
	const size_t want = (size_t)N * (TTRPC_HEADER_LEN + 4 + PLEN);
	while ((off < total || have < want) && monotonic_ms() < end) {
		ssize_t w = off < total ? write(f.raw, reqs + off, total - off) : 0;
		off += w > 0 ? (size_t)w : 0;
		have = raw_collect(&f, got, have, (size_t)N * FRAME_MAX);
	}
	size_t pos = 0;
	for (int i = 0; i < N; i++) {
		struct ttrpc_header h;
		CHECK(pos + TTRPC_HEADER_LEN <= have);
		CHECK_INT(ttrpc_header_decode(got + pos, &h, NULL), ==, 0);
		CHECK_INT(h.stream_id, ==, 2 * i + 1);
		CHECK(pos + TTRPC_HEADER_LEN + h.length <= have);
		Ttrpc__Response *r =
		    ttrpc__response__unpack(NULL, h.length, got + pos + TTRPC_HEADER_LEN);
		CHECK(r);
		size_t len = r->payload.len;
		ttrpc__response__free_unpacked(r, NULL);
		CHECK_INT(len, ==, PLEN);
		pos += TTRPC_HEADER_LEN + h.length;
	}
	CHECK_INT(pos, ==, have);
	fixture_teardown(&f);
}

static int free_client_on_timer(struct husk_loop *loop, int fd, uint32_t events, void *data,
                                husk_err *err)
{
	struct fixture *f = data;
	husk_loop_del(loop, fd);
	ttrpc_client_free(f->cli);
	f->cli = NULL;
	return 0;
}

TEST(ttrpc_client_freed_during_its_sync_call)
{
	struct fixture f;
	cleanup_error husk_err err = NULL;
	struct itimerspec its = {.it_value.tv_nsec = 20 * 1000000};
	CHECK(fixture_setup(&f, 0) == 0);
	CHECK(timerfd_settime(seen.timer_fd, 0, &its, NULL) == 0);
	CHECK(husk_loop_add(f.loop, seen.timer_fd, EPOLLIN, free_client_on_timer, &f, NULL) == 0);
	int64_t start = monotonic_ms();
	CHECK_INT(ttrpc_client_call_sync(f.cli, SVC, "Hold", NULL, 0, WAIT_MS, NULL, NULL, &err),
	          ==, -1);
	CHECK_INT(monotonic_ms() - start, <, WAIT_MS);
	CHECK_STR(husk_error_msg(err), "test.Echo/Hold: connection closed");
	CHECK_INT(err->code, ==, ENOTCONN);
	CHECK(f.cli == NULL);
	CHECK(run_until(&f, &seen.conns_closed, 1) == 0);
	for (int i = 0; i < seen.nheld; i++)
		ttrpc_reply(seen.held[i], TTRPC_OK, NULL, NULL, 0);
	fixture_teardown(&f);
}

TEST(ttrpc_client_queue_is_bounded_when_the_peer_does_not_read)
{
	struct husk_loop *loop = husk_loop_new(NULL);
	cleanup_free uint8_t *big = calloc(1, 1 << 20);
	cleanup_error husk_err err = NULL;
	struct async_result r[64];
	int sv[2], n = 0;
	memset(r, 0, sizeof(r));
	CHECK(loop && big);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	struct ttrpc_conn *c = ttrpc_client_new(loop, sv[0], NULL);
	CHECK(c);
	while (n < 64 &&
	       ttrpc_client_call(c, SVC, "Echo", big, 1 << 20, 0, record, &r[n], &err) == 0)
		n++;
	CHECK_INT(n, <, 64);
	CHECK_INT(n, >=, 16);
	CHECK_INT(err->code, ==, ENOBUFS);
	ttrpc_client_free(c);
	for (int i = 0; i < n; i++) {
		CHECK_INT(r[i].calls, ==, 1);
		CHECK_INT(r[i].code, ==, TTRPC_UNAVAILABLE);
	}
	CHECK_INT(r[n].calls, ==, 0);
	close(sv[1]);
	husk_loop_free(loop);
}

/*
 * An async call's timeout is a host-side deadline: the callback runs with
 * DEADLINE_EXCEEDED when it passes, the late reply is dropped, and a call
 * without a timeout (a long poll) stays pending meanwhile.
 */
TEST(ttrpc_async_call_times_out_on_the_host)
{
	struct fixture f;
	struct async_result timed = {0}, poll = {0}, after = {0};
	CHECK(fixture_setup(&f, 0) == 0);
	CHECK_INT(ttrpc_client_call(f.cli, SVC, "Hold", NULL, 0, 0, record, &poll, NULL), ==, 0);
	int64_t start = monotonic_ms();
	CHECK_INT(
	    ttrpc_client_call(f.cli, SVC, "Hold", NULL, 0, 50 * 1000000LL, record, &timed, NULL),
	    ==, 0);
	CHECK(run_until(&f, &timed.calls, 1) == 0);
	CHECK_INT(monotonic_ms() - start, >=, 50);
	CHECK_INT(timed.code, ==, TTRPC_DEADLINE_EXCEEDED);
	CHECK_STR(timed.message, "timed out after 50 ms");
	CHECK_INT(poll.calls, ==, 0);
	/* both reach the server; the late answer to the timed-out one is dropped */
	CHECK(run_until(&f, &seen.nheld, 2) == 0);
	ttrpc_reply(seen.held[1], TTRPC_OK, NULL, (const uint8_t *)"late", 4);
	ttrpc_reply(seen.held[0], TTRPC_OK, NULL, (const uint8_t *)"poll", 4);
	CHECK(run_until(&f, &poll.calls, 1) == 0);
	CHECK_INT(poll.code, ==, TTRPC_OK);
	CHECK_INT(timed.calls, ==, 1);
	CHECK_INT(ttrpc_client_call(f.cli, SVC, "Echo", (const uint8_t *)"ok", 2, 5000 * 1000000LL,
	                            record, &after, NULL),
	          ==, 0);
	CHECK(run_until(&f, &after.calls, 1) == 0);
	CHECK_INT(after.code, ==, TTRPC_OK);
	CHECK_INT(timed.calls, ==, 1);
	fixture_teardown(&f);
}

/*
 * A response envelope of 4 MiB of empty Status.details would unpack to about
 * 2 M structs: the client refuses it within its memory budget instead.
 */
TEST(ttrpc_amplifying_response_envelope_is_refused)
{
	struct husk_loop *loop = husk_loop_new(NULL);
	struct async_result r = {0};
	int sv[2];
	uint8_t req[256];
	CHECK(loop);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	struct ttrpc_conn *c = ttrpc_client_new(loop, sv[0], NULL);
	CHECK(c);
	CHECK_INT(ttrpc_client_call(c, SVC, "Echo", NULL, 0, 0, record, &r, NULL), ==, 0);
	CHECK(read(sv[1], req, sizeof(req)) > 0);
	/* Response{status: Status{details: N x Any{}}} filling the frame limit */
	size_t n = (TTRPC_MAX_DATA - 16) / 2, status_len = 2 * n;
	cleanup_free uint8_t *buf = malloc(TTRPC_HEADER_LEN + TTRPC_MAX_DATA);
	CHECK(buf);
	size_t o = TTRPC_HEADER_LEN;
	buf[o++] = 0x0a;
	for (size_t v = status_len; v; v >>= 7)
		buf[o++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
	for (size_t i = 0; i < n; i++) {
		buf[o++] = 0x1a;
		buf[o++] = 0x00;
	}
	struct ttrpc_header h = {.length = o - TTRPC_HEADER_LEN, .stream_id = 1, .type = 2};
	ttrpc_header_encode(&h, buf);
	CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	for (size_t off = 0; off < o || !r.calls;) {
		ssize_t w = off < o ? write(sv[1], buf + off, o - off) : 0;
		if (w > 0)
			off += (size_t)w;
		husk_loop_run_once(loop, w > 0 ? 0 : 100, NULL);
	}
	CHECK_INT(r.calls, ==, 1);
	CHECK_INT(r.code, ==, TTRPC_RESOURCE_EXHAUSTED);
	CHECK_STR(r.message, "response envelope needs more than 16777216 bytes of memory");
	CHECK(ttrpc_client_alive(c));
	ttrpc_client_free(c);
	close(sv[1]);
	husk_loop_free(loop);
}
