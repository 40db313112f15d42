#include "promtext.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool grow(struct promtext *t, size_t more)
{
	if (t->failed || t->len + more + 1 > PROMTEXT_MAX)
		return t->failed = true, false;
	if (t->len + more + 1 <= t->cap)
		return true;
	size_t cap = t->cap ? t->cap : 4096;
	while (cap < t->len + more + 1)
		cap *= 2;
	char *b = realloc(t->buf, cap);
	if (!b)
		return t->failed = true, false;
	t->buf = b;
	t->cap = cap;
	return true;
}

__attribute__((format(printf, 2, 3))) static void append(struct promtext *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !grow(t, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

void promtext_family(struct promtext *t, const char *name, const char *type, const char *help)
{
	append(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void promtext_u64(struct promtext *t, const char *name, const char *labels, uint64_t v)
{
	append(t, "%s%s%s%s %llu\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
	       (unsigned long long)v);
}

void promtext_f64(struct promtext *t, const char *name, const char *labels, double v)
{
	append(t, "%s%s%s%s %.6f\n", name, *labels ? "{" : "", labels, *labels ? "}" : "", v);
}

bool promtext_label(char *labels, size_t cap, const char *key, const char *value)
{
	size_t o = strlen(labels);
	int n = snprintf(labels + o, cap - o, "%s%s=\"", o ? "," : "", key);
	if (n < 0 || (size_t)n >= cap - o)
		return labels[o] = '\0', false;
	size_t p = o + (size_t)n;
	for (const char *s = value; *s; s++) {
		const char *esc = *s == '\\'   ? "\\\\"
		                  : *s == '"'  ? "\\\""
		                  : *s == '\n' ? "\\n"
		                               : NULL;
		size_t l = esc ? 2 : 1;
		if (p + l + 2 > cap)
			return labels[o] = '\0', false;
		memcpy(labels + p, esc ? esc : s, l);
		p += l;
	}
	memcpy(labels + p, "\"", 2);
	return true;
}

void promtext_raw(struct promtext *t, const char *text, size_t len)
{
	if (!grow(t, len))
		return;
	memcpy(t->buf + t->len, text, len);
	t->len += len;
	t->buf[t->len] = '\0';
}

void promtext_free(struct promtext *t)
{
	free(t->buf);
	*t = (struct promtext){0};
}
