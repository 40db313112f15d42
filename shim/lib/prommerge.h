/*
 * Merging the sandbox owners' Prometheus expositions (shim/lib/sbmetrics.h) into one: each
 * family's HELP and TYPE once, then every sandbox's samples, and the figures the host's own
 * metrics are made of (sandboxes by state, start latencies). An owner's text is checked whole
 * before any of it is merged: a line that is not a HELP, TYPE or sample of the family it
 * follows refuses it.
 */
#ifndef HUSK_PROMMERGE_H
#define HUSK_PROMMERGE_H

#include <stdbool.h>
#include <stddef.h>

#include "promtext.h"

#define PROMMERGE_FAMILIES 64
#define PROMMERGE_NAME     128
#define PROMMERGE_LINE     4096
#define PROMMERGE_STATES   4 /* prommerge_states */
#define PROMMERGE_BUCKETS  7 /* prommerge_buckets */

extern const char *const prommerge_states[PROMMERGE_STATES];
extern const double prommerge_buckets[PROMMERGE_BUCKETS];

struct prom_family {
	char name[PROMMERGE_NAME];
	struct promtext header; /* its HELP and TYPE lines, from the first text that has it */
	bool typed;
	struct promtext samples;
};

struct prom_merge {
	struct prom_family fam[PROMMERGE_FAMILIES];
	size_t nfam;
	unsigned by_state[PROMMERGE_STATES];
	unsigned starts[PROMMERGE_BUCKETS + 1]; /* the last: above every bucket */
	unsigned nstarts;
	double start_sum;
};

/* Merges one owner's exposition; false (nothing merged) when it is malformed. */
bool prommerge_add(struct prom_merge *g, const char *text, size_t len);
void prommerge_free(struct prom_merge *g);

#endif
