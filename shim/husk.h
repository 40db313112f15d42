/* The husk CLI: one file per verb (shim/<verb>.c), dispatched from shim/main.c. */
#ifndef HUSK_CLI_H
#define HUSK_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "shim/lib/config.h"
#include "lib/error.h"
#include "oci/hooks.h"
#include "shim/lib/bundle.h"
#include "shim/lib/hostcg.h"
#include "shim/lib/resources.h"

#define HUSK_VERSION      "0.1.0"
#define HUSK_OCI_VERSION  "1.1.0"
#define HUSK_DEFAULT_ROOT "/run/husk"

struct husk_globals {
	const char *root; /* --root, default HUSK_DEFAULT_ROOT */
	bool debug;
	bool systemd_cgroup; /* --systemd-cgroup: cgroupsPath is slice:prefix:name (refused) */
	int log_fd;          /* --log's fd, or -1 */
};

/*
 * A verb: argv[0] is the verb's name. Returns the process exit status; on
 * failure also sets *err, which main prints as the one "husk: ..." line.
 */
typedef int (*husk_command)(const struct husk_globals *g, int argc, char **argv, husk_err *err);
/*
 * A verb's usage for getopt_long's c: 'h' (--help) prints it on stdout and
 * returns 0, anything else on stderr and returns 2 (a usage error).
 */
int verb_usage(int c, void (*print_usage)(FILE *f));

int cmd_run(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_check(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_create(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_start(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_state(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_kill(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_delete(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_list(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_spec(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_features(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_exec(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_ps(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_pause(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_resume(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_update(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_events(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_debug_console(const struct husk_globals *g, int argc, char **argv, husk_err *err);
int cmd_metrics(const struct husk_globals *g, int argc, char **argv, husk_err *err);

/* runc exec's status when husk itself fails, so it is told apart from the process's own. */
#define EXEC_FAILED 255

struct agent_client;
struct husk_loop;

/* A process to run in a sandbox's guest: husk exec's, or husk debug-console's shell. */
struct exec_cmd {
	const struct husk_globals *g;
	const char *id;       /* as the caller named it */
	const char *agent_id; /* the container, as the agent names it */
	/* the connection to the agent that runs it, with the process's container ready */
	struct agent_client *(*attach)(struct husk_loop *loop, const struct exec_cmd *x,
	                               husk_err *err);
	char *console_socket; /* absolute (the holder works in /), or NULL */
	char *pid_file;       /* absolute, or NULL */
	char *process_json;
	bool terminal;
	struct husk_config cfg;
	char exec_id[48];
};

/*
 * Runs x (shim/exec.c): attach, write the pid file (this process: the
 * foreground relay or the detached holder), start the process, report
 * readiness on *report_fd (the holder's; -1 in the foreground) and set it to
 * -1, relay stdio (the caller's terminal in raw mode, resized on SIGWINCH and
 * restored, when x->terminal) and signals until the process is over. Returns
 * its status, or EXEC_FAILED with *err.
 */
int exec_main(const struct exec_cmd *x, int *report_fd, husk_err *err);
/* exec-<pid>-<random>: an exec id of this process. */
void exec_make_id(char *buf, size_t size);

/* The options husk create and husk run share. */
struct create_flags {
	const char *bundle, *pid_file, *console_socket, *config;
};
/* Takes getopt_long's c into *f when it is one of those options; false if not. */
bool create_flag(int c, struct create_flags *f);

/*
 * What husk create and husk run hand the sandbox owner (shim/owner.c); filled
 * from the command line and the bundle by owner_args_load.
 */
struct owner_args {
	const char *root, *id;
	char *bundle, *rootfs; /* absolute */
	char *pid_file;        /* absolute, or NULL */
	struct bundle spec;
	struct hooks hooks;
	struct husk_config cfg;
	/* the host cgroup (linux.cgroupsPath) planned, and its limits (pointing into res) */
	struct hostcg cg;
	struct resource_limits res;
	struct hostcg_limits cg_limits;
	bool start;      /* run: start the container as soon as it is created */
	bool foreground; /* run without --detach: the state goes when the container exits */
	bool keep;       /* run --keep: ... unless this is set */
	/*
	 * the guest's console lines go to the log: with --log or --debug only, so a plain
	 * run's stderr keeps runc's one line on failure
	 */
	bool guest_log;
	/*
	 * process.terminal: where the pty master goes (absolute), or NULL for
	 * a foreground run on the caller's own terminal
	 */
	char *console_socket;
};
int owner_args_load(struct owner_args *a, const struct husk_globals *g, const char *id,
                    const struct create_flags *f, husk_err *err);
/*
 * Checks --console-socket against process.terminal as runc does (a detached
 * terminal needs a socket; a socket needs a detached terminal) and keeps it.
 */
int owner_args_console(struct owner_args *a, const char *console, bool detach, husk_err *err);
void owner_args_free(struct owner_args *a);
/*
 * husk create (and run --detach): forks the owner into its own session with
 * our stdio and returns once it reported the container created (or started).
 */
int owner_fork(const struct husk_globals *g, const struct owner_args *a, husk_err *err);
/*
 * The owner itself: creates the container (and starts it if a->start), writes
 * a->pid_file, reports "ok" or the error on ready_fd (-1: none; then closed),
 * serves the control socket until the container exits and returns its status.
 * A failure is returned in *err unless it went to ready_fd.
 */
int owner_run(const struct owner_args *a, int ready_fd, husk_err *err);

#endif
