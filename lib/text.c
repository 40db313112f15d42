/* Escaping of untrusted text: see text.h. */
#include "text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at s (at most n bytes) of a code point >= U+00A0, or 0.
 */
static size_t utf8_printable(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, C1 controls, surrogates, beyond Unicode */
	static const uint32_t min[5] = {0, 0, 0xa0, 0x800, 0x10000};
	if (cp < min[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

char *text_escape(char *out, size_t cap, const char *in, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, i = 0, safe = 0;
	if (!cap)
		return out;
	while (i < len) {
		char esc[8];
		const char *piece = (const char *)s + i;
		size_t step = s[i] >= 0x80 ? utf8_printable(s + i, len - i) : 0, n = step;
		if (!step) {
			step = 1;
			n = 1;
			if (s[i] == '\\') {
				piece = "\\\\";
				n = 2;
			} else if (s[i] < 0x20 || s[i] >= 0x7f) {
				piece = esc;
				n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
			}
		}
		if (o + n + 1 > cap) {
			/* cut after the last whole piece that leaves room for "..." */
			o = safe;
			if (o + 4 <= cap) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, piece, n);
		o += n;
		i += step;
		if (o + 4 <= cap)
			safe = o;
	}
	out[o] = '\0';
	return out;
}

char *text_escape_dup(const char *in)
{
	size_t len = strlen(in);
	size_t cap = len > (TEXT_ESCAPE_MAX - 1) / 4 ? TEXT_ESCAPE_MAX : len * 4 + 1;
	char *out = malloc(cap);
	return out ? text_escape(out, cap, in, len) : NULL;
}

uint64_t text_field_u64(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *line = text; *line;) {
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			const char *d = line + n + 1;
			uint64_t v = 0;
			while (*d == ' ' || *d == '\t')
				d++;
			for (; *d >= '0' && *d <= '9'; d++)
				v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX
				                              : v * 10 + (uint64_t)(*d - '0');
			return v;
		}
		const char *nl = strchr(line, '\n');
		if (!nl)
			break;
		line = nl + 1;
	}
	return 0;
}
