#include "prommerge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const prommerge_states[PROMMERGE_STATES] = {"created", "running", "paused", "stopped"};
const double prommerge_buckets[PROMMERGE_BUCKETS] = {1, 2, 4, 8, 16, 32, 64};

/* The metric name the len bytes of line start with (up to '{' or ' '); false if none fits. */
static bool line_name(const char *line, size_t len, char name[PROMMERGE_NAME])
{
	size_t n = 0;
	while (n < len && line[n] != '{' && line[n] != ' ')
		n++;
	if (n == 0 || n >= PROMMERGE_NAME || n >= len)
		return false;
	memcpy(name, line, n);
	name[n] = '\0';
	return true;
}

static struct prom_family *family_of(struct prom_merge *g, const char *name, bool add)
{
	for (size_t i = 0; i < g->nfam; i++)
		if (!strcmp(g->fam[i].name, name))
			return &g->fam[i];
	if (!add || g->nfam == PROMMERGE_FAMILIES)
		return NULL;
	struct prom_family *f = &g->fam[g->nfam++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	return f;
}

/* A sample line belongs to the family it follows: the name, or a summary's _sum/_count. */
static bool belongs(const char *sample, const char *family)
{
	size_t n = strlen(family);
	return !strncmp(sample, family, n) &&
	       (!sample[n] || !strcmp(sample + n, "_sum") || !strcmp(sample + n, "_count"));
}

/* The value of label key in a sample line, into out; false when absent. */
static bool label_value(const char *line, const char *key, char *out, size_t len)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "%s=\"", key);
	const char *p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	size_t n = strcspn(p, "\"");
	if (n >= len)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static void note_host_figures(struct prom_merge *g, const char *name, const char *line)
{
	char state[16];
	if (!strcmp(name, "husk_sandbox_state") &&
	    label_value(line, "state", state, sizeof(state))) {
		for (size_t i = 0; i < PROMMERGE_STATES; i++)
			g->by_state[i] += !strcmp(state, prommerge_states[i]);
	} else if (!strcmp(name, "husk_sandbox_start_seconds") && strrchr(line, ' ')) {
		double v = strtod(strrchr(line, ' ') + 1, NULL);
		size_t b = 0;
		while (b < PROMMERGE_BUCKETS && v > prommerge_buckets[b])
			b++;
		g->starts[b]++;
		g->nstarts++;
		g->start_sum += v;
	}
}

/*
 * One owner's exposition, checked whole before any of it is merged (apply false),
 * then merged (apply true): HELP and TYPE lines name the family the samples after
 * them belong to; anything else makes the whole text refused.
 */
static bool merge(struct prom_merge *g, const char *text, size_t len, bool apply)
{
	struct prom_family *cur = NULL;
	char name[PROMMERGE_NAME], type_of[PROMMERGE_NAME] = "";
	for (size_t o = 0; o < len;) {
		const char *line = text + o, *nl = memchr(line, '\n', len - o);
		size_t l = nl ? (size_t)(nl - line) : len - o;
		o += l + 1;
		if (!nl || l == 0 || l >= PROMMERGE_LINE)
			return false;
		for (size_t i = 0; i < l; i++)
			if ((unsigned char)line[i] < 0x20)
				return false;
		if (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7)) {
			if (!line_name(line + 7, l - 7, name))
				return false;
			bool help = line[2] == 'H';
			if (!help && strcmp(name, type_of))
				return false; /* TYPE follows its HELP */
			snprintf(type_of, sizeof(type_of), "%s", help ? name : "");
			struct prom_family *f = apply ? family_of(g, name, true) : NULL;
			if (apply && !f)
				return false;
			if (f && (help ? !f->header.len : !f->typed))
				promtext_raw(&f->header, line, l + 1);
			if (f && !help)
				f->typed = true;
			cur = f;
			continue;
		}
		if (line[0] == '#' || !line_name(line, l, name) || (apply && !cur) ||
		    (apply && !belongs(name, cur->name)))
			return false;
		if (apply) {
			promtext_raw(&cur->samples, line, l + 1);
			char copy[PROMMERGE_LINE];
			memcpy(copy, line, l);
			copy[l] = '\0';
			note_host_figures(g, name, copy);
		}
	}
	return true;
}

bool prommerge_add(struct prom_merge *g, const char *text, size_t len)
{
	return merge(g, text, len, false) && merge(g, text, len, true);
}

void prommerge_free(struct prom_merge *g)
{
	for (size_t i = 0; i < g->nfam; i++) {
		promtext_free(&g->fam[i].header);
		promtext_free(&g->fam[i].samples);
	}
}
