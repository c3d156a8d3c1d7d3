/* fuzz-alias-parse.c: libFuzzer target for the aliases, virtual-map and
 * .forward parsers. Checks invariants, not just crashes: every problem has a
 * line inside the input, keys are lower-case and unique, no target is empty
 * or holds a control character, a virtual map yields only addresses, and
 * the same input parses to the same result with LF or CRLF line ends. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alias-parse.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static unsigned count_lines(const char *p, size_t len)
{
	unsigned n = 1;
	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

static void check_list(const struct alias_list *l, enum alias_format fmt, unsigned lines)
{
	for (size_t i = 0; i < l->nproblems; i++)
		check(l->problems[i].line >= 1 && l->problems[i].line <= lines);
	for (size_t i = 0; i < l->n; i++) {
		const struct alias_entry *e = &l->entries[i];
		check(e->line >= 1 && e->line <= lines);
		for (const char *k = e->key; *k; k++)
			check(!(*k >= 'A' && *k <= 'Z') && (unsigned char)*k >= 0x20 && *k != 0x7f);
		for (size_t j = 0; j < i; j++)
			check(strcmp(l->entries[j].key, e->key) != 0);
		check(e->ntargets > 0 || fmt == ALIAS_FORMAT_VIRTUAL);
		for (size_t t = 0; t < e->ntargets; t++) {
			const char *v = e->targets[t].value;
			check(v[0] != '\0');
			for (; *v; v++)
				check((unsigned char)*v >= 0x20 && *v != 0x7f);
			if (fmt == ALIAS_FORMAT_VIRTUAL)
				check(e->targets[t].kind == ALIAS_ADDRESS);
		}
	}
}

static void same(const struct alias_list *a, const struct alias_list *b)
{
	check(a->n == b->n && a->nproblems == b->nproblems);
	for (size_t i = 0; i < a->n; i++) {
		check(strcmp(a->entries[i].key, b->entries[i].key) == 0);
		check(a->entries[i].ntargets == b->entries[i].ntargets);
		for (size_t t = 0; t < a->entries[i].ntargets; t++)
			check(strcmp(a->entries[i].targets[t].value,
			             b->entries[i].targets[t].value) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	enum alias_format fmt = (enum alias_format)(data[0] % 3);
	const char *p = (const char *)data + 1;
	size_t len = size - 1;
	struct alias_list l = {0};
	int r = alias_parse(p, len, fmt, &l);
	check(r == 0 || r == 1);
	check((r == 1) == (l.nproblems > 0));
	check_list(&l, fmt, count_lines(p, len));

	/* LF -> CRLF must not change anything (when the input has no CR) */
	if (memchr(p, '\r', len) == NULL) {
		char *crlf = malloc(len * 2 + 1);
		if (crlf != NULL) {
			size_t n = 0;
			for (size_t i = 0; i < len; i++) {
				if (p[i] == '\n')
					crlf[n++] = '\r';
				crlf[n++] = p[i];
			}
			struct alias_list l2 = {0};
			check(alias_parse(crlf, n, fmt, &l2) == r);
			same(&l, &l2);
			alias_list_free(&l2);
			free(crlf);
		}
	}
	alias_list_free(&l);
	return 0;
}
