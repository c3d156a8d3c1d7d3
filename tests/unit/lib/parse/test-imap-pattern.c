/* test-imap-pattern.c: the IMAP LIST pattern matcher (lib/parse/
 * imap-pattern.h): "*" and "%" by RFC 3501 6.3.8, the delimiter rule of
 * "%", embedded NUL and lengths, and agreement with a naive backtracking
 * reference on many random pattern/name pairs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "imap-pattern.h"

static int match(const char *pat, const char *name)
{
	const char *err = NULL;
	int r = imap_pattern_match(pat, strlen(pat), name, strlen(name), '/', &err);
	assert_true(r == 0 || r == 1);
	assert_null(err);
	return r;
}

/* The exponential matcher the session used before, as the reference. */
static int ref_match(const char *pat, size_t pl, const char *name, size_t nl, char sep)
{
	if (pl == 0)
		return nl == 0;
	if (pat[0] == '*' || pat[0] == '%') {
		for (size_t k = 0;; k++) {
			if (ref_match(pat + 1, pl - 1, name + k, nl - k, sep))
				return 1;
			if (k == nl || (pat[0] == '%' && name[k] == sep))
				return 0;
		}
	}
	return nl > 0 && pat[0] == name[0] && ref_match(pat + 1, pl - 1, name + 1, nl - 1, sep);
}

static void test_literals(void **state)
{
	(void)state;
	assert_int_equal(match("INBOX", "INBOX"), 1);
	assert_int_equal(match("INBOX", "INBOXX"), 0);
	assert_int_equal(match("INBOX", "INBO"), 0);
	assert_int_equal(match("inbox", "INBOX"), 0); /* case is the caller's rule */
	assert_int_equal(match("", ""), 1);
	assert_int_equal(match("", "a"), 0);
	assert_int_equal(match("a", ""), 0);
}

static void test_star(void **state)
{
	(void)state;
	assert_int_equal(match("*", ""), 1);
	assert_int_equal(match("*", "Work/2026/Q1"), 1);
	assert_int_equal(match("Work*", "Work/2026"), 1);
	assert_int_equal(match("Work*", "Wor"), 0);
	assert_int_equal(match("*26", "Work/2026"), 1);
	assert_int_equal(match("*/*", "Work"), 0);
	assert_int_equal(match("**", "a/b"), 1);
	assert_int_equal(match("a*b*c", "a/xbyc"), 1);
	assert_int_equal(match("a*b*c", "a/xbyd"), 0);
}

static void test_percent_stops_at_delimiter(void **state)
{
	(void)state;
	assert_int_equal(match("%", "Work"), 1);
	assert_int_equal(match("%", "Work/2026"), 0);
	assert_int_equal(match("%", ""), 1);
	assert_int_equal(match("Work/%", "Work/2026"), 1);
	assert_int_equal(match("Work/%", "Work/2026/Q1"), 0);
	assert_int_equal(match("%/%", "Work/2026"), 1);
	assert_int_equal(match("%/%", "Work"), 0);
	assert_int_equal(match("%*", "Work/2026/Q1"), 1);
	assert_int_equal(match("%%", "a/b"), 0);
	/* another delimiter: "/" is then a plain byte */
	const char *err = NULL;
	assert_int_equal(imap_pattern_match("%", 1, "a/b", 3, '.', &err), 1);
	assert_int_equal(imap_pattern_match("%", 1, "a.b", 3, '.', &err), 0);
}

static void test_lengths_and_nul(void **state)
{
	(void)state;
	const char *err = NULL;
	/* lengths count, not terminators */
	assert_int_equal(imap_pattern_match("a*", 1, "ab", 1, '/', &err), 1);
	assert_int_equal(imap_pattern_match("a\0b", 3, "a\0b", 3, '/', &err), 1);
	assert_int_equal(imap_pattern_match("a\0b", 3, "a\0c", 3, '/', &err), 0);
	assert_int_equal(imap_pattern_match("%", 1, "a\0b", 3, '/', &err), 1);
}

/* The pattern that took the old matcher seconds, and patterns longer than
 * the stack buffer (the heap path). */
static void test_adversarial(void **state)
{
	(void)state;
	char name[201];
	memset(name, 'a', 200);
	name[200] = '\0';
	assert_int_equal(match("*a*a*a*a*a*ab", name), 0);
	assert_int_equal(match("%a%a%a%a%a%ab", name), 0);
	name[199] = 'b';
	assert_int_equal(match("*a*a*a*a*a*ab", name), 1);
	char pat[2001];
	for (size_t i = 0; i < 2000; i++)
		pat[i] = i % 2 ? 'a' : '*';
	pat[2000] = '\0';
	assert_int_equal(match(pat, name), 0); /* 1000 a's wanted, 199 there */
	memset(pat, '*', 2000);
	assert_int_equal(match(pat, name), 1);
}

static uint32_t next_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static void test_random_against_reference(void **state)
{
	(void)state;
	static const char pat_alpha[] = "ab/*%";
	static const char name_alpha[] = "ab/";
	uint32_t seed = 18;
	unsigned matches = 0;
	for (int n = 0; n < 200000; n++) {
		char pat[10], name[12];
		size_t pl = next_rand(&seed) % sizeof(pat);
		size_t nl = next_rand(&seed) % sizeof(name);
		for (size_t i = 0; i < pl; i++)
			pat[i] = pat_alpha[next_rand(&seed) % 5];
		for (size_t i = 0; i < nl; i++)
			name[i] = name_alpha[next_rand(&seed) % 3];
		const char *err = NULL;
		int got = imap_pattern_match(pat, pl, name, nl, '/', &err);
		int want = ref_match(pat, pl, name, nl, '/');
		if (got != want)
			fail_msg("pattern %.*s name %.*s: got %d want %d", (int)pl, pat, (int)nl,
			         name, got, want);
		matches += (unsigned)got;
	}
	/* both outcomes were exercised, not just "no match" */
	assert_true(matches > 1000);
	assert_true(matches < 199000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_literals),
	    cmocka_unit_test(test_star),
	    cmocka_unit_test(test_percent_stops_at_delimiter),
	    cmocka_unit_test(test_lengths_and_nul),
	    cmocka_unit_test(test_adversarial),
	    cmocka_unit_test(test_random_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
