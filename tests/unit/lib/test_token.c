/* The agent token (lib/token.h): made, written, read back, and its preamble checked. */
#include "tests/unit/harness/test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/token.h"

TEST(a_token_is_64_hex_digits_and_differs_each_time)
{
	struct token a, b, parsed;
	CHECK_INT(token_generate(&a, NULL), ==, 0);
	CHECK_INT(token_generate(&b, NULL), ==, 0);
	CHECK_INT(strlen(a.hex), ==, TOKEN_HEX_LEN);
	CHECK(strcmp(a.hex, b.hex) != 0);
	CHECK_INT(token_parse(a.hex, TOKEN_HEX_LEN, &parsed), ==, 0);
	CHECK(!strcmp(parsed.hex, a.hex));
}

TEST(parse_refuses_anything_but_the_hex_digits)
{
	struct token t;
	char text[TOKEN_HEX_LEN + 2];
	memset(text, 'a', sizeof(text));
	text[TOKEN_HEX_LEN] = '\n';
	CHECK_INT(token_parse(text, TOKEN_HEX_LEN + 1, &t), ==, 0);
	CHECK_INT(token_parse(text, TOKEN_HEX_LEN - 1, &t), ==, -1);
	CHECK_INT(token_parse(text, TOKEN_HEX_LEN + 2, &t), ==, -1);
	text[3] = 'A';
	CHECK_INT(token_parse(text, TOKEN_HEX_LEN, &t), ==, -1);
	text[3] = ' ';
	CHECK_INT(token_parse(text, TOKEN_HEX_LEN, &t), ==, -1);
}

TEST(written_and_read_back_through_a_directory_fd)
{
	char dir[] = "/tmp/husk-token-XXXXXX";
	CHECK(mkdtemp(dir));
	cleanup_close int fd = open(dir, O_PATH | O_DIRECTORY);
	struct token t, back;
	husk_err err = NULL;
	CHECK_INT(token_generate(&t, NULL), ==, 0);
	CHECK_INT(token_write_at(fd, "tok", &t, &err), ==, 0);
	CHECK_INT(token_write_at(fd, "tok", &t, &err), ==, -1); /* never over another */
	husk_error_free(&err);
	CHECK_INT(token_read_at(fd, "tok", &back, &err), ==, 0);
	CHECK(!strcmp(back.hex, t.hex));
	CHECK_INT(token_read_at(fd, "absent", &back, &err), ==, -1);
	CHECK_STR(husk_error_msg(err), "token absent: No such file or directory");
	husk_error_free(&err);
	unlinkat(fd, "tok", 0);
	rmdir(dir);
}

TEST(the_preamble_matches_only_its_token)
{
	struct token t, other;
	char p[TOKEN_PREAMBLE_LEN];
	CHECK_INT(token_generate(&t, NULL), ==, 0);
	CHECK_INT(token_generate(&other, NULL), ==, 0);
	token_preamble(&t, p);
	CHECK(!memcmp(p, "HUSK-TOKEN ", 11));
	CHECK_INT(p[TOKEN_PREAMBLE_LEN - 1], ==, '\n');
	CHECK(token_preamble_matches(&t, p));
	CHECK(!token_preamble_matches(&other, p));
	p[20] ^= 1;
	CHECK(!token_preamble_matches(&t, p));
}
