/* fuzz-imap-search.c: libFuzzer target for the SEARCH criteria parser. The
 * input is a stream of IMAP commands (literals accepted); the arguments of
 * every complete command go through imap_search_parse(), whose tree is
 * dumped and checked, and every string argument through the SEARCH
 * decoders (base64, quoted-printable, charset, Date: day, case folding). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap-parse.h"
#include "imap-search-eval.h"
#include "imap-search.h"
#include "mime-decode.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void decoders(const struct imap_arg *a)
{
	if (a->type == IMAP_ARG_LIST) {
		for (unsigned i = 0; i < a->count; i++)
			decoders(&a->list[i]);
		return;
	}
	struct buf o;
	buf_init(&o, 0);
	check(mime_decode_base64(a->str, a->len, &o) == 0);
	check(o.len <= a->len);
	buf_reset(&o);
	check(mime_decode_qp(a->str, a->len, &o) == 0);
	check(o.len <= a->len);
	buf_reset(&o);
	check(mime_charset_to_utf8("ISO-8859-1", a->str, a->len, &o) == 0);
	check(o.len >= a->len && o.len <= 2 * a->len);
	buf_reset(&o);
	check(imap_search_fold(a->str, a->len, &o) == 0);
	check(o.len == a->len); /* folding keeps UTF-8 lengths */
	buf_free(&o);
	int64_t day;
	if (mime_date_day(a->str, a->len, &day) == 0)
		check(day > -800000 && day < 3000000);
}

static void search(const struct imap_command *c)
{
	struct imap_search q;
	const char *err = NULL;
	enum imap_search_result r = imap_search_parse(c->args, c->argc, &q, &err);
	if (r != IMAP_SEARCH_OK) {
		check(err != NULL && err[0] != '\0' && q.pool == NULL);
		return;
	}
	check(q.root != NULL && q.nkeys >= 1 && q.nkeys <= IMAP_SEARCH_KEYS_MAX);
	check(q.npool <= q.cap);
	struct buf o;
	buf_init(&o, 0);
	check(imap_search_dump(&q, &o) == 0 && o.len > 0);
	buf_free(&o);
	imap_search_free(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_limits lim = {.max_line = 4096, .max_literal = 1024, .max_args = 2000};
	struct imap_parser *ps = imap_parser_new(&lim);
	check(ps != NULL);
	const char *p = (const char *)data;
	size_t off = 0;
	while (off < size) {
		size_t used = 0;
		enum imap_parse_result r = imap_parser_feed(ps, p + off, size - off, &used);
		off += used;
		if (r == IMAP_PARSE_COMMAND) {
			const struct imap_command *c = imap_parser_command(ps);
			search(c);
			for (unsigned i = 0; i < c->argc; i++)
				decoders(&c->args[i]);
		} else if (r == IMAP_PARSE_LITERAL) {
			imap_parser_literal_accept(ps);
		} else if (r == IMAP_PARSE_MORE) {
			break;
		}
	}
	imap_parser_free(ps);
	return 0;
}
