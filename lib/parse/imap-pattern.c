/* imap-pattern.c: IMAP LIST pattern matching (imap-pattern.h) as a
 * simulation of the pattern's automaton: the set of pattern positions
 * reachable after each name byte, updated in one pass over the name. The
 * old recursive matcher backtracked and took seconds on "*a*a*a*a*ab". */
#include "imap-pattern.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Patterns up to this long need no allocation (two bytes per position). */
#define PATTERN_STACK 512

static bool is_wild(char c)
{
	return c == '*' || c == '%';
}

/* A wildcard may match nothing: state i also reaches i+1 through it. */
static void close_states(const char *pat, size_t m, unsigned char *st)
{
	for (size_t i = 0; i < m; i++)
		if (st[i] && is_wild(pat[i]))
			st[i + 1] = 1;
}

/* One name byte: from st (m+1 states) to next; returns whether any state
 * is left. */
static bool step_states(const char *pat, size_t m, const unsigned char *st, unsigned char *next,
                        char c, char sep)
{
	bool any = false;
	memset(next, 0, m + 1);
	for (size_t i = 0; i < m; i++) {
		if (!st[i])
			continue;
		if (pat[i] == '*' || (pat[i] == '%' && c != sep))
			next[i] = 1; /* the wildcard eats c and stays */
		else if (!is_wild(pat[i]) && pat[i] == c)
			next[i + 1] = 1;
	}
	close_states(pat, m, next);
	for (size_t i = 0; i <= m && !any; i++)
		any = next[i] != 0;
	return any;
}

int imap_pattern_match(const char *pat, size_t pat_len, const char *name, size_t name_len, char sep,
                       const char **error_r)
{
	unsigned char stack[2 * (PATTERN_STACK + 1)];
	unsigned char *mem = stack;
	if (pat_len > PATTERN_STACK) {
		mem = malloc(2 * (pat_len + 1));
		if (mem == NULL) {
			*error_r = "out of memory";
			return -1;
		}
	}
	unsigned char *st = mem, *next = mem + pat_len + 1;
	memset(st, 0, pat_len + 1);
	st[0] = 1;
	close_states(pat, pat_len, st);
	bool alive = true;
	for (size_t j = 0; j < name_len && alive; j++) {
		alive = step_states(pat, pat_len, st, next, name[j], sep);
		unsigned char *t = st;
		st = next;
		next = t;
	}
	int r = alive && st[pat_len] ? 1 : 0;
	if (mem != stack)
		free(mem);
	return r;
}
