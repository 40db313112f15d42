/*
 * The memory budget of unpacking a peer's protobuf bytes (ttrpc/pbunpack.h),
 * on the agent's replies: the amplification payload is refused, the densest
 * reply husk expects is not.
 */
#include "tests/unit/harness/test.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "ttrpc/pbunpack.h"
#include "ttrpc/ttrpc.h"
#include "proto/agent.pb-c.h"

/* ListProcessesResponse of n empty ProcessInfo elements: 2 bytes each on the wire. */
static uint8_t *empty_elements(size_t n, size_t *len)
{
	uint8_t *p = malloc(2 * n + 1);
	for (size_t i = 0; p && i < n; i++) {
		p[2 * i] = 0x0a;
		p[2 * i + 1] = 0x00;
	}
	*len = 2 * n;
	return p;
}

TEST(pbunpack_budget_grows_with_the_frame_and_is_capped)
{
	CHECK_INT(pb_unpack_budget(0), ==, PB_BUDGET_BASE);
	CHECK_INT(pb_unpack_budget(1000), ==, PB_BUDGET_BASE + PB_BUDGET_FACTOR * 1000);
	CHECK_INT(pb_unpack_budget(TTRPC_MAX_DATA), ==, PB_BUDGET_MAX);
	CHECK_INT(pb_unpack_budget(SIZE_MAX), ==, PB_BUDGET_MAX);
}

/* A full frame of empty repeated elements: ~2 M structs without a budget, refused with one. */
TEST(pbunpack_refuses_the_amplification_payload)
{
	cleanup_error husk_err err = NULL;
	size_t len, used = 0;
	cleanup_free uint8_t *p = empty_elements((TTRPC_MAX_DATA - 16) / 2, &len);
	CHECK(p);
	ProtobufCMessage *m = pb_unpack(&husk__agent__v1__list_processes_response__descriptor, p,
	                                len, "ListProcesses: reply", &err);
	CHECK(!m);
	CHECK_STR(husk_error_msg(err),
	          "ListProcesses: reply needs more than 16777216 bytes of memory");
	CHECK_INT(err->code, ==, ENOMEM);
	/* what such bytes cost without a cap, measured on 256 KiB of them (and freed) */
	husk_error_free(&err);
	size_t small = (256u << 10) / 2;
	m = pb_unpack_within(&husk__agent__v1__list_processes_response__descriptor, p, 2 * small,
	                     SIZE_MAX, &used, "ListProcesses: reply", &err);
	CHECK(m);
	CHECK_INT(((Husk__Agent__V1__ListProcessesResponse *)m)->n_processes, ==, small);
	fprintf(stderr,
	        "# empty elements unpack to %.0fx their wire size: %zu MiB for a full frame\n",
	        (double)used / (double)(2 * small), used / (2 * small) * len >> 20);
	CHECK_INT(used / (2 * small), >, 50);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* Small frames are bounded by their size too, not only by the cap. */
TEST(pbunpack_refuses_a_small_amplifying_reply)
{
	cleanup_error husk_err err = NULL;
	size_t len;
	cleanup_free uint8_t *p = empty_elements(64 << 10, &len);
	CHECK(p);
	CHECK(!pb_unpack(&husk__agent__v1__list_processes_response__descriptor, p, len,
	                 "ListProcesses: reply", &err));
	char want[128];
	snprintf(want, sizeof(want), "ListProcesses: reply needs more than %zu bytes of memory",
	         pb_unpack_budget(len));
	CHECK_STR(husk_error_msg(err), want);
}

/* The densest reply the agent sends: ListProcesses at its 4096 limit, short names. */
TEST(pbunpack_accepts_the_densest_expected_reply)
{
	cleanup_error husk_err err = NULL;
	Husk__Agent__V1__ListProcessesResponse r = HUSK__AGENT__V1__LIST_PROCESSES_RESPONSE__INIT;
	static Husk__Agent__V1__ProcessInfo infos[4096];
	static Husk__Agent__V1__ProcessInfo *ptrs[4096];
	for (size_t i = 0; i < 4096; i++) {
		husk__agent__v1__process_info__init(&infos[i]);
		infos[i].pid = 100000 + (uint32_t)i;
		infos[i].ppid = 1;
		infos[i].uid = 65534;
		infos[i].state = "S";
		infos[i].cmdline = "sh";
		ptrs[i] = &infos[i];
	}
	r.n_processes = 4096;
	r.processes = ptrs;
	size_t len = husk__agent__v1__list_processes_response__get_packed_size(&r), used = 0;
	cleanup_free uint8_t *p = malloc(len);
	CHECK(p);
	husk__agent__v1__list_processes_response__pack(&r, p);
	ProtobufCMessage *m =
	    pb_unpack_within(&husk__agent__v1__list_processes_response__descriptor, p, len,
	                     pb_unpack_budget(len), &used, "ListProcesses: reply", &err);
	CHECK(m);
	fprintf(stderr, "# ListProcesses of 4096: %zu wire bytes, %zu unpacked, budget %zu\n", len,
	        used, pb_unpack_budget(len));
	protobuf_c_message_free_unpacked(m, NULL);
}

/* Bytes cost about their size: a full stdout chunk and a 4 MiB payload unpack. */
TEST(pbunpack_accepts_large_bytes)
{
	cleanup_error husk_err err = NULL;
	Husk__Agent__V1__ReadStreamResponse r = HUSK__AGENT__V1__READ_STREAM_RESPONSE__INIT;
	size_t n = TTRPC_MAX_DATA - 64;
	cleanup_free uint8_t *data = calloc(1, n);
	CHECK(data);
	r.data.data = data;
	r.data.len = n;
	size_t len = husk__agent__v1__read_stream_response__get_packed_size(&r);
	cleanup_free uint8_t *p = malloc(len);
	CHECK(p);
	husk__agent__v1__read_stream_response__pack(&r, p);
	ProtobufCMessage *m = pb_unpack(&husk__agent__v1__read_stream_response__descriptor, p, len,
	                                "ReadStdout: reply", &err);
	CHECK(m);
	CHECK_INT(((Husk__Agent__V1__ReadStreamResponse *)m)->data.len, ==, n);
	protobuf_c_message_free_unpacked(m, NULL);
}

TEST(pbunpack_reports_malformed_bytes)
{
	cleanup_error husk_err err = NULL;
	CHECK(!pb_unpack(&husk__agent__v1__read_stream_response__descriptor,
	                 (const uint8_t *)"\x0a\x05"
	                                  "ab",
	                 4, "ReadStdout: reply", &err));
	CHECK_STR(husk_error_msg(err),
	          "ReadStdout: reply: malformed husk.agent.v1.ReadStreamResponse");
	CHECK_INT(err->code, ==, EPROTO);
}
