/*
 * husk ps: the processes of a running container, from the agent's
 * ListProcesses. The pids are guest pids (the agent's pid namespace): no
 * host process stands for them.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "shim/lib/attach.h"
#include "lib/cleanup.h"
#include "lib/text.h"
#include "shim/lib/config.h"
#include "husk.h"
#include "shim/lib/ocistate.h"

/* The bounds proto/agent.proto gives ListProcessesResponse. */
#define PS_MAX_PROCS   4096
#define PS_MAX_CMDLINE 4096

static int check_response(const Husk__Agent__V1__ListProcessesResponse *r, husk_err *err)
{
	if (r->n_processes > PS_MAX_PROCS)
		return husk_error_set(err, EPROTO, "agent listed %zu processes", r->n_processes);
	for (size_t i = 0; i < r->n_processes; i++) {
		const Husk__Agent__V1__ProcessInfo *p = r->processes[i];
		if (strlen(p->state) > 1 || strlen(p->cmdline) > PS_MAX_CMDLINE)
			return husk_error_set(err, EPROTO, "agent sent a malformed process entry");
	}
	return 0;
}

static int print_json(const Husk__Agent__V1__ListProcessesResponse *r, husk_err *err)
{
	json_object *pids = json_object_new_array();
	if (!pids)
		return husk_error_set(err, ENOMEM, "ps");
	for (size_t i = 0; i < r->n_processes; i++)
		json_object_array_add(pids, json_object_new_int64(r->processes[i]->pid));
	printf("%s\n", json_object_to_json_string_ext(pids, JSON_C_TO_STRING_PLAIN));
	json_object_put(pids);
	return 0;
}

/* Guest text on the caller's terminal, escaped (lib/text.h). */
static void print_sanitized(const char *s)
{
	char buf[4 * PS_MAX_CMDLINE + 4];
	fputs(text_escape(buf, sizeof(buf), s, strlen(s)), stdout);
}

static void print_table(const Husk__Agent__V1__ListProcessesResponse *r)
{
	printf("%-8s %-8s %-6s %-4s %s\n", "PID", "PPID", "UID", "STAT", "CMD");
	for (size_t i = 0; i < r->n_processes; i++) {
		const Husk__Agent__V1__ProcessInfo *p = r->processes[i];
		printf("%-8u %-8u %-6u ", p->pid, p->ppid, p->uid);
		print_sanitized(p->state[0] ? p->state : "?");
		printf("    ");
		print_sanitized(p->cmdline);
		putchar('\n');
	}
}

static int list_processes(const struct husk_globals *g, const char *id, bool json,
                          const struct husk_config *cfg, husk_err *err)
{
	Husk__Agent__V1__ContainerRequest req = HUSK__AGENT__V1__CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	struct oci_state st;
	struct husk_loop *loop = husk_loop_new(err);
	struct agent_client *a = loop ? sandbox_attach(loop, g->root, id, cfg, &st, err) : NULL;
	int r = -1;
	if (!a)
		goto out;
	ocistate_free(&st);
	req.container_id = (char *)id;
	if (agent_client_call_sync(a, "ListProcesses", &req.base,
	                           &husk__agent__v1__list_processes_response__descriptor,
	                           (int)cfg->timeouts.agent_call_ms, &resp, err) < 0 ||
	    check_response((void *)resp, err) < 0)
		goto out;
	r = json ? print_json((void *)resp, err) : (print_table((void *)resp), 0);
	if (r == 0 && fflush(stdout) != 0)
		r = husk_error_set(err, errno, "stdout");
out:
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	agent_client_free(a);
	husk_loop_free(loop);
	return r;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: husk ps [--format table|json] [--config FILE] ID\n");
}

int cmd_ps(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *format = "table", *config = NULL;
	struct husk_config cfg = {0};
	int c, status = 1;

	while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		default:
			return verb_usage(c, usage);
		}
	}
	if (optind != argc - 1)
		return verb_usage('?', usage);
	const char *id = argv[optind];
	if (strcmp(format, "table") && strcmp(format, "json"))
		husk_error_set(err, 0, "--format %s: must be table or json", format);
	else if (config_load(config, &cfg, err) == 0 &&
	         list_processes(g, id, !strcmp(format, "json"), &cfg, err) == 0)
		status = 0;
	config_free(&cfg);
	if (*err)
		husk_error_prefix(err, "ps %s", id);
	return status;
}
