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
#include <unistd.h>

#include "husk.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "metrics.h"
#include "shim/lib/metricsdir.h"
#include "shim/lib/prommerge.h"
#include "shim/lib/promtext.h"
#include "shim/lib/sbmetrics.h"

/* How long one gathering waits for all the owners together. */
#define GATHER_MS 5000

struct gathered {
	struct prom_merge m;
	unsigned unreachable; /* owners that answered nothing or something malformed */
};

/* Connects to an owner's socket; a refused connection is a dead owner's: its socket goes. */
static int dial(const char *path)
{
	int fd = unix_connect("metrics", path, NULL);
	if (fd < 0 && errno == ECONNREFUSED)
		unlink(path);
	return fd;
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
	if (n <= 0 || !prommerge_add(&g->m, buf, (size_t)n)) {
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
	const struct prom_merge *m = &g->m;
	promtext_family(t, "husk_sandboxes", "gauge", "Sandboxes on this host by state.");
	for (size_t i = 0; i < PROMMERGE_STATES; i++) {
		l[0] = '\0';
		promtext_label(l, sizeof(l), "state", prommerge_states[i]);
		promtext_u64(t, "husk_sandboxes", l, m->by_state[i]);
	}
	promtext_family(t, "husk_start_latency_seconds", "histogram",
	                "From a sandbox's creation to its first container started, over the "
	                "sandboxes on this host.");
	unsigned cum = 0;
	for (size_t b = 0; b <= PROMMERGE_BUCKETS; b++) {
		char le[16];
		cum += m->starts[b];
		snprintf(le, sizeof(le), "%g", b < PROMMERGE_BUCKETS ? prommerge_buckets[b] : 0);
		l[0] = '\0';
		promtext_label(l, sizeof(l), "le", b < PROMMERGE_BUCKETS ? le : "+Inf");
		promtext_u64(t, "husk_start_latency_seconds_bucket", l, cum);
	}
	promtext_f64(t, "husk_start_latency_seconds_sum", "", m->start_sum);
	promtext_u64(t, "husk_start_latency_seconds_count", "", m->nstarts);
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

int metrics_text(struct promtext *t, husk_err *err)
{
	struct gathered *g = calloc(1, sizeof(*g));
	if (!g)
		return husk_error_set(err, ENOMEM, "metrics");
	int r = gather(g, err);
	if (r == 0)
		render_host(t, g, err);
	/* the sandboxes' families after the host's */
	for (size_t i = 0; r == 0 && !*err && i < g->m.nfam; i++) {
		const struct prom_family *f = &g->m.fam[i];
		promtext_raw(t, f->header.buf ? f->header.buf : "", f->header.len);
		promtext_raw(t, f->samples.buf ? f->samples.buf : "", f->samples.len);
	}
	prommerge_free(&g->m);
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
