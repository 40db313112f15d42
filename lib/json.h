/*
 * JSON from untrusted text (bundles, husk.json, agent requests, QMP, control lines), parsed one
 * way everywhere: at most max_bytes, no NUL byte, nesting at most max_depth, exactly one value
 * followed by nothing but whitespace. Errors read "larger than N bytes", "contains a NUL byte"
 * or "invalid JSON at byte N: WHY" (WHY: "unexpected end of input", json-c's description such as
 * "nesting too deep", or "trailing data"); callers prefix what the text was.
 */
#ifndef HUSK_JSON_H
#define HUSK_JSON_H

#include <json-c/json.h>
#include <stddef.h>

#include "error.h"

json_object *json_parse_text(const char *text, size_t len, size_t max_bytes, int max_depth,
                             husk_err *err);
/* json_parse_text, and the value must be an object ("not a JSON object"). */
json_object *json_parse_object(const char *text, size_t len, size_t max_bytes, int max_depth,
                               husk_err *err);
/* obj's member key, or NULL when obj is no object or has no such member. */
json_object *json_member(json_object *obj, const char *key);

static inline void cleanup_json_fn(json_object **o)
{
	json_object_put(*o);
}
#define cleanup_json __attribute__((cleanup(cleanup_json_fn)))

#endif
