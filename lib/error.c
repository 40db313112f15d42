#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

int husk_error_set(husk_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	char *base;

	if (!err)
		return -1;
	husk_error_free(err);
	va_start(ap, fmt);
	base = vformat(fmt, ap);
	va_end(ap);

	husk_error *e = calloc(1, sizeof(*e));
	if (!e) {
		free(base);
		return -1;
	}
	e->code = code;
	if (code && base) {
		if (asprintf(&e->msg, "%s: %s", base, strerror(code)) < 0)
			e->msg = NULL;
		free(base);
	} else {
		e->msg = base;
	}
	*err = e;
	return -1;
}

int husk_error_prefix(husk_err *err, const char *fmt, ...)
{
	va_list ap;
	char *prefix, *joined;

	if (!err || !*err)
		return -1;
	va_start(ap, fmt);
	prefix = vformat(fmt, ap);
	va_end(ap);
	if (!prefix)
		return -1;
	if (asprintf(&joined, "%s: %s", prefix, (*err)->msg ? (*err)->msg : "unknown error") >= 0) {
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
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

const char *husk_error_msg(husk_err err)
{
	return err && err->msg ? err->msg : "unknown error";
}
