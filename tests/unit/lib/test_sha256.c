#include "tests/unit/harness/test.h"

#include <string.h>

#include "lib/sha256.h"

static void check_digest(const char *input, size_t len, const char *want)
{
	char hex[2 * SHA256_LEN + 1];
	sha256_hex(input, len, hex);
	CHECK_STR(hex, want);
}

TEST(sha256_known_answers)
{
	check_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* two blocks: the padding spills into a second one */
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	check_digest(m, strlen(m),
	             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(sha256_incremental_equals_one_shot)
{
	char buf[1000];
	uint8_t a[SHA256_LEN], b[SHA256_LEN];
	struct sha256 s;
	memset(buf, 'a', sizeof(buf));
	sha256_init(&s);
	for (size_t i = 0; i < sizeof(buf); i += 7)
		sha256_update(&s, buf + i, sizeof(buf) - i < 7 ? sizeof(buf) - i : 7);
	sha256_final(&s, a);
	sha256_init(&s);
	sha256_update(&s, buf, sizeof(buf));
	sha256_final(&s, b);
	CHECK(memcmp(a, b, SHA256_LEN) == 0);
}
