/* husk state and husk list: the OCI state of one container, or of all under --root. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lib/cleanup.h"
#include "husk.h"
#include "shim/lib/ocistate.h"

int cmd_state(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	struct oci_state st;
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: husk state ID\n");
		return 2;
	}
	if (ocistate_read(g->root, argv[1], &st, err) < 0) {
		husk_error_prefix(err, "state %s", argv[1]);
		return 1;
	}
	ocistate_print(stdout, &st, true);
	ocistate_free(&st);
	return 0;
}

static void print_row(const struct oci_state *st)
{
	enum oci_status s = ocistate_live_status(st);
	printf("%-20s %-8d %-10s %-40s %-30s %s\n", st->id, s == OCI_STOPPED ? 0 : (int)st->pid,
	       oci_status_name(s), st->bundle, st->created, "root");
}

int cmd_list(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
	                                     {"quiet", no_argument, NULL, 'q'},
	                                     {NULL, 0, NULL, 0}};
	const char *format = "table";
	bool quiet = false;
	int c, n = 0;
	while ((c = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1) {
		if (c == 'q')
			quiet = true;
		else if (c == 'f')
			format = optarg;
		else
			return fprintf(stderr,
			               "usage: husk list [--format table|json] [--quiet]\n"),
			       2;
	}
	bool json = !strcmp(format, "json");
	if (!json && strcmp(format, "table"))
		return husk_error_set(err, EINVAL, "list: invalid format %s", format), 1;
	cleanup_closedir DIR *d = opendir(g->root);
	if (!d && errno != ENOENT)
		return husk_error_set(err, errno, "list: %s", g->root), 1;
	if (json)
		printf("[");
	else if (!quiet)
		printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
	for (struct dirent *e; d && (e = readdir(d));) {
		struct oci_state st;
		cleanup_error husk_err ignored = NULL;
		if (e->d_name[0] == '.' || ocistate_read(g->root, e->d_name, &st, &ignored) < 0)
			continue;
		if (json) {
			printf("%s", n++ ? "," : "");
			ocistate_print(stdout, &st, false);
		} else if (quiet) {
			printf("%s\n", st.id);
		} else {
			print_row(&st);
		}
		ocistate_free(&st);
	}
	if (json)
		printf("]\n");
	return 0;
}
