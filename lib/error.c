#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What *err holds when the error itself cannot be allocated: shared, never freed or changed. */
static char out_of_memory_msg[] = "out of memory";
static husk_error out_of_memory = {.code = ENOMEM, .msg = out_of_memory_msg};

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

/* base (consumed) plus ": strerror(code)" when code != 0; NULL when out of memory. */
static char *with_cause(char *base, int code)
{
	char *msg = NULL;
	if (!base || !code)
		return base;
	if (asprintf(&msg, "%s: %s", base, strerror(code)) < 0)
		msg = NULL;
	free(base);
	return msg;
}

int husk_error_set(husk_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	husk_error_free(err);
	va_start(ap, fmt);
	char *msg = with_cause(vformat(fmt, ap), code);
	va_end(ap);
	husk_error *e = msg ? calloc(1, sizeof(*e)) : NULL;
	if (!e) {
		free(msg);
		*err = &out_of_memory;
		return -1;
	}
	e->code = code;
	e->msg = msg;
	*err = e;
	return -1;
}

int husk_error_set_code(husk_err *err, int code)
{
	if (err && *err && *err != &out_of_memory)
		(*err)->code = code;
	return -1;
}

int husk_error_prefix(husk_err *err, const char *fmt, ...)
{
	va_list ap;
	char *prefix, *joined;

	if (!err || !*err || *err == &out_of_memory)
		return -1;
	va_start(ap, fmt);
	prefix = vformat(fmt, ap);
	va_end(ap);
	if (!prefix)
		return -1;
	if (asprintf(&joined, "%s: %s", prefix, (*err)->msg) >= 0) {
		free((*err)->msg);
		(*err)->msg = joined;
	}
	free(prefix);
	return -1;
}

void husk_error_free(husk_err *err)
{
	if (!err || !*err)
		return;
	if (*err != &out_of_memory) {
		free((*err)->msg);
		free(*err);
	}
	*err = NULL;
}

const char *husk_error_msg(husk_err err)
{
	return err ? err->msg : "unknown error";
}
