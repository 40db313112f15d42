#include "pattern.h"

#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "pattern words are stored little-endian by memcpy"
#endif

static uint64_t word_at(uint64_t seed, uint64_t index)
{
	uint64_t z = seed * 0x9e3779b97f4a7c15ULL + index + 1;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void pattern_fill(uint64_t seed, uint64_t offset, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		uint64_t w = word_at(seed, offset / 8);

		if (offset % 8 == 0 && len >= 8) {
			memcpy(p, &w, 8);
			p += 8;
			offset += 8;
			len -= 8;
			continue;
		}
		unsigned skip = offset % 8;
		size_t n = 8 - skip < len ? 8 - skip : len;
		unsigned char bytes[8];

		for (unsigned i = 0; i < 8; i++)
			bytes[i] = (unsigned char)(w >> (8 * i));
		memcpy(p, bytes + skip, n);
		p += n;
		offset += n;
		len -= n;
	}
}

size_t pattern_check(uint64_t seed, uint64_t offset, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	unsigned char expect[4096];
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < sizeof(expect) ? len - done : sizeof(expect);

		pattern_fill(seed, offset + done, expect, n);
		if (memcmp(expect, p + done, n) != 0) {
			for (size_t i = 0; i < n; i++)
				if (expect[i] != p[done + i])
					return done + i;
		}
		done += n;
	}
	return len;
}

uint64_t fnv_update(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
