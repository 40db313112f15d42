/* Boot admission: n slots of a directory, held by flock, a wait bounded and served by the loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "shim/lib/bootslot.h"
#include "tests/unit/harness/test.h"

TEST(a_boot_waits_while_every_slot_is_held_and_gets_one_freed)
{
	char dir[] = "/tmp/husk-test-bootslot-XXXXXX";
	cleanup_error husk_err err = NULL;
	unsigned waited;
	struct husk_loop *loop = husk_loop_new(NULL);
	CHECK(loop && mkdtemp(dir));
	int a = boot_slot_take(loop, dir, 2, 100, &waited, &err);
	int b = boot_slot_take(loop, dir, 2, 100, &waited, &err);
	CHECK(a >= 0 && b >= 0);
	CHECK_INT(waited, <, 100);
	CHECK_INT(boot_slot_take(loop, dir, 2, 100, &waited, &err), ==, -1);
	CHECK_INT(waited, >=, 100);
	CHECK_STR(husk_error_msg(err), "no boot slot free within 100 ms (2 boots at once at most: "
	                               "\"boot_concurrency\"): Connection timed out");
	husk_error_free(&err);
	/* a slot whose holder is gone (its fd closed, as at its death) is free again */
	close(a);
	int c = boot_slot_take(loop, dir, 2, 100, &waited, &err);
	CHECK(c >= 0);
	close(b);
	close(c);
	char cmd[100];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), ==, 0);
	husk_loop_free(loop);
}

TEST(the_default_is_one_slot_per_online_cpu)
{
	CHECK_INT(boot_slots_default(), ==, (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
}

TEST(cid_slots_count_up_from_the_first_and_free_with_their_holder)
{
	char dir[] = "/tmp/husk-test-cidslot-XXXXXX";
	cleanup_error husk_err err = NULL;
	unsigned a_cid = 0, b_cid = 0, c_cid = 0;
	CHECK(mkdtemp(dir));
	int a = slot_try(dir, 3, 2, &a_cid, &err);
	int b = slot_try(dir, 3, 2, &b_cid, &err);
	CHECK(a >= 0 && b >= 0);
	CHECK_INT(a_cid, ==, 3);
	CHECK_INT(b_cid, ==, 4);
	CHECK_INT(slot_try(dir, 3, 2, &c_cid, &err), ==, -1); /* all held: no error, none */
	CHECK(!err);
	close(a);
	int c = slot_try(dir, 3, 2, &c_cid, &err);
	CHECK(c >= 0);
	CHECK_INT(c_cid, ==, 3);
	close(b);
	close(c);
	char cmd[100];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), ==, 0);
}
