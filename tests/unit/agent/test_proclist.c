#include "tests/unit/harness/test.h"

#include <stdlib.h>
#include <string.h>

#include "agent/proclist.h"

TEST(proclist_stat_fields_after_the_last_paren)
{
	char state = 0;
	uint32_t ppid = 0;
	CHECK_INT(proclist_parse_stat("42 (sleep) S 7 42 42 0 -1", &state, &ppid), ==, 0);
	CHECK_INT(state, ==, 'S');
	CHECK_INT(ppid, ==, 7);
	/* a comm that fakes fields cannot shift them */
	CHECK_INT(proclist_parse_stat("9 (a) R 1 (b) Z 3 4", &state, &ppid), ==, 0);
	CHECK_INT(state, ==, 'Z');
	CHECK_INT(ppid, ==, 3);
	CHECK_INT(proclist_parse_stat("9 no paren S 1", &state, &ppid), ==, -1);
	CHECK_INT(proclist_parse_stat("9 (x)", &state, &ppid), ==, -1);
	CHECK_INT(proclist_parse_stat("9 (x) S 99999999999", &state, &ppid), ==, -1);
}

TEST(proclist_uid_is_the_real_one)
{
	uint32_t uid = 5;
	CHECK_INT(proclist_parse_uid("Name:\tsh\nUid:\t1000\t0\t0\t0\nGid:\t1\n", &uid), ==, 0);
	CHECK_INT(uid, ==, 1000);
	CHECK_INT(proclist_parse_uid("Uid:\t3\t3\t3\t3\n", &uid), ==, 0);
	CHECK_INT(uid, ==, 3);
	CHECK_INT(proclist_parse_uid("Name:\tUid:\nGid:\t1\n", &uid), ==, -1);
	CHECK_INT(proclist_parse_uid("", &uid), ==, -1);
}

TEST(proclist_argv_joined_by_spaces)
{
	char buf[32];
	memcpy(buf,
	       "sleep\0"
	       "1000\0",
	       11);
	CHECK_INT(proclist_join_argv(buf, 11), ==, 10);
	CHECK_STR(buf, "sleep 1000");
	memcpy(buf, "\0\0", 2);
	CHECK_INT(proclist_join_argv(buf, 2), ==, 0);
	CHECK_STR(buf, "");
}
