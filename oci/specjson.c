#include "specjson.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "limits.h"

json_object *spec_json_parse(const char *json, size_t len, husk_err *err)
{
	return json_parse_object(json, len, SPEC_MAX_JSON, SPEC_MAX_DEPTH, err);
}

void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* A JSON string without embedded NULs, at most max bytes, copied. */
int dup_string(json_object *o, size_t max, char **out, const char *what, husk_err *err)
{
	if (!json_object_is_type(o, json_type_string))
		return husk_error_set(err, 0, "%s: not a string", what);
	const char *s = json_object_get_string(o);
	size_t n = (size_t)json_object_get_string_len(o);
	if (n > max)
		return husk_error_set(err, 0, "%s: longer than %zu bytes", what, max);
	if (strlen(s) != n)
		return husk_error_set(err, 0, "%s: contains a NUL byte", what);
	*out = strdup(s);
	if (!*out)
		return husk_error_set(err, ENOMEM, "%s", what);
	return 0;
}

int string_array(json_object *arr, size_t max, char ***out, const char *what, husk_err *err)
{
	if (!json_object_is_type(arr, json_type_array))
		return husk_error_set(err, 0, "%s: not an array", what);
	size_t n = json_object_array_length(arr);
	if (n > max)
		return husk_error_set(err, 0, "%s: more than %zu entries", what, max);
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return husk_error_set(err, ENOMEM, "%s", what);
	for (size_t i = 0; i < n; i++) {
		char entry[96];
		snprintf(entry, sizeof(entry), "%.64s[%zu]", what, i);
		if (dup_string(json_object_array_get_idx(arr, i), SPEC_MAX_STRING, &v[i], entry,
		               err) < 0) {
			free_strv(v);
			return -1;
		}
	}
	*out = v;
	return 0;
}

int get_u64(json_object *o, unsigned long long *out, const char *what, husk_err *err)
{
	if (!o || !json_object_is_type(o, json_type_int))
		return husk_error_set(err, 0, "%s: not an integer", what);
	if (json_object_get_int64(o) < 0)
		return husk_error_set(err, 0, "%s: out of range", what);
	*out = json_object_get_uint64(o);
	return 0;
}

int parse_bool(json_object *o, int *out, const char *what, husk_err *err)
{
	if (!o)
		return 0;
	if (!json_object_is_type(o, json_type_boolean))
		return husk_error_set(err, 0, "%s: not a boolean", what);
	*out = json_object_get_boolean(o);
	return 0;
}

/* Absolute, bounded, and free of "." / ".." components. */
int check_path(const char *p, const char *what, husk_err *err)
{
	if (p[0] != '/')
		return husk_error_set(err, 0, "%s %s: not an absolute path", what, p);
	if (strlen(p) >= SPEC_MAX_PATH)
		return husk_error_set(err, 0, "%s: path too long", what);
	for (const char *c = p; *c;) {
		while (*c == '/')
			c++;
		size_t n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return husk_error_set(err, 0, "%s %s: contains . or ..", what, p);
		c += n;
	}
	return 0;
}

int only_known_keys(json_object *obj, const char *const *known, const char *what, husk_err *err)
{
	json_object_object_foreach(obj, key, val)
	{
		size_t i = 0;
		(void)val;
		while (known[i] && strcmp(known[i], key) != 0)
			i++;
		if (!known[i])
			return husk_error_set(err, 0, "%s.%.64s: not supported", what, key);
	}
	return 0;
}
