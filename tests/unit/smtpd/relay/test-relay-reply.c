/* test-relay-reply.c: unit tests for smtpd/relay/relay-reply.c, the pure parser of
 * SMTP replies in loft-relay's client: single and multi-line replies, EHLO
 * keywords, incomplete input, and replies that must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "relay.h"

#define S(x) x, (sizeof(x) - 1)

static void test_single(void **state)
{
	(void)state;
	struct relay_reply r;
	assert_int_equal(relay_reply_parse(S("250 2.0.0 Ok: queued\r\n"), &r), 22);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.text, "250 2.0.0 Ok: queued");
	/* a bare code, and a bare LF line end */
	assert_int_equal(relay_reply_parse(S("354\n"), &r), 4);
	assert_int_equal(r.code, 354);
	assert_string_equal(r.text, "354");
	/* only the first of two replies */
	assert_int_equal(relay_reply_parse(S("221 bye\r\n250 x\r\n"), &r), 9);
	assert_int_equal(r.code, 221);
}

static void test_multiline_ehlo(void **state)
{
	(void)state;
	struct relay_reply r;
	const char ehlo[] = "250-mx.example hello\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n"
	                    "250-starttls\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n";
	assert_int_equal(relay_reply_parse(S(ehlo), &r), (int)sizeof(ehlo) - 1);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 6);
	assert_true(r.pipelining);
	assert_true(r.starttls);
	assert_true(r.eightbitmime);
	assert_true(r.has_size);
	assert_int_equal(r.size_max, 1000000);
	assert_true(strncmp(r.text, "250 mx.example hello PIPELINING", 31) == 0);
	/* the greeting line's text is no keyword */
	assert_int_equal(relay_reply_parse(S("250-STARTTLS\r\n250 SIZE\r\n"), &r), 24);
	assert_false(r.starttls);
	assert_true(r.has_size);
	assert_int_equal(r.size_max, 0);
}

static void test_incomplete(void **state)
{
	(void)state;
	struct relay_reply r;
	assert_int_equal(relay_reply_parse(S(""), &r), 0);
	assert_int_equal(relay_reply_parse(S("250 Ok"), &r), 0);
	assert_int_equal(relay_reply_parse(S("250-one\r\n"), &r), 0);
	assert_int_equal(relay_reply_parse(S("250-one\r\n250"), &r), 0);
}

static void test_bad(void **state)
{
	(void)state;
	struct relay_reply r;
	assert_int_equal(relay_reply_parse(S("25 x\r\n"), &r), -1);
	assert_int_equal(relay_reply_parse(S("abc x\r\n"), &r), -1);
	assert_int_equal(relay_reply_parse(S("650 x\r\n"), &r), -1);
	assert_int_equal(relay_reply_parse(S("250x\r\n"), &r), -1);
	assert_int_equal(relay_reply_parse(S("250-a\r\n251 b\r\n"), &r), -1);
	assert_int_equal(relay_reply_parse(S("250 a\0b\r\n"), &r), -1);
	/* an over-long line is refused before its LF arrives */
	static char big[RELAY_REPLY_LINE + 10];
	memset(big, 'a', sizeof(big));
	memcpy(big, "250 ", 4);
	assert_int_equal(relay_reply_parse(big, sizeof(big), &r), -1);
	/* too many lines */
	static char many[6 * (RELAY_REPLY_LINES + 2)];
	size_t n = 0;
	for (int i = 0; i < RELAY_REPLY_LINES + 1; i++) {
		memcpy(many + n, "250-x\n", 6);
		n += 6;
	}
	assert_int_equal(relay_reply_parse(many, n, &r), -1);
}

static void test_sanitised(void **state)
{
	(void)state;
	struct relay_reply r;
	assert_true(relay_reply_parse(S("550 a\tb\x1b[0m\r\n"), &r) > 0);
	assert_string_equal(r.text, "550 a?b?[0m");
	/* a stray CR inside a line stays out of the text */
	assert_true(relay_reply_parse(S("550 a\rb\r\n"), &r) > 0);
	assert_null(strchr(r.text, '\r'));
	/* long multi-line texts are capped, still NUL-terminated */
	static char lng[40 * 100];
	size_t n = 0;
	for (int i = 0; i < 99; i++) {
		memcpy(lng + n, "421-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 39);
		n += 39;
	}
	memcpy(lng + n, "421 z\r\n", 7);
	n += 7;
	assert_int_equal(relay_reply_parse(lng, n, &r), (int)n);
	assert_int_equal(strlen(r.text), RELAY_REPLY_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single),     cmocka_unit_test(test_multiline_ehlo),
	    cmocka_unit_test(test_incomplete), cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_sanitised),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
