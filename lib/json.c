#include "json.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* Length of the whitespace run that starts s. */
static size_t space_run(const char *s, size_t len)
{
	size_t n = 0;
	while (n < len && strchr(" \t\r\n", s[n]))
		n++;
	return n;
}

json_object *json_parse_text(const char *text, size_t len, size_t max_bytes, int max_depth,
                             husk_err *err)
{
	if (len > max_bytes || len > INT_MAX) {
		husk_error_set(err, 0, "larger than %zu bytes", max_bytes);
		return NULL;
	}
	if (len && memchr(text, '\0', len)) {
		husk_error_set(err, 0, "contains a NUL byte");
		return NULL;
	}
	json_tokener *tok = json_tokener_new_ex(max_depth);
	if (!tok) {
		husk_error_set(err, ENOMEM, "JSON parser");
		return NULL;
	}
	json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error e = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o && e == json_tokener_success && end <= len)
		end += space_run(text + end, len - end);
	if (o && e == json_tokener_success && end == len)
		return o;
	json_object_put(o);
	husk_error_set(err, 0, "invalid JSON at byte %zu: %s", end,
	               e == json_tokener_continue  ? "unexpected end of input"
	               : e != json_tokener_success ? json_tokener_error_desc(e)
	                                           : "trailing data");
	return NULL;
}

json_object *json_parse_object(const char *text, size_t len, size_t max_bytes, int max_depth,
                               husk_err *err)
{
	json_object *o = json_parse_text(text, len, max_bytes, max_depth, err);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		husk_error_set(err, 0, "not a JSON object");
		return NULL;
	}
	return o;
}

json_object *json_member(json_object *obj, const char *key)
{
	json_object *v = NULL;
	if (!json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}
