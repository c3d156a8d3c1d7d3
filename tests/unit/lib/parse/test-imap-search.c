/* test-imap-search.c: the SEARCH criteria parser (lib/parse/imap-search.h) fed
 * through the real command parser: every key and its rewritten tree,
 * nesting, charsets, literals, every error and the depth/key limits; and the
 * decoders SEARCH relies on (lib/parse/mime-decode.h, imap_search_fold). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap-parse.h"
#include "imap-search-eval.h"
#include "imap-search.h"
#include "mime-decode.h"

/* Parse "t SEARCH <crit>" (literals accepted) and return the result; the
 * dump or the error goes into out. */
static enum imap_search_result run(const char *crit, struct buf *out)
{
	struct imap_limits lim = {.max_line = 1 << 20, .max_args = 20000};
	struct imap_parser *ps = imap_parser_new(&lim);
	struct buf line;
	buf_init(&line, 0);
	assert_int_equal(buf_printf(&line, "t SEARCH %s\r\n", crit), 0);
	size_t off = 0, used;
	enum imap_parse_result pr;
	while ((pr = imap_parser_feed(ps, line.data + off, line.len - off, &used)) ==
	       IMAP_PARSE_LITERAL) {
		off += used;
		imap_parser_literal_accept(ps);
	}
	if (pr != IMAP_PARSE_COMMAND)
		fail_msg("command parser: %d %s", (int)pr, imap_parser_error(ps));
	const struct imap_command *c = imap_parser_command(ps);
	struct imap_search q;
	const char *err = NULL;
	buf_reset(out);
	enum imap_search_result r = imap_search_parse(c->args, c->argc, &q, &err);
	if (r == IMAP_SEARCH_OK) {
		assert_int_equal(imap_search_dump(&q, out), 0);
		imap_search_free(&q);
	} else {
		assert_non_null(err);
		assert_int_equal(buf_append_str(out, err), 0);
		assert_null(q.pool);
	}
	buf_free(&line);
	imap_parser_free(ps);
	return r;
}

static void ok(const char *crit, const char *want)
{
	struct buf out;
	buf_init(&out, 0);
	enum imap_search_result r = run(crit, &out);
	if (r != IMAP_SEARCH_OK)
		fail_msg("%s: error %s", crit, out.data);
	if (strcmp(out.data, want) != 0)
		fail_msg("%s: got %s want %s", crit, out.data, want);
	buf_free(&out);
}

static void bad(const char *crit, enum imap_search_result want_r, const char *want)
{
	struct buf out;
	buf_init(&out, 0);
	enum imap_search_result r = run(crit, &out);
	if (r != want_r || strcmp(out.data != NULL ? out.data : "", want) != 0)
		fail_msg("%s: got %d %s want %d %s", crit, (int)r, out.data, (int)want_r, want);
	buf_free(&out);
}

static void test_simple_keys(void **state)
{
	(void)state;
	ok("ALL", "(AND ALL)");
	ok("all", "(AND ALL)");
	ok("ANSWERED", "(AND \\Answered)");
	ok("DELETED", "(AND \\Deleted)");
	ok("DRAFT", "(AND \\Draft)");
	ok("FLAGGED", "(AND \\Flagged)");
	ok("RECENT", "(AND \\Recent)");
	ok("SEEN", "(AND \\Seen)");
	ok("UNANSWERED", "(AND (NOT \\Answered))");
	ok("UNDELETED", "(AND (NOT \\Deleted))");
	ok("UNDRAFT", "(AND (NOT \\Draft))");
	ok("UNFLAGGED", "(AND (NOT \\Flagged))");
	ok("unseen", "(AND (NOT \\Seen))");
	ok("NEW", "(AND (AND \\Recent (NOT \\Seen)))");
	ok("OLD", "(AND (NOT \\Recent))");
	ok("KEYWORD $Label1", "(AND (KEYWORD \"$Label1\"))");
	ok("UNKEYWORD work", "(AND (NOT (KEYWORD \"work\")))");
	ok("BCC bob", "(AND (HEADER Bcc \"bob\"))");
	ok("CC \"a b\"", "(AND (HEADER Cc \"a b\"))");
	ok("FROM alice@example.org", "(AND (HEADER From \"alice@example.org\"))");
	ok("TO {3}\r\nx y", "(AND (HEADER To \"x y\"))");
	ok("SUBJECT \"\"", "(AND (HEADER Subject \"\"))");
	ok("HEADER X-Spam yes", "(AND (HEADER X-Spam \"yes\"))");
	ok("HEADER \"List-Id\" \"\"", "(AND (HEADER List-Id \"\"))");
	ok("BODY hello", "(AND (BODY \"hello\"))");
	ok("TEXT \"two words\"", "(AND (TEXT \"two words\"))");
	ok("LARGER 0", "(AND (LARGER 0))");
	ok("SMALLER 4294967295", "(AND (SMALLER 4294967295))");
	ok("BEFORE 1-Feb-1994", "(AND (BEFORE 8797))");
	ok("ON \"1-Mar-2000\"", "(AND (ON 11017))");
	ok("SINCE 29-feb-2024", "(AND (SINCE 19782))");
	ok("SENTBEFORE 01-Jan-1970", "(AND (SENTBEFORE 0))");
	ok("SENTON 31-Dec-1999", "(AND (SENTON 10956))");
	ok("SENTSINCE 1-Jul-2003", "(AND (SENTSINCE 12234))");
	ok("UID 1:*", "(AND (UID 1:*))");
	ok("UID 5,3:2,*", "(AND (UID 5,2:3,*))");
	ok("1:3", "(AND (SEQ 1:3))");
	ok("*", "(AND (SEQ *))");
	ok("2,4:*", "(AND (SEQ 2,4:*))");
}

static void test_nesting(void **state)
{
	(void)state;
	ok("SEEN FLAGGED", "(AND \\Seen \\Flagged)");
	ok("(SEEN FLAGGED)", "(AND (AND \\Seen \\Flagged))");
	ok("OR SEEN FLAGGED", "(AND (OR \\Seen \\Flagged))");
	ok("OR (SEEN 1:2) NOT FROM x",
	   "(AND (OR (AND \\Seen (SEQ 1:2)) (NOT (HEADER From \"x\"))))");
	ok("NOT NOT ALL", "(AND (NOT (NOT ALL)))");
	ok("OR OR SEEN DRAFT OR DELETED NEW",
	   "(AND (OR (OR \\Seen \\Draft) (OR \\Deleted (AND \\Recent (NOT \\Seen)))))");
	ok("((ALL)) UID 4", "(AND (AND (AND ALL)) (UID 4))");
	ok("NOT (OR 1 2) SUBJECT x",
	   "(AND (NOT (AND (OR (SEQ 1) (SEQ 2)))) (HEADER Subject \"x\"))");
}

static void test_charset(void **state)
{
	(void)state;
	ok("CHARSET UTF-8 SUBJECT {6}\r\nh\xc3\xa9llo", "(AND (HEADER Subject \"h\xc3\xa9llo\"))");
	ok("charset \"us-ascii\" ALL", "(AND ALL)");
	ok("CHARSET utf-8 BODY \"\xc3\xa9t\xc3\xa9\"", "(AND (BODY \"\xc3\xa9t\xc3\xa9\"))");
	bad("CHARSET ISO-8859-1 ALL", IMAP_SEARCH_BADCHARSET, "Unsupported charset");
	bad("CHARSET KOI8-R {1}\r\nx", IMAP_SEARCH_BADCHARSET, "Unsupported charset");
	bad("CHARSET", IMAP_SEARCH_BAD, "Missing parameter for CHARSET");
	bad("CHARSET UTF-8", IMAP_SEARCH_BAD, "Missing search parameters");
	bad("CHARSET (UTF-8) ALL", IMAP_SEARCH_BAD, "Missing parameter for CHARSET");
}

static void test_errors(void **state)
{
	(void)state;
	bad("FROBNICATE", IMAP_SEARCH_BAD, "Unknown argument FROBNICATE");
	bad("SEEN \"SEEN\"", IMAP_SEARCH_BAD, "Unexpected string where a search key was expected");
	bad("()", IMAP_SEARCH_BAD, "Empty search list");
	bad("FROM", IMAP_SEARCH_BAD, "Missing parameter for FROM");
	bad("HEADER X-A", IMAP_SEARCH_BAD, "Missing parameter for HEADER");
	bad("HEADER \"\" x", IMAP_SEARCH_BAD, "Invalid parameter for HEADER");
	bad("HEADER (a) x", IMAP_SEARCH_BAD, "Invalid parameter for HEADER");
	bad("SUBJECT (x)", IMAP_SEARCH_BAD, "Invalid parameter for SUBJECT");
	bad("BODY ~{1}\r\nx", IMAP_SEARCH_BAD, "Invalid parameter for BODY");
	bad("KEYWORD", IMAP_SEARCH_BAD, "Missing parameter for KEYWORD");
	bad("BEFORE 30-Feb-2000", IMAP_SEARCH_BAD, "Invalid search date parameter");
	bad("SINCE 2000-01-01", IMAP_SEARCH_BAD, "Invalid search date parameter");
	bad("ON", IMAP_SEARCH_BAD, "Missing parameter for ON");
	bad("LARGER x", IMAP_SEARCH_BAD, "Invalid search size parameter");
	bad("LARGER -1", IMAP_SEARCH_BAD, "Invalid search size parameter");
	bad("SMALLER 4294967296", IMAP_SEARCH_BAD, "Invalid search size parameter");
	bad("SMALLER \"5\"", IMAP_SEARCH_BAD, "Invalid search size parameter");
	bad("UID x", IMAP_SEARCH_BAD, "Invalid messageset");
	bad("UID", IMAP_SEARCH_BAD, "Missing parameter for UID");
	bad("0", IMAP_SEARCH_BAD, "Invalid messageset");
	bad("1:", IMAP_SEARCH_BAD, "Invalid messageset");
	bad("NOT", IMAP_SEARCH_BAD, "Missing parameter for NOT");
	bad("OR SEEN", IMAP_SEARCH_BAD, "Missing parameter for OR");
	bad("OR SEEN (DRAFT BOGUS)", IMAP_SEARCH_BAD, "Unknown argument BOGUS");
	bad("", IMAP_SEARCH_BAD, "Missing search parameters");
}

static void test_limits(void **state)
{
	(void)state;
	struct buf crit, want;
	buf_init(&crit, 0);
	buf_init(&want, 0);
	/* 31 NOTs under the top AND: depth 31 is the deepest key allowed */
	for (int i = 0; i < 31; i++)
		buf_append_str(&crit, "NOT ");
	buf_append_str(&crit, "ALL");
	buf_append_str(&want, "(AND ");
	for (int i = 0; i < 31; i++)
		buf_append_str(&want, "(NOT ");
	buf_append_str(&want, "ALL");
	for (int i = 0; i < 32; i++)
		buf_append_str(&want, ")");
	ok(crit.data, want.data);
	buf_reset(&crit);
	for (int i = 0; i < 32; i++)
		buf_append_str(&crit, "NOT ");
	buf_append_str(&crit, "ALL");
	bad(crit.data, IMAP_SEARCH_BAD, "Search keys nested too deeply");
	/* OR chains and lists count as nesting as well */
	buf_reset(&crit);
	for (int i = 0; i < 40; i++)
		buf_append_str(&crit, "OR SEEN ");
	buf_append_str(&crit, "ALL");
	bad(crit.data, IMAP_SEARCH_BAD, "Search keys nested too deeply");
	bad("((((((((((((((((NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT "
	    "ALL))))))))))))))))",
	    IMAP_SEARCH_BAD, "Search keys nested too deeply");
	/* key count */
	buf_reset(&crit);
	for (int i = 0; i < IMAP_SEARCH_KEYS_MAX; i++)
		buf_append_str(&crit, i > 0 ? " NEW" : "NEW");
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(run(crit.data, &out), IMAP_SEARCH_OK);
	buf_append_str(&crit, " SEEN");
	bad(crit.data, IMAP_SEARCH_BAD, "Too many search keys");
	buf_reset(&crit);
	for (int i = 0; i < 600; i++)
		buf_append_str(&crit, "(SEEN DRAFT) ");
	buf_append_str(&crit, "ALL");
	bad(crit.data, IMAP_SEARCH_BAD, "Too many search keys");
	buf_free(&out);
	buf_free(&crit);
	buf_free(&want);
}

static void test_decoders(void **state)
{
	(void)state;
	struct buf o;
	buf_init(&o, 0);
	assert_int_equal(mime_decode_base64("aGVs\r\nbG8g\nd29y bGQ=\r\n", 24, &o), 0);
	assert_string_equal(o.data, "hello world");
	buf_reset(&o);
	const char qp[] = "caf=C3=A9 soft=\r\nbreak =3d=\nend =zz a=\r\n";
	assert_int_equal(mime_decode_qp(qp, strlen(qp), &o), 0);
	assert_string_equal(o.data, "caf\xc3\xa9 softbreak =end =zz a");
	buf_reset(&o);
	assert_int_equal(mime_charset_to_utf8("ISO-8859-1", "caf\xe9", 4, &o), 0);
	assert_string_equal(o.data, "caf\xc3\xa9");
	buf_reset(&o);
	assert_int_equal(mime_charset_to_utf8("x-unknown-cs", "caf\xe9", 4, &o), 0);
	assert_string_equal(o.data, "caf\xe9");
	buf_reset(&o);
	assert_int_equal(mime_charset_to_utf8("KOI8-R", "\xf0\xd2\xc9", 3, &o), 0);
	assert_string_equal(o.data, "\xd0\x9f\xd1\x80\xd0\xb8"); /* При */
	buf_reset(&o);
	const char mixed[] = "AbC \xc3\x89T\xc3\x89 \xd0\x9f \xc3\x97 \xc4\x8c";
	assert_int_equal(imap_search_fold(mixed, strlen(mixed), &o), 0);
	assert_string_equal(o.data, "abc \xc3\xa9t\xc3\xa9 \xd0\xbf \xc3\x97 \xc4\x8d");
	buf_free(&o);

	int64_t day = -1;
	assert_int_equal(mime_date_day("Tue, 1 Feb 1994 12:00:00 +0000", 30, &day), 0);
	assert_int_equal(day, 8797);
	assert_int_equal(mime_date_day("31 Dec 99 23:59 -0800", 21, &day), 0);
	assert_int_equal(day, 10956);
	assert_int_equal(mime_date_day(" (c) 1 mar 2000", 15, &day), 0);
	assert_int_equal(day, 11017);
	assert_int_equal(mime_date_day("Fri, 31 Feb 2000", 16, &day), -1);
	assert_int_equal(mime_date_day("yesterday", 9, &day), -1);
	assert_int_equal(mime_date_day("", 0, &day), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_keys), cmocka_unit_test(test_nesting),
	    cmocka_unit_test(test_charset),     cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_limits),      cmocka_unit_test(test_decoders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
