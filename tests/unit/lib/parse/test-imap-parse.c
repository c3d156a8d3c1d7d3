/* test-imap-parse.c: the incremental IMAP command parser (lib/parse/imap-parse.h)
 * shared by imap-login and the mailstore IMAP session: every token kind,
 * lists, escapes, NUL refusal, literals (sync, LITERAL+, literal8) with their
 * limits and resynchronisation, and byte-by-byte feeding == one-shot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "imap-parse.h"

static void dump_arg(struct buf *o, const struct imap_arg *a)
{
	switch (a->type) {
	case IMAP_ARG_LIST:
		buf_append_str(o, "(");
		for (unsigned i = 0; i < a->count; i++) {
			if (i > 0)
				buf_append_str(o, " ");
			dump_arg(o, &a->list[i]);
		}
		buf_append_str(o, ")");
		return;
	case IMAP_ARG_NIL:
		buf_append_str(o, "NIL");
		return;
	case IMAP_ARG_QUOTED:
		buf_append_str(o, "\"");
		break;
	case IMAP_ARG_LITERAL:
		buf_printf(o, "%s{%zu%s}", (a->flags & IMAP_ARG_F_LITERAL8) ? "~" : "", a->len,
		           (a->flags & IMAP_ARG_F_NONSYNC) ? "+" : "");
		break;
	case IMAP_ARG_ATOM:
		break;
	}
	for (size_t i = 0; i < a->len; i++) {
		unsigned char c = (unsigned char)a->str[i];
		if (c >= 0x20 && c < 0x7f)
			buf_append(o, &a->str[i], 1);
		else
			buf_printf(o, "\\x%02x", c);
	}
	if (a->type == IMAP_ARG_QUOTED)
		buf_append_str(o, "\"");
}

/* Feed s in chunks of `chunk` bytes (0: all at once) and write a transcript:
 * "C tag NAME args" per command, "L n" per literal request (accepted unless
 * refuse), "E tag|msg" per error, each on its own line. */
static void run_lim(const struct imap_limits *lim, const char *s, size_t n, size_t chunk,
                    int refuse, struct buf *out)
{
	struct imap_parser *ps = imap_parser_new(lim);
	assert_non_null(ps);
	size_t off = 0, have = chunk == 0 || chunk > n ? n : chunk;
	for (;;) {
		size_t used = 0;
		enum imap_parse_result r = imap_parser_feed(ps, s + off, have - off, &used);
		assert_true(used <= have - off);
		off += used;
		if (r == IMAP_PARSE_COMMAND) {
			const struct imap_command *c = imap_parser_command(ps);
			assert_non_null(c);
			buf_printf(out, "C %s %s", c->tag, c->name);
			for (unsigned i = 0; i < c->argc; i++) {
				buf_append_str(out, " ");
				dump_arg(out, &c->args[i]);
			}
			buf_append_str(out, "\n");
		} else if (r == IMAP_PARSE_LITERAL) {
			buf_printf(out, "L %u\n", (unsigned)imap_parser_literal_size(ps));
			assert_null(imap_parser_command(ps));
			if (refuse)
				imap_parser_literal_refuse(ps);
			else
				imap_parser_literal_accept(ps);
		} else if (r == IMAP_PARSE_ERROR) {
			buf_printf(out, "E %s|%s\n", imap_parser_error_tag(ps),
			           imap_parser_error(ps));
		} else {
			assert_int_equal(off, have);
			if (have == n)
				break;
			have = chunk == 0 || have + chunk > n ? n : have + chunk;
		}
	}
	imap_parser_free(ps);
}

/* One-shot and every small chunk size give the same transcript `want`. */
static void expect_lim(const struct imap_limits *lim, const char *s, size_t n, int refuse,
                       const char *want)
{
	for (size_t chunk = 0; chunk <= 7; chunk++) {
		struct buf o;
		buf_init(&o, 0);
		buf_append_str(&o, "");
		run_lim(lim, s, n, chunk, refuse, &o);
		if (strcmp(o.data, want) != 0)
			fprintf(stderr, "chunk %zu:\n got: %s\nwant: %s\n", chunk, o.data, want);
		assert_string_equal(o.data, want);
		buf_free(&o);
	}
}

static void expect(const char *s, const char *want)
{
	expect_lim(NULL, s, strlen(s), 0, want);
}

static void test_tokens(void **state)
{
	(void)state;
	expect("a1 noop\r\n", "C a1 NOOP\n");
	expect("a2 LOGIN user \"pass word\"\r\n", "C a2 LOGIN user \"pass word\"\n");
	expect("t SELECT nil NIL \"\" inbox\n", "C t SELECT NIL NIL \"\" inbox\n");
	expect("t X {3}\r\nabc {0}\r\n\r\n", "L 3\nL 0\nC t X {3}abc {0}\n");
	expect("t X {3+}\r\na\xffz ~{2}\r\n", "L 2\n"); /* incomplete: waits for data */
	static const char lit8[] = "t X {3+}\r\na\xffz ~{2+}\r\n\0\x01\r\n";
	expect_lim(NULL, lit8, sizeof(lit8) - 1, 0, "C t X {3+}a\\xffz ~{2+}\\x00\\x01\n");
	expect("t STORE 1:* +FLAGS (\\Seen $Work)\r\n", "C t STORE 1:* +FLAGS (\\Seen $Work)\n");
	expect("t LIST \"\" %\r\n", "C t LIST \"\" %\n");
	expect("t SEARCH UTF8 \"\xc3\xa9t\xc3\xa9\"\r\n",
	       "C t SEARCH UTF8 \"\\xc3\\xa9t\\xc3\\xa9\"\n");
	/* trailing spaces before the line end are tolerated */
	expect("t NOOP  \r\nu CHECK\n", "C t NOOP\nC u CHECK\n");
}

static void test_lists(void **state)
{
	(void)state;
	expect("t X () (a) ((b c) d (e (f)))\r\n", "C t X () (a) ((b c) d (e (f)))\n");
	expect("t X (\"q\" {1}\r\nz NIL)\r\n", "L 1\nC t X (\"q\" {1}z NIL)\n");
	expect("t X ((((((((((((((((a))))))))))))))))\r\n",
	       "C t X ((((((((((((((((a))))))))))))))))\n");
	expect("t X (((((((((((((((((a)))))))))))))))))\r\n", "E t|Lists nested too deeply\n");
	struct imap_limits lim = {.max_depth = 2};
	const char *s = "t X ((a))\r\nu X (((a)))\r\n";
	expect_lim(&lim, s, strlen(s), 0, "C t X ((a))\nE u|Lists nested too deeply\n");
	expect("t X (a\r\n", "E t|Missing ')'\n");
	expect("t X a)\r\n", "E t|Unexpected ')'\n");
	expect("t X ( a)\r\n", "E t|Missing argument\n");
	expect("t X (a )\r\n", "E t|Missing space between arguments\n");
	expect("t X (a)(b)\r\n", "E t|Missing space between arguments\n");
}

static void test_quoted(void **state)
{
	(void)state;
	expect("t X \"a\\\"b\\\\c\"\r\n", "C t X \"a\"b\\c\"\n");
	expect("t X \"a\\nb\"\r\n", "E t|Invalid escape in quoted string\n");
	expect("t X \"abc\r\n", "E t|CR or LF in quoted string\n");
	expect("t X \"a\rb\"\r\n", "E t|CR or LF in quoted string\n");
	/* CVE-2019-11500: a NUL must never pass through a quoted string */
	static const char nul[] = "t LOGIN \"a\0b\" x\r\nu NOOP\r\n";
	expect_lim(NULL, nul, sizeof(nul) - 1, 0, "E t|NUL in quoted string\nC u NOOP\n");
	static const char nul2[] = "t LOGIN a\0b x\r\n";
	expect_lim(NULL, nul2, sizeof(nul2) - 1, 0, "E t|NUL in command\n");
}

static void test_literal_nul(void **state)
{
	(void)state;
	static const char s[] = "t APPEND x {3}\r\na\0b\r\nu NOOP\r\n";
	expect_lim(NULL, s, sizeof(s) - 1, 0, "L 3\nE t|NUL in literal\nC u NOOP\n");
	static const char s8[] = "t APPEND x ~{3}\r\na\0b\r\n";
	expect_lim(NULL, s8, sizeof(s8) - 1, 0, "L 3\nC t APPEND x ~{3}a\\x00b\n");
}

static void test_errors(void **state)
{
	(void)state;
	expect("\r\n", "E |Empty command line\n");
	expect("t\r\n", "E t|Missing command name\n");
	expect("t+ NOOP\r\n", "E |Invalid tag\n");
	expect("(t NOOP\r\n", "E |Invalid tag\n");
	expect("t N[OOP\r\n", "E t|Invalid command name\n");
	expect("t X a  b\r\n", "E t|Missing argument\n");
	expect("t X \xc3\xa9\r\n", "E t|8-bit character in atom\n");
	expect("t X a\rb\r\n", "E t|Missing space between arguments\n");
	expect("t X {12a}\r\n", "E t|Invalid literal size\n");
	expect("t X {4294967296}\r\n", "E t|Invalid literal size\n");
	expect("t X {3}x\r\n", "E t|Missing CRLF after literal size\n");
	expect("t X a{3}\r\nu NOOP\r\n", "E t|Missing space between arguments\nC u NOOP\n");
	struct imap_limits lim = {.max_args = 3};
	const char *s = "t X a (b)\r\nu X a b c d\r\nv X (a (b))\r\n";
	expect_lim(&lim, s, strlen(s), 0,
	           "C t X a (b)\nE u|Too many arguments\nE v|Too many arguments\n");
}

static void test_brackets(void **state)
{
	(void)state;
	expect("t FETCH 1:4 (BODY[HEADER.FIELDS (From \"To\")]<0.10> UID)\r\n",
	       "C t FETCH 1:4 (BODY[HEADER.FIELDS (From \"To\")]<0.10> UID)\n");
	expect("t UID FETCH 1 BODY.PEEK[]\r\n", "C t UID FETCH 1 BODY.PEEK[]\n");
	/* '[' is an ATOM-CHAR: without a matching ']' it opens no section */
	expect("t SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}\r\n",
	       "C t SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}\n");
	expect("t LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*\r\nu NOOP\r\n",
	       "C t LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*\nC u NOOP\n");
	expect("t X a[b c\r\n", "C t X a[b c\n");
	expect("t X [ [\"x]\r\n", "E t|Missing space between arguments\n");
	expect("t FETCH 1 BODY[HEADER\r\n", "C t FETCH 1 BODY[HEADER\n");
	expect("t FETCH 1 BODY[[]]\r\n", "C t FETCH 1 BODY[[]]\n");
	expect("t FETCH 1 (BODY[HEADER.FIELDS (A B) UID)\r\n",
	       "C t FETCH 1 (BODY[HEADER.FIELDS (A B) UID)\n");
	expect("t FETCH 1 x[y]z[ (a)\r\n", "C t FETCH 1 x[y]z[ (a)\n");
}

static void test_sync_literal(void **state)
{
	(void)state;
	const char *s = "t LOGIN {4}\r\nuser {2}\r\npw\r\nn NOOP\r\n";
	expect(s, "L 4\nL 2\nC t LOGIN {4}user {2}pw\nC n NOOP\n");
	/* refused: the client sends no data; what follows is a new command */
	const char *r = "t APPEND box {10}\r\nn NOOP\r\n";
	expect_lim(NULL, r, strlen(r), 1, "L 10\nC n NOOP\n");
	/* feeding while a literal awaits an answer consumes nothing */
	struct imap_parser *ps = imap_parser_new(NULL);
	size_t used;
	assert_int_equal(imap_parser_feed(ps, "t X {5}\r\nhello\r\n", 16, &used),
	                 IMAP_PARSE_LITERAL);
	assert_int_equal(used, 9);
	assert_int_equal(imap_parser_literal_size(ps), 5);
	assert_string_equal(imap_parser_tag(ps), "t");
	assert_int_equal(imap_parser_feed(ps, "hello\r\n", 7, &used), IMAP_PARSE_LITERAL);
	assert_int_equal(used, 0);
	imap_parser_literal_accept(ps);
	assert_int_equal(imap_parser_feed(ps, "hello\r\nnext", 11, &used), IMAP_PARSE_COMMAND);
	assert_int_equal(used, 7);
	const struct imap_command *c = imap_parser_command(ps);
	assert_int_equal(c->argc, 1);
	assert_int_equal(c->args[0].type, IMAP_ARG_LITERAL);
	assert_memory_equal(c->args[0].str, "hello", 5);
	imap_parser_free(ps);
}

static void test_literal_limits(void **state)
{
	(void)state;
	struct imap_limits lim = {.max_literal = 8};
	/* sync over the limit: BAD at once, the client sends nothing more */
	const char *a = "t APPEND x {9}\r\nn NOOP\r\n";
	expect_lim(&lim, a, strlen(a), 0, "E t|Literal too large\nC n NOOP\n");
	/* LITERAL+ over the limit: its bytes are skipped, never executed */
	const char *b = "t APPEND x {16+}\r\nd DELETE INBOX\r\n rest\r\nn NOOP\r\n";
	expect_lim(&lim, b, strlen(b), 0, "E t|Literal too large\nC n NOOP\n");
	/* a skipped command line may go on with more LITERAL+ data */
	const char *c = "t X {9+}\r\nd DELETE\n {8+}\r\ne EXPUN\n x\r\nn NOOP\r\n";
	expect_lim(&lim, c, strlen(c), 0, "E t|Literal too large\nC n NOOP\n");
	/* a syntax error on a line ending in {n+}: the n bytes are skipped too */
	const char *d = "t X ) {10+}\r\nd DELETE\r\n\r\nn NOOP\r\n";
	expect(d, "E t|Unexpected ')'\nC n NOOP\n");
	const char *e = "t X ) {2}\r\nn NOOP\r\n";
	expect(e, "E t|Unexpected ')'\nC n NOOP\n");
	/* the whole command is capped too, literals included */
	struct imap_limits cap = {.max_line = 20, .max_literal = 8, .max_command = 30};
	const char *g = "t X {8+}\r\n12345678 {8+}\r\nd DELETE\r\nn NOOP\r\n";
	expect_lim(&cap, g, strlen(g), 0, "E t|Literal too large\nC n NOOP\n");
	const char *h = "t X {8+}\r\n12345678 aaaaaaaaaaaaa\r\nn NOOP\r\n";
	expect_lim(&cap, h, strlen(h), 0, "E t|Command line too long\nC n NOOP\n");
	/* exactly at the limit is fine */
	const char *f = "t X {8+}\r\n12345678\r\n";
	expect_lim(&lim, f, strlen(f), 0, "C t X {8+}12345678\n");
}

static void test_line_limit(void **state)
{
	(void)state;
	struct imap_limits lim = {.max_line = 20};
	const char *a = "t X aaaaaaaaaaaaa\r\nt X aaaaaaaaaaaaaaa\r\nn NOOP\r\n";
	expect_lim(&lim, a, strlen(a), 0,
	           "C t X aaaaaaaaaaaaa\nE t|Command line too long\nC n NOOP\n");
	/* an over-long line that ends in {n+}: the literal is skipped as well */
	const char *b = "t X aaaaaaaaaaaaaaaaaaaaaaaaaaaa {12+}\r\nd DELETE INB\r\nn NOOP\r\n";
	expect_lim(&lim, b, strlen(b), 0, "E t|Command line too long\nC n NOOP\n");
	/* each line after a literal has the full length again */
	const char *c = "t X aaaaaaaa {1}\r\nz bbbbbbbbbbbbbbb\r\n";
	expect_lim(&lim, c, strlen(c), 0, "L 1\nC t X aaaaaaaa {1}z bbbbbbbbbbbbbbb\n");
}

static void test_pipelining(void **state)
{
	(void)state;
	struct imap_parser *ps = imap_parser_new(NULL);
	static const char s[] = "a NOOP\r\nb CAPABILITY\r\nc";
	size_t off = 0, used;
	assert_int_equal(imap_parser_feed(ps, s, sizeof(s) - 1, &used), IMAP_PARSE_COMMAND);
	assert_int_equal(used, 8);
	assert_string_equal(imap_parser_command(ps)->tag, "a");
	off += used;
	assert_int_equal(imap_parser_feed(ps, s + off, sizeof(s) - 1 - off, &used),
	                 IMAP_PARSE_COMMAND);
	assert_int_equal(used, 14);
	assert_string_equal(imap_parser_command(ps)->name, "CAPABILITY");
	off += used;
	assert_int_equal(imap_parser_feed(ps, s + off, sizeof(s) - 1 - off, &used),
	                 IMAP_PARSE_MORE);
	assert_int_equal(used, 1);
	assert_null(imap_parser_command(ps));
	assert_int_equal(imap_parser_feed(ps, NULL, 0, &used), IMAP_PARSE_MORE);
	assert_int_equal(used, 0);
	/* reset (e.g. after STARTTLS) forgets the partial command */
	imap_parser_reset(ps);
	assert_int_equal(imap_parser_feed(ps, " NOOP\r\n", 7, &used), IMAP_PARSE_ERROR);
	assert_string_equal(imap_parser_error(ps), "Invalid tag");
	imap_parser_free(ps);
}

/* A mixed script: every chunking gives the one-shot transcript. */
static void test_incremental(void **state)
{
	(void)state;
	static const char s[] = "a LOGIN {4}\r\nuser \"p\\\"w\"\r\n"
	                        "b FETCH 1:*,3 (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (A B)]<5.6>)\r\n"
	                        "c X \"a\0\"\r\n"
	                        "d APPEND INBOX (\\Seen) \" 1-Jan-2020 10:00:00 +0100\" {5+}\r\n"
	                        "hello\r\n"
	                        "e X )\r\n"
	                        "f X {99999999+}\r\n";
	struct buf ref;
	buf_init(&ref, 0);
	buf_append_str(&ref, "");
	run_lim(NULL, s, sizeof(s) - 1, 0, 0, &ref);
	assert_non_null(strstr(ref.data, "C d APPEND INBOX (\\Seen)"));
	for (size_t chunk = 1; chunk < 40; chunk++) {
		struct buf o;
		buf_init(&o, 0);
		buf_append_str(&o, "");
		run_lim(NULL, s, sizeof(s) - 1, chunk, 0, &o);
		assert_string_equal(o.data, ref.data);
		buf_free(&o);
	}
	buf_free(&ref);
}

static void test_arg_helpers(void **state)
{
	(void)state;
	struct imap_parser *ps = imap_parser_new(NULL);
	const char *s = "t X nil \"q\" {1+}\r\nl BODY[] ~{1+}\r\nb (a) B[H (F)] a[} a% *\r\n";
	size_t used;
	assert_int_equal(imap_parser_feed(ps, s, strlen(s), &used), IMAP_PARSE_COMMAND);
	const struct imap_command *c = imap_parser_command(ps);
	assert_int_equal(c->argc, 10);
	const char *str;
	size_t len;
	assert_true(imap_arg_atom_eq(&c->args[0], "NIL"));
	assert_int_equal(imap_arg_astring(&c->args[0], &str, &len), 0);
	assert_int_equal(len, 3);
	assert_int_equal(imap_arg_nstring(&c->args[0], &str, &len), 0);
	assert_null(str);
	assert_int_equal(imap_arg_astring(&c->args[1], &str, &len), 0);
	assert_memory_equal(str, "q", 1);
	assert_int_equal(imap_arg_astring(&c->args[2], &str, &len), 0);
	assert_memory_equal(str, "l", 1);
	/* ASTRING-CHAR includes '[' and ']' (RFC 3501 9) */
	assert_int_equal(imap_arg_astring(&c->args[3], &str, &len), 0); /* BODY[] */
	assert_int_equal(len, 6);
	assert_int_equal(imap_arg_nstring(&c->args[3], &str, &len), -1);
	assert_int_equal(imap_arg_astring(&c->args[4], &str, &len), -1); /* literal8 */
	assert_int_equal(imap_arg_astring(&c->args[5], &str, &len), -1);
	assert_int_equal(imap_arg_astring(&c->args[6], &str, &len), -1); /* B[H (F)] */
	assert_int_equal(imap_arg_astring(&c->args[7], &str, &len), 0);  /* a[} */
	assert_int_equal(len, 3);
	assert_int_equal(imap_arg_astring(&c->args[8], &str, &len), -1); /* a% */
	assert_int_equal(imap_arg_astring(&c->args[9], &str, &len), -1); /* * */
	assert_false(imap_arg_atom_eq(&c->args[1], "q"));
	imap_parser_free(ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tokens),       cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_quoted),       cmocka_unit_test(test_literal_nul),
	    cmocka_unit_test(test_errors),       cmocka_unit_test(test_brackets),
	    cmocka_unit_test(test_sync_literal), cmocka_unit_test(test_literal_limits),
	    cmocka_unit_test(test_line_limit),   cmocka_unit_test(test_pipelining),
	    cmocka_unit_test(test_incremental),  cmocka_unit_test(test_arg_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
