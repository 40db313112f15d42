/* A host process's figures, alone or with what it forked (children, grandchildren, a cap). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/lib/procfig.h"
#include "tests/unit/harness/test.h"

#define HELD (8 << 20)

/*
 * A child that touches HELD bytes, forks a grandchild when asked, says so on ready, then waits
 * for EOF on hold[0] (the parent closing hold[1]).
 */
static pid_t spawn(const int hold[2], int ready, bool grandchild)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int fd = hold[0];
	close(hold[1]);
	char *held = malloc(HELD), c;
	if (held)
		memset(held, 1, HELD);
	if (grandchild && fork() == 0) {
		if (write(ready, "g", 1) != 1 || read(fd, &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	if (write(ready, "c", 1) != 1 || read(fd, &c, 1) < 0)
		_exit(1);
	while (wait(NULL) > 0)
		;
	_exit(0);
}

TEST(a_tree_counts_the_children_and_their_children_and_their_memory)
{
	int hold[2], ready[2];
	char c[2];
	CHECK(pipe(hold) == 0 && pipe(ready) == 0);
	pid_t child = spawn(hold, ready[1], true);
	CHECK(child > 0);
	CHECK(read(ready[0], &c[0], 1) == 1 && read(ready[0], &c[1], 1) == 1);
	struct proc_figures self, tree;
	procfig_read(getpid(), false, &self);
	procfig_read(getpid(), true, &tree);
	close(hold[1]);
	CHECK(waitpid(child, NULL, 0) == child);
	CHECK_INT(self.procs, ==, 1);
	CHECK_INT(tree.procs, ==, 3);
	CHECK_INT(self.pss, >, 0);
	CHECK_INT(tree.rss, >=, self.rss + HELD);
	CHECK_INT(tree.pss, >, self.pss);
	CHECK_INT(tree.cpu_ns, >=, self.cpu_ns);
	close(hold[0]);
	close(ready[0]);
	close(ready[1]);
}

TEST(a_process_gone_counts_nothing)
{
	pid_t child = fork();
	CHECK(child >= 0);
	if (child == 0)
		_exit(0);
	CHECK(waitpid(child, NULL, 0) == child);
	struct proc_figures f;
	procfig_read(child, true, &f);
	CHECK_INT(f.procs, ==, 0);
	CHECK_INT(f.pss + f.rss + f.cpu_ns + f.rchar + f.wchar, ==, 0);
}

TEST(a_tree_past_the_cap_counts_the_cap)
{
	enum { N = PROCFIG_TREE_MAX + 6 };
	int hold[2], ready[2];
	pid_t kids[N];
	char c;
	CHECK(pipe(hold) == 0 && pipe(ready) == 0);
	for (int i = 0; i < N; i++) {
		kids[i] = spawn(hold, ready[1], false);
		CHECK(kids[i] > 0 && read(ready[0], &c, 1) == 1);
	}
	struct proc_figures f;
	procfig_read(getpid(), true, &f);
	close(hold[1]);
	for (int i = 0; i < N; i++)
		waitpid(kids[i], NULL, 0);
	CHECK_INT(f.procs, ==, PROCFIG_TREE_MAX);
	close(hold[0]);
	close(ready[0]);
	close(ready[1]);
}
