/* fuzz-imap-cmd.c: libFuzzer target for the IMAP command parser (imap-login
 * before auth, the mailstore session after) and its argument parsers. The
 * input is fed once whole and once in chunks whose sizes come from the input
 * bytes; both transcripts (commands, literal requests, errors) must match.
 * Each argument also goes through the seq-set, fetch, flag, date and
 * modified UTF-7 parsers, whose results are checked for consistency. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap-parse.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void args_check(const struct imap_arg *a, unsigned depth)
{
	check(depth <= IMAP_DEPTH_MAX);
	if (a->type == IMAP_ARG_LIST) {
		for (unsigned i = 0; i < a->count; i++)
			args_check(&a->list[i], depth + 1);
		struct imap_flags f;
		const char *e;
		if (imap_flags_parse(a, 1, &f, &e) == 0)
			check(f.nkeywords <= IMAP_KEYWORDS_MAX);
		return;
	}
	if (a->type == IMAP_ARG_QUOTED)
		check(memchr(a->str, '\0', a->len) == NULL && memchr(a->str, '\n', a->len) == NULL);
	if (a->type == IMAP_ARG_LITERAL && !(a->flags & IMAP_ARG_F_LITERAL8))
		check(memchr(a->str, '\0', a->len) == NULL);
	struct imap_seq_range r[16];
	size_t n;
	const char *e;
	if (imap_seqset_parse(a->str, a->len, r, 16, &n, &e) == 0) {
		check(n >= 1 && n <= 16);
		for (size_t i = 0; i < n; i++)
			check(r[i].lo >= 1 && r[i].lo <= r[i].hi);
		imap_seqset_resolve(r, n, 7);
		for (size_t i = 0; i < n; i++)
			check(imap_seqset_contains(r, n, r[i].lo) && r[i].lo <= r[i].hi);
	}
	struct imap_fetch_att fa[6];
	if (imap_fetch_parse(a, fa, 6, &n, &e) == 0)
		for (size_t i = 0; i < n; i++)
			check(fa[i].nparts <= IMAP_FETCH_PARTS_MAX &&
			      fa[i].nfields <= IMAP_FETCH_FIELDS_MAX);
	struct tm tm;
	if (imap_date_parse(a->str, a->len, &tm) == 0)
		check(tm.tm_mday >= 1 && tm.tm_mday <= 31 && tm.tm_mon >= 0 && tm.tm_mon < 12);
	time_t t;
	int tz;
	if (imap_datetime_parse(a->str, a->len, &t, &tz) == 0)
		check(tz > -86400 && tz < 86400);
	/* a decoded name re-encodes to a canonical form that decodes the same */
	struct buf u, m, u2;
	buf_init(&u, 0);
	buf_init(&m, 0);
	buf_init(&u2, 0);
	if (imap_mutf7_to_utf8(a->str, a->len, &u) == 0) {
		check(imap_utf8_to_mutf7(u.data, u.len, &m) == 0);
		check(imap_mutf7_to_utf8(m.data, m.len, &u2) == 0);
		check(u.len == u2.len && (u.len == 0 || memcmp(u.data, u2.data, u.len) == 0));
	}
	buf_free(&u);
	buf_free(&m);
	buf_free(&u2);
}

static void dump(struct buf *o, const struct imap_arg *a)
{
	buf_printf(o, "%d.%u.%zu.%u:", (int)a->type, a->flags, a->len, a->count);
	if (a->len > 0)
		buf_append(o, a->str, a->len);
	for (unsigned i = 0; i < a->count; i++)
		dump(o, &a->list[i]);
}

/* chunks: sizes to feed, cycled (NULL: all at once). */
static void run(const char *p, size_t len, const uint8_t *chunks, size_t nchunks,
                const struct imap_limits *lim, uint8_t refuse_mask, int check_args, struct buf *out)
{
	struct imap_parser *ps = imap_parser_new(lim);
	check(ps != NULL);
	size_t off = 0, have = 0, k = 0, lits = 0;
	have = chunks == NULL ? len : (chunks[0] % 17 < len ? chunks[0] % 17 : len);
	for (;;) {
		size_t used = 0;
		enum imap_parse_result r = imap_parser_feed(ps, p + off, have - off, &used);
		check(used <= have - off);
		off += used;
		if (r == IMAP_PARSE_COMMAND) {
			const struct imap_command *c = imap_parser_command(ps);
			check(c != NULL && c->tag[0] != '\0' && c->name[0] != '\0');
			buf_printf(out, "C%s %s", c->tag, c->name);
			for (unsigned i = 0; i < c->argc; i++) {
				dump(out, &c->args[i]);
				if (check_args)
					args_check(&c->args[i], 0);
			}
		} else if (r == IMAP_PARSE_LITERAL) {
			check(imap_parser_literal_size(ps) <=
			      (lim->max_literal ? lim->max_literal : 65536));
			buf_printf(out, "L%u", (unsigned)imap_parser_literal_size(ps));
			if (refuse_mask & (1u << (lits++ % 8)))
				imap_parser_literal_refuse(ps);
			else
				imap_parser_literal_accept(ps);
		} else if (r == IMAP_PARSE_ERROR) {
			check(imap_parser_error(ps)[0] != '\0');
			buf_printf(out, "E%s %s", imap_parser_error_tag(ps), imap_parser_error(ps));
		} else {
			check(off == have);
			if (have == len)
				break;
			size_t step = chunks == NULL ? len : 1 + chunks[++k % nchunks] % 16;
			have = have + step > len ? len : have + step;
		}
	}
	imap_parser_free(ps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	struct imap_limits lim = {.max_line = 16 + data[0] * 4u,
	                          .max_literal = data[1] * 8u,
	                          .max_args = 1 + data[2] % 64,
	                          .max_depth = 1 + data[3] % 20};
	uint8_t refuse = data[2];
	const char *p = (const char *)data + 4;
	size_t len = size - 4;
	struct buf a, b;
	buf_init(&a, 0);
	buf_init(&b, 0);
	run(p, len, NULL, 0, &lim, refuse, 1, &a);
	run(p, len, data, size, &lim, refuse, 0, &b);
	check(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
	buf_free(&a);
	buf_free(&b);
	return 0;
}
