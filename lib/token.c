#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cleanup.h"

int token_generate(struct token *t, husk_err *err)
{
	unsigned char raw[TOKEN_BYTES];
	static const char digits[] = "0123456789abcdef";
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return husk_error_set(err, errno, "getrandom");
	for (size_t i = 0; i < TOKEN_BYTES; i++) {
		t->hex[2 * i] = digits[raw[i] >> 4];
		t->hex[2 * i + 1] = digits[raw[i] & 15];
	}
	t->hex[TOKEN_HEX_LEN] = '\0';
	return 0;
}

int token_parse(const char *text, size_t len, struct token *t)
{
	if (len == TOKEN_HEX_LEN + 1 && text[TOKEN_HEX_LEN] == '\n')
		len--;
	if (len != TOKEN_HEX_LEN)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
			return -1;
	memcpy(t->hex, text, len);
	t->hex[len] = '\0';
	return 0;
}

int token_read_at(int dirfd, const char *name, struct token *t, husk_err *err)
{
	char buf[TOKEN_HEX_LEN + 2];
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
	if (n < 0)
		return husk_error_set(err, errno, "token %s", name);
	if (token_parse(buf, (size_t)n, t) < 0)
		return husk_error_set(err, EINVAL, "token %s: not %d hex digits", name,
		                      TOKEN_HEX_LEN);
	return 0;
}

int token_write_at(int dirfd, const char *name, const struct token *t, husk_err *err)
{
	cleanup_close int fd =
	    openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, t->hex, TOKEN_HEX_LEN) != TOKEN_HEX_LEN)
		return husk_error_set(err, errno, "token %s", name);
	return 0;
}

void token_preamble(const struct token *t, char out[TOKEN_PREAMBLE_LEN])
{
	size_t p = sizeof(TOKEN_PREFIX) - 1;
	memcpy(out, TOKEN_PREFIX, p);
	memcpy(out + p, t->hex, TOKEN_HEX_LEN);
	out[TOKEN_PREAMBLE_LEN - 1] = '\n';
}

bool token_preamble_matches(const struct token *t, const char *buf)
{
	char want[TOKEN_PREAMBLE_LEN];
	unsigned char diff = 0;
	token_preamble(t, want);
	for (size_t i = 0; i < TOKEN_PREAMBLE_LEN; i++)
		diff |= (unsigned char)(want[i] ^ buf[i]);
	return diff == 0;
}
