/* shim/lib/ocistate.c and control.c: state files, liveness, control request decoding. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/lib/control.h"
#include "shim/lib/ocistate.h"
#include "tests/unit/harness/test.h"

TEST(ocistate_round_trips_and_tracks_the_owner)
{
	char tmpl[] = "/tmp/husk-ocistate.XXXXXX", dir[512];
	char *root = mkdtemp(tmpl);
	CHECK(root != NULL);
	struct oci_state s, r;
	husk_err err = NULL;

	snprintf(dir, sizeof(dir), "%s/c1", root);
	CHECK_INT(mkdir(dir, 0700), ==, 0);
	json_object *annotations = json_tokener_parse("{\"org.x\":\"hook stdin\"}");
	CHECK_INT(ocistate_init(&s, "c1", "/b/\"x", "/b/rootfs", annotations, &err), ==, 0);
	json_object_put(annotations);
	s.status = OCI_RUNNING;
	CHECK_INT(ocistate_write(dir, &s, &err), ==, 0);
	CHECK_INT(ocistate_read(root, "c1", &r, &err), ==, 0);
	CHECK_STR(r.bundle, "/b/\"x");
	CHECK_STR(r.created, s.created);
	CHECK_INT(r.pid, ==, getpid());
	CHECK_INT(ocistate_live_status(&r), ==, OCI_RUNNING);
	/* the annotations come back, and `state` and the hooks' stdin carry them */
	CHECK_STR(json_object_get_string(json_object_object_get(r.annotations, "org.x")),
	          "hook stdin");
	char *hook = ocistate_json(&r, OCI_CREATED);
	CHECK(hook != NULL);
	CHECK(strstr(hook, "\"status\":\"created\"") != NULL);
	CHECK(strstr(hook, "\"annotations\":{\"org.x\":\"hook stdin\"}") != NULL);
	CHECK(strstr(hook, "husk") == NULL);
	free(hook);
	hook = ocistate_json(&r, OCI_STOPPED);
	CHECK(strstr(hook, "\"pid\":0,") != NULL);
	free(hook);
	ocistate_free(&r);

	/* the paused marker turns running into paused, and only running */
	CHECK_INT(ocistate_set_paused(root, "c1", true, &err), ==, 0);
	CHECK_INT(ocistate_read(root, "c1", &r, &err), ==, 0);
	CHECK_INT(ocistate_live_status(&r), ==, OCI_PAUSED);
	ocistate_free(&r);
	s.status = OCI_STOPPED;
	CHECK_INT(ocistate_write(dir, &s, &err), ==, 0);
	CHECK_INT(ocistate_read(root, "c1", &r, &err), ==, 0);
	CHECK_INT(ocistate_live_status(&r), ==, OCI_STOPPED);
	ocistate_free(&r);
	s.status = OCI_RUNNING;
	CHECK_INT(ocistate_set_paused(root, "c1", false, &err), ==, 0);
	CHECK_INT(ocistate_set_paused(root, "c1", false, &err), ==, 0);

	/* a recorded owner that is some other process now (same pid, other start time) */
	s.pid_start++;
	CHECK_INT(ocistate_write(dir, &s, &err), ==, 0);
	CHECK_INT(ocistate_read(root, "c1", &r, &err), ==, 0);
	CHECK_INT(ocistate_live_status(&r), ==, OCI_STOPPED);
	ocistate_free(&r);

	/* a paused container whose owner died is stopped */
	CHECK_INT(ocistate_set_paused(root, "c1", true, &err), ==, 0);
	CHECK_INT(ocistate_read(root, "c1", &r, &err), ==, 0);
	CHECK_INT(ocistate_live_status(&r), ==, OCI_STOPPED);
	ocistate_free(&r);
	ocistate_free(&s);

	CHECK_INT(ocistate_read(root, "nosuch", &r, &err), ==, -1);
	CHECK_INT(err->code, ==, ENOENT);
	CHECK_STR(husk_error_msg(err), "container nosuch does not exist");
	husk_error_free(&err);

	CHECK_INT(ocistate_read(root, "../c1", &r, &err), ==, -1);
	husk_error_free(&err);

	FILE *f = fopen(strcat(dir, "/state.json"), "w");
	fputs("{\"status\": 3}", f);
	fclose(f);
	CHECK_INT(ocistate_read(root, "c1", &r, &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "malformed") != NULL);
	husk_error_free(&err);

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK_INT(system(cmd), ==, 0);
}

TEST(ocistate_dead_pid_is_stopped)
{
	struct oci_state s = {.status = OCI_CREATED};
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	proc_start_time(pid, &s.pid_start); /* may already be gone */
	waitpid(pid, NULL, 0);
	s.pid = pid;
	CHECK_INT(ocistate_live_status(&s), ==, OCI_STOPPED);
}

TEST(control_parse_accepts_requests_and_rejects_garbage)
{
	struct control_request req;
	husk_err err = NULL;
	const char *ok = "{\"op\":\"kill\",\"signal\":9,\"all\":true}";
	CHECK_INT(control_parse(ok, strlen(ok), &req, &err), ==, 0);
	CHECK_STR(req.op, "kill");
	CHECK_INT(req.signal, ==, 9);
	CHECK(req.all);

	const char *bad[] = {"",
	                     "[]",
	                     "{\"op\":1}",
	                     "{\"op\":\"aaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	                     "{\"op\":[[[[[[[[[[]]]]]]]]]]}",
	                     "{\"op\":\"start\""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(control_parse(bad[i], strlen(bad[i]), &req, &err), ==, -1);
		husk_error_free(&err);
	}
}

TEST(control_reply_encodes_errors_as_one_json_line)
{
	char buf[256];
	husk_err err = NULL;
	CHECK_INT((int)control_reply(NULL, buf, sizeof(buf)), ==, (int)strlen("{\"ok\":true}\n"));
	CHECK_STR(buf, "{\"ok\":true}\n");
	husk_error_set(&err, 0, "line\nbreak \"quoted\"");
	control_reply(err, buf, sizeof(buf));
	CHECK_STR(buf, "{\"ok\":false,\"error\":\"line\\nbreak \\\"quoted\\\"\"}\n");
	husk_error_free(&err);
}

/* An owner that exited but is not reaped yet (a zombie keeps its pid and start time) is gone. */
TEST(ocistate_unreaped_owner_is_stopped)
{
	int pipefd[2];
	CHECK_INT(pipe(pipefd), ==, 0);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(pipefd[1]);
		(void)!read(pipefd[0], &c, 1);
		_exit(0);
	}
	close(pipefd[0]);
	struct oci_state s = {.status = OCI_CREATED, .pid = pid};
	CHECK_INT(proc_start_time(pid, &s.pid_start), ==, 0);
	CHECK_INT(ocistate_live_status(&s), ==, OCI_CREATED);
	close(pipefd[1]); /* it exits; waitid with WNOWAIT waits for that and leaves the zombie */
	siginfo_t info;
	CHECK_INT(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), ==, 0);
	CHECK_INT(ocistate_live_status(&s), ==, OCI_STOPPED);
	waitpid(pid, NULL, 0);
}
