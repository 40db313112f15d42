/* lib/json.h: the one bounded parse of untrusted JSON text, and json_member. */
#include "tests/unit/harness/test.h"

#include <stdio.h>

#include "lib/json.h"

/* The error parsing text gives ("" when it parses). */
static const char *parse_error(const char *text, size_t len, size_t max_bytes, int max_depth)
{
	static char msg[256];
	cleanup_error husk_err err = NULL;
	cleanup_json json_object *o = json_parse_text(text, len, max_bytes, max_depth, &err);
	snprintf(msg, sizeof(msg), "%s", o ? "" : husk_error_msg(err));
	return msg;
}

static const char *parse_str(const char *text)
{
	return parse_error(text, strlen(text), 64, 4);
}

TEST(json_accepts_one_value_with_trailing_whitespace)
{
	CHECK_STR(parse_str("{\"a\":[1,2]}"), "");
	CHECK_STR(parse_str(" \t{\"a\":1}\r\n \n"), "");
	CHECK_STR(parse_str("\"s\" "), "");
}

TEST(json_bounds_the_size)
{
	CHECK_STR(parse_error("[1, 2, 3]", 9, 8, 4), "larger than 8 bytes");
	CHECK_STR(parse_error("[1, 2, 3]", 9, 9, 4), "");
}

TEST(json_rejects_a_nul_byte)
{
	CHECK_STR(parse_error("{\"a\":\"x\0y\"}", 11, 64, 4), "contains a NUL byte");
	CHECK_STR(parse_error("{}\0", 3, 64, 4), "contains a NUL byte");
}

TEST(json_bounds_the_depth)
{
	CHECK_STR(parse_str("[[[1]]]"), "");
	CHECK_STR(parse_str("[[[[[1]]]]]"), "invalid JSON at byte 4: nesting too deep");
}

TEST(json_rejects_trailing_data_at_its_first_byte)
{
	CHECK_STR(parse_str("{} {}"), "invalid JSON at byte 3: trailing data");
	CHECK_STR(parse_str("1\n2"), "invalid JSON at byte 2: trailing data");
	CHECK_STR(parse_str("{}x"), "invalid JSON at byte 2: trailing data");
}

TEST(json_reports_unexpected_end_and_bad_syntax)
{
	CHECK_STR(parse_str(""), "invalid JSON at byte 0: unexpected end of input");
	CHECK_STR(parse_str("{\"a\":"), "invalid JSON at byte 5: unexpected end of input");
	CHECK(strstr(parse_str("{\"a\" 1}"), "invalid JSON at byte 5: "));
}

TEST(json_parse_object_wants_an_object)
{
	cleanup_error husk_err err = NULL;
	cleanup_json json_object *o = json_parse_object("[1]", 3, 64, 4, &err);
	CHECK(!o);
	CHECK_STR(husk_error_msg(err), "not a JSON object");
	cleanup_json json_object *obj = json_parse_object("{\"k\":1}", 7, 64, 4, &err);
	CHECK(obj != NULL);
}

TEST(json_member_of_objects_only)
{
	cleanup_json json_object *o = json_parse_object("{\"k\":3,\"arr\":[1]}", 17, 64, 4, NULL);
	CHECK(o != NULL);
	CHECK_INT(json_object_get_int(json_member(o, "k")), ==, 3);
	CHECK(!json_member(o, "missing"));
	CHECK(!json_member(json_member(o, "arr"), "k"));
	CHECK(!json_member(json_member(o, "k"), "k"));
	CHECK(!json_member(NULL, "k"));
}
