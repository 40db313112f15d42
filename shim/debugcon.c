/*
 * husk debug-console ID: a shell in the guest of ID's sandbox, outside any
 * container: the guest's own view (PID 1 is the agent, the containers' roots
 * are under /run/husk/shared), over the debug console's own vsock port, which
 * the guest serves only when the host created the sandbox with it
 * (docs/operations.md). On the caller's terminal the shell is interactive (the
 * terminal in raw mode, resized with it, restored: husk exec -t's code);
 * otherwise it reads its commands from stdin. Exits with the shell's status.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "husk.h"
#include "shim/lib/attach.h"
#include "shim/lib/config.h"

/*
 * Debian's static busybox runs its applets without links (fetch-busybox): no
 * PATH entry needed. The shell leads a session of its own (on a terminal the
 * agent makes it one; otherwise busybox's setsid does), so that the agent ends
 * it with its jobs when this command goes away.
 */
#define DEBUG_SHELL_ARGS "\"/husk/busybox\",\"sh\""
#define DEBUG_SHELL_ENV                                                                            \
	"\"PATH=/husk/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"HOME=/\",\"PS1=husk-debug:\\\\w# \""
#define DEBUG_SHELL                                                                                \
	"{\"args\":[%s" DEBUG_SHELL_ARGS "],\"cwd\":\"/\",\"terminal\":%s,"                        \
	"\"user\":{\"uid\":0,\"gid\":0},\"env\":[" DEBUG_SHELL_ENV ",\"TERM=%s\"]}"

static struct agent_client *attach_debug_console(struct husk_loop *loop, const struct exec_cmd *x,
                                                 husk_err *err)
{
	return debug_console_attach(loop, x->g->root, x->id, &x->cfg, err);
}

/* TERM goes through as a name of letters, digits, '-', '+', '.' and '_' only (it lands in JSON). */
static const char *term_name(void)
{
	const char *t = getenv("TERM");
	if (!t || !*t || strlen(t) > 64 ||
	    t[strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+._")])
		return "xterm";
	return t;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: husk debug-console [--config FILE] ID\n");
}

int cmd_debug_console(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct exec_cmd x = {.g = g, .agent_id = DEBUG_CONSOLE_ID, .attach = attach_debug_console};
	const char *config = NULL;
	int c, status = EXEC_FAILED, no_report = -1;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		default:
			return verb_usage(c, usage);
		}
	}
	if (optind != argc - 1)
		return verb_usage('?', usage);
	x.id = argv[optind];
	x.terminal = isatty(STDIN_FILENO);
	exec_make_id(x.exec_id, sizeof(x.exec_id));
	if (asprintf(&x.process_json, DEBUG_SHELL,
	             x.terminal ? "" : "\"/husk/busybox\",\"setsid\",",
	             x.terminal ? "true" : "false", term_name()) < 0) {
		x.process_json = NULL;
		husk_error_set(err, 0, "out of memory");
	} else if (config_load(config, &x.cfg, err) == 0) {
		status = exec_main(&x, &no_report, err);
	}
	if (*err)
		husk_error_prefix(err, "debug-console %s", x.id);
	free(x.process_json);
	config_free(&x.cfg);
	return status;
}
