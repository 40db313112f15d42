#include "cgstat.h"

#include <ctype.h>
#include <string.h>

/* Digits at s, saturating; 0 when there are none. */
static uint64_t number(const char *s)
{
	uint64_t v = 0;
	for (; isdigit((unsigned char)*s); s++)
		v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : v * 10 + (uint64_t)(*s - '0');
	return v;
}

uint64_t cgstat_keyed(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *line = text; *line;) {
		if (strncmp(line, key, n) == 0 && line[n] == ' ')
			return number(line + n + 1);
		const char *nl = strchr(line, '\n');
		if (!nl)
			break;
		line = nl + 1;
	}
	return 0;
}

uint64_t cgstat_io_sum(const char *text, const char *key)
{
	uint64_t sum = 0;
	size_t n = strlen(key);
	for (const char *p = text; (p = strstr(p, key)); p += n) {
		if ((p == text || p[-1] == ' ') && p[n] == '=') {
			uint64_t v = number(p + n + 1);
			sum = sum > UINT64_MAX - v ? UINT64_MAX : sum + v;
		}
	}
	return sum;
}

uint64_t cgstat_single(const char *text)
{
	return number(text);
}
