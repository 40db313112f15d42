/*
 * husk metrics: every sandbox's metrics on this host (CLI containers and shim v2
 * pods alike, whatever their --root), gathered from the owners' sockets in
 * METRICS_DIR (shim/lib/sbmetrics.h), merged into one Prometheus exposition with
 * the host's own: sandboxes by state, a start-latency histogram, failures by
 * cause. Printed once, or served over HTTP with --listen.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "husk.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "metrics.h"
#include "shim/lib/metricsdir.h"
#include "shim/lib/promtext.h"
#include "shim/lib/sbmetrics.h"

#define MAX_FAMILIES 64
#define MAX_NAME     128
#define MAX_LINE     4096
/* How long one gathering waits for all the owners together. */
#define GATHER_MS 5000

static const char *const states[] = {"created", "running", "paused", "stopped"};
static const double start_buckets[] = {1, 2, 4, 8, 16, 32, 64};

struct family {
	char name[MAX_NAME];
	struct promtext header; /* its HELP and TYPE lines, from the first text that has it */
	bool typed;
	struct promtext samples;
};

struct gathered {
	struct family fam[MAX_FAMILIES];
	size_t nfam;
	unsigned by_state[ARRAY_SIZE(states)];
	unsigned starts[ARRAY_SIZE(start_buckets) + 1];
	unsigned nstarts;
	double start_sum;
	unsigned unreachable;
};

/* The metric name a line starts with (up to '{' or ' '), into name; false if none fits. */
static bool line_name(const char *line, size_t len, char name[MAX_NAME])
{
	size_t n = strcspn(line, "{ ");
	if (n == 0 || n >= MAX_NAME || n >= len)
		return false;
	memcpy(name, line, n);
	name[n] = '\0';
	return true;
}

static struct family *family_of(struct gathered *g, const char *name, bool add)
{
	for (size_t i = 0; i < g->nfam; i++)
		if (!strcmp(g->fam[i].name, name))
			return &g->fam[i];
	if (!add || g->nfam == MAX_FAMILIES)
		return NULL;
	struct family *f = &g->fam[g->nfam++];
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

static void note_host_figures(struct gathered *g, const char *name, const char *line)
{
	char state[16];
	if (!strcmp(name, "husk_sandbox_state") &&
	    label_value(line, "state", state, sizeof(state))) {
		for (size_t i = 0; i < ARRAY_SIZE(states); i++)
			g->by_state[i] += !strcmp(state, states[i]);
	} else if (!strcmp(name, "husk_sandbox_start_seconds")) {
		double v = strtod(strrchr(line, ' ') + 1, NULL);
		size_t b = 0;
		while (b < ARRAY_SIZE(start_buckets) && v > start_buckets[b])
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
static bool merge(struct gathered *g, const char *text, size_t len, bool apply)
{
	struct family *cur = NULL;
	char name[MAX_NAME], type_of[MAX_NAME] = "";
	for (size_t o = 0; o < len;) {
		const char *line = text + o, *nl = memchr(line, '\n', len - o);
		size_t l = nl ? (size_t)(nl - line) : len - o;
		o += l + 1;
		if (!nl || l == 0 || l >= MAX_LINE)
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
			struct family *f = apply ? family_of(g, name, true) : NULL;
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
			char copy[MAX_LINE];
			memcpy(copy, line, l);
			copy[l] = '\0';
			note_host_figures(g, name, copy);
		}
	}
	return true;
}

/* Connects to an owner's socket; a refused connection is a dead owner's: its socket goes. */
static int dial(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (errno == ECONNREFUSED)
		unlink(path);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Up to SBMETRICS_TEXT_MAX bytes until EOF or the deadline; -1 when it does not end by then. */
static ssize_t read_all(int fd, char *buf, int64_t deadline)
{
	size_t len = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int left = deadline_left(deadline);
		if (left == 0 || poll(&p, 1, left) <= 0)
			return -1;
		ssize_t n = read(fd, buf + len, SBMETRICS_TEXT_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : (ssize_t)len;
		len += (size_t)n;
		if (len > SBMETRICS_TEXT_MAX)
			return -1;
	}
}

static void gather_one(struct gathered *g, const char *path, char *buf, int64_t deadline)
{
	cleanup_close int fd = dial(path);
	if (fd < 0)
		return;
	ssize_t n = read_all(fd, buf, deadline);
	if (n <= 0 || !merge(g, buf, (size_t)n, false) || !merge(g, buf, (size_t)n, true)) {
		log_debug("metrics: %s: no answer or a malformed one", path);
		g->unreachable++;
	}
}

static int gather(struct gathered *g, husk_err *err)
{
	cleanup_free char *buf = malloc(SBMETRICS_TEXT_MAX + 1);
	DIR *d = opendir(METRICS_DIR);
	int64_t deadline = deadline_after(GATHER_MS);
	if (!buf)
		return husk_error_set(err, ENOMEM, "metrics");
	if (!d)
		return errno == ENOENT ? 0 : husk_error_set(err, errno, "%s", METRICS_DIR);
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		char path[METRICS_SOCK_PATH_MAX + 64];
		if (l < 6 || strcmp(e->d_name + l - 5, ".sock"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", METRICS_DIR, e->d_name);
		gather_one(g, path, buf, deadline);
	}
	closedir(d);
	return 0;
}

static void render_host(struct promtext *t, const struct gathered *g, husk_err *err)
{
	char l[PROMTEXT_LABELS_MAX];
	uint64_t fails[FAIL_CAUSES];
	promtext_family(t, "husk_sandboxes", "gauge", "Sandboxes on this host by state.");
	for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
		l[0] = '\0';
		promtext_label(l, sizeof(l), "state", states[i]);
		promtext_u64(t, "husk_sandboxes", l, g->by_state[i]);
	}
	promtext_family(t, "husk_start_latency_seconds", "histogram",
	                "From a sandbox's creation to its first container started, over the "
	                "sandboxes on this host.");
	unsigned cum = 0;
	for (size_t b = 0; b <= ARRAY_SIZE(start_buckets); b++) {
		char le[16];
		cum += g->starts[b];
		snprintf(le, sizeof(le), "%g",
		         b < ARRAY_SIZE(start_buckets) ? start_buckets[b] : 0);
		l[0] = '\0';
		promtext_label(l, sizeof(l), "le", b < ARRAY_SIZE(start_buckets) ? le : "+Inf");
		promtext_u64(t, "husk_start_latency_seconds_bucket", l, cum);
	}
	promtext_f64(t, "husk_start_latency_seconds_sum", "", g->start_sum);
	promtext_u64(t, "husk_start_latency_seconds_count", "", g->nstarts);
	promtext_family(t, "husk_failures_total", "counter",
	                "Sandbox failures by cause since the host booted.");
	if (failcount_read(fails, err) < 0)
		return;
	for (size_t c = 0; c < FAIL_CAUSES; c++) {
		l[0] = '\0';
		promtext_label(l, sizeof(l), "cause", failcount_name(c));
		promtext_u64(t, "husk_failures_total", l, fails[c]);
	}
	promtext_family(t, "husk_metrics_unanswered", "gauge",
	                "Sandbox owners that gave no well-formed metrics within the time allowed.");
	promtext_u64(t, "husk_metrics_unanswered", "", g->unreachable);
}

static void gathered_free(struct gathered *g)
{
	for (size_t i = 0; i < g->nfam; i++) {
		promtext_free(&g->fam[i].header);
		promtext_free(&g->fam[i].samples);
	}
}

int metrics_text(struct promtext *t, husk_err *err)
{
	struct gathered *g = calloc(1, sizeof(*g));
	if (!g)
		return husk_error_set(err, ENOMEM, "metrics");
	int r = gather(g, err);
	if (r == 0)
		render_host(t, g, err);
	for (size_t i = 0; r == 0 && !*err && i < g->nfam; i++) {
		promtext_raw(t, g->fam[i].header.buf ? g->fam[i].header.buf : "",
		             g->fam[i].header.len);
		promtext_raw(t, g->fam[i].samples.buf ? g->fam[i].samples.buf : "",
		             g->fam[i].samples.len);
	}
	gathered_free(g);
	free(g);
	if (*err)
		return -1;
	if (t->failed)
		return husk_error_set(err, E2BIG, "metrics: more than %d bytes", PROMTEXT_MAX);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: husk metrics [--listen [HOST:]PORT]\n"
	           "  prints every sandbox's metrics on this host (Prometheus text format);\n"
	           "  --listen serves them at http://HOST:PORT/metrics (HOST 127.0.0.1 unless "
	           "given)\n");
}

int cmd_metrics(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *listen = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c != 'l')
			return verb_usage(c, usage);
		listen = optarg;
	}
	if (optind != argc)
		return verb_usage('?', usage);
	if (listen)
		return metrics_serve_http(listen, err) < 0 ? husk_error_prefix(err, "metrics"),
		       1                                   : 0;
	struct promtext t = {0};
	int r = metrics_text(&t, err);
	if (r == 0 && (fwrite(t.buf, 1, t.len, stdout) != t.len || fflush(stdout) != 0))
		r = husk_error_set(err, errno, "metrics: stdout");
	else if (r < 0)
		husk_error_prefix(err, "metrics");
	promtext_free(&t);
	return r < 0 ? 1 : 0;
}
