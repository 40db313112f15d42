/*
 * husk run: create and start a container through the sandbox owner
 * (shim/owner.c), like runc run. In the foreground this process is the owner:
 * it relays stdio and signals, exits with the container's status and removes
 * the container at the end (unless --keep). With --detach the owner is forked
 * as by husk create, starts the container at once, and outlives us.
 */
#include <getopt.h>
#include <stdio.h>

#include "husk.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: husk run [--bundle DIR] [--pid-file FILE] [--detach] [--keep] "
	           "[--console-socket SOCK] [--no-pivot] [--no-new-keyring] [--config FILE] ID\n");
}

int cmd_run(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"detach", no_argument, NULL, 'd'},
	    {"keep", no_argument, NULL, 'k'},
	    {"console-socket", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"no-pivot", no_argument, NULL, 'P'},
	    {"no-new-keyring", no_argument, NULL, 'K'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct create_flags f = {.bundle = "."};
	bool detach = false, keep = false;
	struct owner_args a = {0};
	int c, status = 1;

	while ((c = getopt_long(argc, argv, "+b:dh", opts, NULL)) != -1) {
		if (create_flag(c, &f))
			continue;
		switch (c) {
		case 'd':
			detach = true;
			break;
		case 'k':
			keep = true;
			break;
		default:
			return verb_usage(c, usage);
		}
	}
	if (optind != argc - 1)
		return verb_usage('?', usage);
	const char *id = argv[optind];
	if (owner_args_load(&a, g, id, &f, err) == 0 &&
	    owner_args_console(&a, f.console_socket, detach, err) == 0) {
		a.start = true;
		a.foreground = !detach;
		a.keep = keep;
		if (detach)
			status = owner_fork(g, &a, err) == 0 ? 0 : 1;
		else
			status = owner_run(&a, -1, err);
	}
	owner_args_free(&a);
	if (*err)
		husk_error_prefix(err, "run %s", id);
	return status;
}
