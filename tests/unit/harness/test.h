/*
 * Minimal unit-test harness. Each tests/unit/<module>/test_*.c file defines TEST()s;
 * harness.c supplies main(), which runs them all and prints a summary line
 * "NAME: N passed, N failed" that CI reads.
 */
#ifndef HUSK_TEST_H
#define HUSK_TEST_H

#include <stdint.h>
#include <string.h>

void test_register(const char *name, void (*fn)(void));
void test_fail(const char *file, int line, const char *what);

#define TEST(name)                                                                                 \
	static void name(void);                                                                    \
	__attribute__((constructor)) static void register_##name(void)                             \
	{                                                                                          \
		test_register(#name, name);                                                        \
	}                                                                                          \
	static void name(void)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			test_fail(__FILE__, __LINE__, #cond);                                      \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define CHECK_INT(a, op, b)                                                                        \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (!(a_ op b_)) {                                                                 \
			char what_[256];                                                           \
			snprintf(what_, sizeof(what_), "%s %s %s (%lld vs %lld)", #a, #op, #b, a_, \
			         b_);                                                              \
			test_fail(__FILE__, __LINE__, what_);                                      \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                           \
			char what_[512];                                                           \
			snprintf(what_, sizeof(what_), "%s == %s (\"%s\" vs \"%s\")", #a, #b,      \
			         a_ ? a_ : "(null)", b_ ? b_ : "(null)");                          \
			test_fail(__FILE__, __LINE__, what_);                                      \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#include <stdio.h>

#endif
