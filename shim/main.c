/* husk: global flags (runc-compatible) and the command table. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "husk.h"
#include "lib/log.h"

struct command {
	const char *name;
	husk_command fn;
	const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run, "run a container in its own VM, in the foreground"},
    {"check", cmd_check, "report what this host offers husk"},
    {"create", cmd_create, "boot the VM and create a container, stopped before its process runs"},
    {"start", cmd_start, "run the process of a created container"},
    {"state", cmd_state, "print a container's OCI state (JSON)"},
    {"kill", cmd_kill, "send a signal to a container's process"},
    {"delete", cmd_delete, "remove a container and everything of its VM"},
    {"list", cmd_list, "list containers"},
    {"spec", cmd_spec, "write a default config.json"},
    {"features", cmd_features, "print what husk supports (JSON)"},
    {"exec", cmd_exec, "run another process in a running container"},
    {"ps", cmd_ps, "list the processes of a container (guest pids)"},
    {"pause", cmd_pause, "freeze every process of a container"},
    {"resume", cmd_resume, "thaw a paused container"},
    {"update", cmd_update, "change a running container's resource limits"},
    {"events", cmd_events, "print a container's OOM events and stats (JSON lines)"},
    {"debug-console", cmd_debug_console, "a shell in a sandbox's guest, outside any container"},
    {"metrics", cmd_metrics, "every sandbox's metrics on this host (Prometheus text format)"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: husk [--root DIR] [--debug] [--log FILE] [--log-format text|json] "
	           "COMMAND [ARGS]\n       husk --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
}

static int open_log(const char *path, bool json)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "husk: log %s: %s\n", path, strerror(errno));
		return -1;
	}
	log_set_output(fd, json);
	return fd;
}

/*
 * A closed fd 0, 1 or 2 would be reused by the next open() (an epoll fd
 * taken for stdin, a log written into a socket): point them at /dev/null.
 */
static int ensure_stdio(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int null = open("/dev/null", O_RDWR);
		if (null != fd) {
			if (null >= 0)
				close(null);
			return -1;
		}
	}
	return 0;
}

int verb_usage(int c, void (*print_usage)(FILE *f))
{
	print_usage(c == 'h' ? stdout : stderr);
	return c == 'h' ? 0 : 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"debug", no_argument, NULL, 'd'},
	    {"systemd-cgroup", no_argument, NULL, 's'},
	    {"rootless", required_argument, NULL, 'R'},
	    {"log", required_argument, NULL, 'l'},
	    {"log-format", required_argument, NULL, 'f'},
	    {"version", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct husk_globals g = {.root = HUSK_DEFAULT_ROOT, .log_fd = -1};
	const char *log_path = NULL, *log_format = "text";
	int c;

	log_init("husk");
	if (ensure_stdio() < 0)
		return 1;
	while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			g.root = optarg;
			break;
		case 'd':
			g.debug = true;
			break;
		case 's':
			g.systemd_cgroup = true;
			break;
		case 'R':
			break; /* accepted for runc compatibility */
		case 'l':
			log_path = optarg;
			break;
		case 'f':
			log_format = optarg;
			break;
		case 'v':
			printf("husk version %s\nspec: %s\n", HUSK_VERSION, HUSK_OCI_VERSION);
			return 0;
		default:
			return verb_usage(c, usage);
		}
	}
	if (strcmp(log_format, "text") && strcmp(log_format, "json")) {
		fprintf(stderr, "husk: --log-format %s: must be text or json\n", log_format);
		return 2;
	}
	if (!g.root[0]) {
		fprintf(stderr, "husk: --root must not be empty\n");
		return 2;
	}
	if (g.debug)
		log_set_level(LOG_LEVEL_DEBUG);
	int log_fd = -1;
	if (log_path && (log_fd = open_log(log_path, !strcmp(log_format, "json"))) < 0)
		return 1;
	g.log_fd = log_fd;
	if (optind >= argc)
		return verb_usage('?', usage);
	int verb = optind;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[verb], commands[i].name))
			continue;
		husk_err err = NULL;
		optind = 0; /* reinitialise getopt: each verb parses its own flags */
		int status = commands[i].fn(&g, argc - verb, argv + verb, &err);
		if (err) {
			fprintf(stderr, "husk: %s\n", husk_error_msg(err));
			if (log_fd >= 0)
				log_error("%s", husk_error_msg(err));
			husk_error_free(&err);
		}
		return status;
	}
	fprintf(stderr, "husk: unknown command \"%s\"\n", argv[verb]);
	return verb_usage('?', usage);
}
