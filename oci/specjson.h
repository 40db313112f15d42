/* json-c helpers of the spec parsers (ocispec.c, ocispec_linux.c, hooks.c) and their users. */
#ifndef HUSK_OCI_SPECJSON_H
#define HUSK_OCI_SPECJSON_H

#include <json-c/json.h>
#include <stddef.h>

#include "lib/error.h"

/* config.json's text as JSON within the contract's bounds (SPEC_MAX_JSON bytes, SPEC_MAX_DEPTH). */
json_object *spec_json_parse(const char *json, size_t len, husk_err *err);
void free_strv(char **v);
/* A JSON string without embedded NULs, at most max bytes, copied. */
int dup_string(json_object *o, size_t max, char **out, const char *what, husk_err *err);
/*
 * A NULL-terminated copy of a string array of at most max entries, each at most
 * SPEC_MAX_STRING bytes; errors name the entry ("what[i]: not a string").
 */
int string_array(json_object *arr, size_t max, char ***out, const char *what, husk_err *err);
/* A non-negative integer. */
int get_u64(json_object *o, unsigned long long *out, const char *what, husk_err *err);
/* Leaves *out alone when o is absent. */
int parse_bool(json_object *o, int *out, const char *what, husk_err *err);
/* Absolute, shorter than SPEC_MAX_PATH, and free of "." / ".." components. */
int check_path(const char *p, const char *what, husk_err *err);
/* Every key of obj must be in known (NULL-terminated), else "what.key: not supported". */
int only_known_keys(json_object *obj, const char *const *known, const char *what, husk_err *err);

#endif
