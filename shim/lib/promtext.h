/*
 * Prometheus text exposition format (version 0.0.4), written into a growing
 * buffer: each family's HELP and TYPE lines, then its samples. Bounded at
 * PROMTEXT_MAX bytes; past that (or without memory) the text is marked failed.
 */
#ifndef HUSK_PROMTEXT_H
#define HUSK_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROMTEXT_MAX (256 * 1024)
/* One label set, 'key="value",...', as promtext_label builds it. */
#define PROMTEXT_LABELS_MAX 1024

struct promtext {
	char *buf;
	size_t len, cap;
	bool failed;
};

void promtext_family(struct promtext *t, const char *name, const char *type, const char *help);
/* name{labels} v; labels may be "" */
void promtext_u64(struct promtext *t, const char *name, const char *labels, uint64_t v);
void promtext_f64(struct promtext *t, const char *name, const char *labels, double v);
/* Appends key="value" (value escaped as the format wants) to labels; false when it does not fit. */
bool promtext_label(char *labels, size_t cap, const char *key, const char *value);
/* Appends the raw text (another exposition's lines, already checked). */
void promtext_raw(struct promtext *t, const char *text, size_t len);
void promtext_free(struct promtext *t);

#endif
