/* test-pop3-parse.c: the POP3 command tokenizer (lib/parse/pop3-parse.h) shared by
 * pop3-login and the POP3 session: verbs, arguments, spacing, line ends,
 * length limits, NUL and stray CR, SASL continuation lines, numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pop3-parse.h"

static enum pop3_parse_result parse(const char *s, struct pop3_cmd *c)
{
	return pop3_parse_command(s, strlen(s), c);
}

static void assert_arg(const struct pop3_cmd *c, unsigned i, const char *want)
{
	assert_true(i < c->argc);
	assert_int_equal(c->arg_lens[i], strlen(want));
	assert_memory_equal(c->args[i], want, strlen(want));
}

static void test_verbs(void **state)
{
	(void)state;
	struct pop3_cmd c;
	assert_int_equal(parse("STAT\r\n", &c), POP3_PARSE_OK);
	assert_string_equal(c.verb, "STAT");
	assert_int_equal(c.argc, 0);
	assert_int_equal(parse("stat\r\n", &c), POP3_PARSE_OK);
	assert_string_equal(c.verb, "STAT");
	assert_int_equal(parse("tOp 1 2\r\n", &c), POP3_PARSE_OK);
	assert_string_equal(c.verb, "TOP");
	assert_int_equal(parse("Q\n", &c), POP3_PARSE_OK);
	assert_string_equal(c.verb, "Q");
	/* five letters, digits, 8-bit: not a POP3 verb */
	assert_int_equal(parse("QUITS\r\n", &c), POP3_PARSE_BAD_VERB);
	assert_int_equal(c.verb_raw_len, 5);
	assert_memory_equal(c.verb_raw, "QUITS", 5);
	assert_int_equal(parse("ST4T\r\n", &c), POP3_PARSE_BAD_VERB);
	assert_int_equal(parse("\xc3\xa9t\r\n", &c), POP3_PARSE_BAD_VERB);
	assert_int_equal(parse("LI-T 1\r\n", &c), POP3_PARSE_BAD_VERB);
}

static void test_args(void **state)
{
	(void)state;
	struct pop3_cmd c;
	assert_int_equal(parse("LIST 12\r\n", &c), POP3_PARSE_OK);
	assert_int_equal(c.argc, 1);
	assert_arg(&c, 0, "12");
	assert_int_equal(parse("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", &c), POP3_PARSE_OK);
	assert_int_equal(c.argc, 2);
	assert_arg(&c, 0, "PLAIN");
	assert_arg(&c, 1, "AGFsaWNlAHNlY3JldA==");
	/* a third argument: reported, but verb, args and rest are filled */
	assert_int_equal(parse("PASS my secret pw\r\n", &c), POP3_PARSE_TOO_MANY_ARGS);
	assert_string_equal(c.verb, "PASS");
	assert_int_equal(c.rest_len, strlen("my secret pw"));
	assert_memory_equal(c.rest, "my secret pw", c.rest_len);
	assert_int_equal(c.argc, 2);
	/* the rest keeps inner and trailing spaces */
	assert_int_equal(parse("PASS  a  b \r\n", &c), POP3_PARSE_OK);
	assert_int_equal(c.rest_len, 5);
	assert_memory_equal(c.rest, "a  b ", 5);
	assert_int_equal(parse("STAT\r\n", &c), POP3_PARSE_OK);
	assert_int_equal(c.rest_len, 0);
}

static void test_spacing(void **state)
{
	(void)state;
	struct pop3_cmd c;
	assert_int_equal(parse("  RETR   7   \r\n", &c), POP3_PARSE_OK);
	assert_string_equal(c.verb, "RETR");
	assert_int_equal(c.argc, 1);
	assert_arg(&c, 0, "7");
	assert_int_equal(parse("\r\n", &c), POP3_PARSE_EMPTY);
	assert_int_equal(parse("   \r\n", &c), POP3_PARSE_EMPTY);
	assert_int_equal(parse("", &c), POP3_PARSE_EMPTY);
	/* a tab is not a separator: it is part of the word */
	assert_int_equal(parse("LIST\t1\r\n", &c), POP3_PARSE_BAD_VERB);
}

static void test_line_ends(void **state)
{
	(void)state;
	struct pop3_cmd c;
	/* bare LF accepted, no line end at all accepted (caller split it) */
	assert_int_equal(parse("NOOP\n", &c), POP3_PARSE_OK);
	assert_int_equal(parse("NOOP", &c), POP3_PARSE_OK);
	assert_string_equal(c.verb, "NOOP");
	/* CR anywhere but before the final LF */
	assert_int_equal(parse("NOOP\r", &c), POP3_PARSE_NUL);
	assert_int_equal(parse("LIST\r1\r\n", &c), POP3_PARSE_NUL);
	assert_int_equal(parse("NOOP\r\r\n", &c), POP3_PARSE_NUL);
	assert_int_equal(parse("NO\nOP\n", &c), POP3_PARSE_NUL);
	/* NUL */
	assert_int_equal(pop3_parse_command("LIST\0 1\r\n", 9, &c), POP3_PARSE_NUL);
	assert_int_equal(pop3_parse_command("\0\r\n", 3, &c), POP3_PARSE_NUL);
}

static void test_limits(void **state)
{
	(void)state;
	struct pop3_cmd c;
	char line[POP3_LINE_MAX + 8];
	/* exactly POP3_LINE_MAX bytes with CRLF: accepted */
	memset(line, 'x', sizeof(line));
	memcpy(line, "USER ", 5);
	line[POP3_LINE_MAX - 2] = '\r';
	line[POP3_LINE_MAX - 1] = '\n';
	assert_int_equal(pop3_parse_command(line, POP3_LINE_MAX, &c), POP3_PARSE_OK);
	assert_int_equal(c.arg_lens[0], POP3_LINE_MAX - 7);
	/* one more: refused */
	memset(line, 'x', sizeof(line));
	memcpy(line, "USER ", 5);
	line[POP3_LINE_MAX - 1] = '\r';
	line[POP3_LINE_MAX] = '\n';
	assert_int_equal(pop3_parse_command(line, POP3_LINE_MAX + 1, &c), POP3_PARSE_TOO_LONG);
	assert_true(POP3_LINE_MAX > POP3_LINE_RFC_MAX);
}

static void test_continuation(void **state)
{
	(void)state;
	const char *d;
	size_t n;
	assert_int_equal(pop3_parse_continuation("dGVzdA==\r\n", 10, 0, &d, &n), POP3_PARSE_OK);
	assert_int_equal(n, 8);
	assert_memory_equal(d, "dGVzdA==", 8);
	assert_int_equal(pop3_parse_continuation("*\r\n", 3, 0, &d, &n), POP3_PARSE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(d[0], '*');
	assert_int_equal(pop3_parse_continuation("\r\n", 2, 0, &d, &n), POP3_PARSE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(pop3_parse_continuation("ab\0c\r\n", 6, 0, &d, &n), POP3_PARSE_NUL);
	assert_int_equal(pop3_parse_continuation("abcdef\r\n", 8, 4, &d, &n), POP3_PARSE_TOO_LONG);
	/* a space is data in a continuation line */
	assert_int_equal(pop3_parse_continuation("a b\n", 4, 0, &d, &n), POP3_PARSE_OK);
	assert_int_equal(n, 3);
}

static void test_numbers(void **state)
{
	(void)state;
	unsigned long n = 99;
	assert_int_equal(pop3_parse_number("1", 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pop3_parse_number("0", 1, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pop3_parse_number("4294967295", 10, &n), 0);
	assert_int_equal(n, 4294967295UL);
	assert_int_equal(pop3_parse_number("4294967296", 10, &n), -1);
	assert_int_equal(pop3_parse_number("00000000001", 11, &n), -1);
	assert_int_equal(pop3_parse_number("", 0, &n), -1);
	assert_int_equal(pop3_parse_number("-1", 2, &n), -1);
	assert_int_equal(pop3_parse_number("+1", 2, &n), -1);
	assert_int_equal(pop3_parse_number("1a", 2, &n), -1);
	assert_string_equal(pop3_parse_result_str(POP3_PARSE_TOO_LONG), "line too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verbs),   cmocka_unit_test(test_args),
	    cmocka_unit_test(test_spacing), cmocka_unit_test(test_line_ends),
	    cmocka_unit_test(test_limits),  cmocka_unit_test(test_continuation),
	    cmocka_unit_test(test_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
