/* fuzz-imap-pattern.c: libFuzzer target for the IMAP LIST pattern matcher.
 * Input: sep byte, then pattern and name split at the first NUL after it.
 * Checks invariants, not just crashes: the answer is 0 or 1, a pattern
 * of the name itself (no wildcards in it) matches, "*" matches anything,
 * and appending "*" to a matching pattern keeps it matching. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap-pattern.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char sep = (char)data[0];
	const char *p = (const char *)data + 1;
	size_t len = size - 1;
	const char *nul = memchr(p, '\0', len);
	size_t pl = nul != NULL ? (size_t)(nul - p) : len;
	const char *name = nul != NULL ? nul + 1 : p;
	size_t nl = nul != NULL ? len - pl - 1 : len;
	const char *err = NULL;
	int r = imap_pattern_match(p, pl, name, nl, sep, &err);
	check(r == 0 || r == 1);
	check(imap_pattern_match("*", 1, name, nl, sep, &err) == 1);
	if (memchr(name, '*', nl) == NULL && memchr(name, '%', nl) == NULL)
		check(imap_pattern_match(name, nl, name, nl, sep, &err) == 1);
	if (r == 1) {
		char *star = malloc(pl + 1);
		if (star == NULL)
			return 0;
		memcpy(star, p, pl);
		star[pl] = '*';
		check(imap_pattern_match(star, pl + 1, name, nl, sep, &err) == 1);
		free(star);
	}
	return 0;
}
