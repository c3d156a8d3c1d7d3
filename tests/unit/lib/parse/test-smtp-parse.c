/* test-smtp-parse.c: unit tests for lib/parse/smtp-parse.c: command splitting,
 * MAIL/RCPT with ESMTP parameters, and the strict RFC 5321 address parser
 * (including OpenSMTPD CVE-2020-7247-style local parts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smtp-parse.h"

#define S(x) x, (sizeof(x) - 1)

static void test_cmd_verbs(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		enum smtp_verb verb;
	} cases[] = {
	    {"HELO x", SMTP_VERB_HELO},        {"ehlo x", SMTP_VERB_EHLO},
	    {"LhLo x", SMTP_VERB_LHLO},        {"MAIL FROM:<>", SMTP_VERB_MAIL},
	    {"RCPT TO:<a@b>", SMTP_VERB_RCPT}, {"DATA", SMTP_VERB_DATA},
	    {"BDAT 10", SMTP_VERB_BDAT},       {"RSET", SMTP_VERB_RSET},
	    {"NOOP", SMTP_VERB_NOOP},          {"QUIT", SMTP_VERB_QUIT},
	    {"VRFY a", SMTP_VERB_VRFY},        {"EXPN a", SMTP_VERB_EXPN},
	    {"HELP", SMTP_VERB_HELP},          {"STARTTLS", SMTP_VERB_STARTTLS},
	    {"AUTH PLAIN", SMTP_VERB_AUTH},    {"XYZZY", SMTP_VERB_UNKNOWN},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_cmd c;
		assert_int_equal(smtp_cmd_parse(cases[i].line, strlen(cases[i].line), &c),
		                 SMTP_PARSE_OK);
		assert_int_equal(c.verb, cases[i].verb);
	}
	assert_string_equal(smtp_verb_name(SMTP_VERB_LHLO), "LHLO");
}

static void test_cmd_args(void **state)
{
	(void)state;
	struct smtp_cmd c;
	assert_int_equal(smtp_cmd_parse(S("MAIL FROM:<a@b> SIZE=10  \r\n"), &c), SMTP_PARSE_OK);
	assert_int_equal(c.verb, SMTP_VERB_MAIL);
	assert_int_equal(c.args_len, strlen("FROM:<a@b> SIZE=10"));
	assert_memory_equal(c.args, "FROM:<a@b> SIZE=10", c.args_len);
	assert_int_equal(smtp_cmd_parse(S("DATA\n"), &c), SMTP_PARSE_OK);
	assert_int_equal(c.args_len, 0);
	assert_int_equal(smtp_cmd_parse(S("DATA \r\n"), &c), SMTP_PARSE_OK);
	assert_int_equal(c.args_len, 0);
}

static void test_cmd_bad(void **state)
{
	(void)state;
	struct smtp_cmd c;
	char big[SMTP_LINE_MAX + 10];
	assert_int_equal(smtp_cmd_parse(S("NOOP\0x\r\n"), &c), SMTP_PARSE_BAD_CHAR);
	assert_int_equal(smtp_cmd_parse(S("NOOP a\rb\r\n"), &c), SMTP_PARSE_BAD_CHAR);
	assert_int_equal(smtp_cmd_parse(S("NOOP a\nb\r\n"), &c), SMTP_PARSE_BAD_CHAR);
	assert_int_equal(smtp_cmd_parse(S("NOOP \x1b[2J"), &c), SMTP_PARSE_BAD_CHAR);
	assert_int_equal(smtp_cmd_parse(S("MAIL:FROM"), &c), SMTP_PARSE_SYNTAX);
	assert_int_equal(smtp_cmd_parse(S(""), &c), SMTP_PARSE_SYNTAX);
	assert_int_equal(smtp_cmd_parse(S(" NOOP"), &c), SMTP_PARSE_SYNTAX);
	memset(big, 'A', sizeof(big));
	assert_int_equal(smtp_cmd_parse(big, sizeof(big), &c), SMTP_PARSE_TOO_LONG);
	assert_int_equal(smtp_cmd_parse(big, SMTP_LINE_MAX - 2, &c), SMTP_PARSE_OK);
}

static enum smtp_parse_result path(const char *s, unsigned flags, struct smtp_addr *a)
{
	return smtp_path_parse(s, strlen(s), flags, a);
}

static void test_addr_valid(void **state)
{
	(void)state;
	struct smtp_addr a;
	assert_int_equal(path("<alice@Example.ORG>", 0, &a), SMTP_PARSE_OK);
	assert_string_equal(a.local, "alice");
	assert_string_equal(a.domain, "example.org");
	assert_string_equal(a.full, "alice@example.org");
	assert_false(a.quoted);
	assert_int_equal(path("<first.last+tag!#$%&'*/=?^_`{|}~-@a-b.c1>", 0, &a), SMTP_PARSE_OK);
	assert_string_equal(a.local, "first.last+tag!#$%&'*/=?^_`{|}~-");
	/* a quoted local part that is a plain dot-string normalises to it */
	assert_int_equal(path("<\"alice\"@example.org>", 0, &a), SMTP_PARSE_OK);
	assert_string_equal(a.full, "alice@example.org");
	assert_false(a.quoted);
	assert_int_equal(path("<\"john \\\"j\\\" doe\"@example.org>", 0, &a), SMTP_PARSE_OK);
	assert_string_equal(a.local, "john \"j\" doe");
	assert_string_equal(a.full, "\"john \\\"j\\\" doe\"@example.org");
	assert_true(a.quoted);
	assert_int_equal(path("<u@[192.0.2.1]>", 0, &a), SMTP_PARSE_OK);
	assert_string_equal(a.domain, "[192.0.2.1]");
	assert_int_equal(path("<u@[IPv6:2001:db8::1]>", 0, &a), SMTP_PARSE_OK);
	assert_int_equal(path("<@relay.example,@b.example:u@example.org>", 0, &a), SMTP_PARSE_OK);
	assert_string_equal(a.full, "u@example.org");
	assert_int_equal(path("<>", SMTP_ADDR_ALLOW_NULL, &a), SMTP_PARSE_OK);
	assert_true(a.null_path);
	assert_string_equal(a.full, "");
	assert_int_equal(path("<postmaster>", SMTP_ADDR_ALLOW_NODOMAIN, &a), SMTP_PARSE_OK);
	assert_false(a.has_domain);
	assert_string_equal(a.full, "postmaster");
	assert_int_equal(path("<j\xc3\xbcrgen@b\xc3\xbc"
	                      "cher.example>",
	                      SMTP_ADDR_ALLOW_UTF8, &a),
	                 SMTP_PARSE_OK);
	assert_true(a.utf8);
}

static void test_addr_limits(void **state)
{
	(void)state;
	struct smtp_addr a;
	char buf[600];
	/* local part: 64 ok, 65 refused */
	memset(buf, 0, sizeof(buf));
	buf[0] = '<';
	memset(buf + 1, 'a', 64);
	strcpy(buf + 65, "@x.org>");
	assert_int_equal(path(buf, 0, &a), SMTP_PARSE_OK);
	memset(buf + 1, 'a', 65);
	strcpy(buf + 66, "@x.org>");
	assert_int_not_equal(path(buf, 0, &a), SMTP_PARSE_OK);
	/* label of 63 ok, 64 refused */
	snprintf(buf, sizeof(buf), "<u@%.63s.org>",
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(path(buf, 0, &a), SMTP_PARSE_OK);
	snprintf(buf, sizeof(buf), "<u@%.64s.org>",
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(path(buf, 0, &a), SMTP_PARSE_ADDRESS);
	/* whole path over 256 */
	strcpy(buf, "<u@");
	for (int i = 0; i < 60; i++)
		strcat(buf, "abcd.");
	strcat(buf, "org>");
	assert_int_equal(path(buf, 0, &a), SMTP_PARSE_TOO_LONG);
}

static void test_addr_invalid(void **state)
{
	(void)state;
	struct smtp_addr a;
	static const char *bad[] = {
	    "<;sleep 66;@example.org>", /* CVE-2020-7247: ';' and ' ' are not atext */
	    "<a;b@example.org>",
	    "<a b@example.org>",
	    "<a..b@example.org>",
	    "<.a@example.org>",
	    "<a.@example.org>",
	    "<@example.org>",
	    "<a@>",
	    "<a@-x.org>",
	    "<a@x-.org>",
	    "<a@x..org>",
	    "<a@x.org.>",
	    "<a@x_y.org>",
	    "<a@[1.2.3]>",
	    "<a@[IPv6:zz::1]>",
	    "<a@[x]>",
	    "<\"a\rb\"@x.org>",
	    "<\"a\\\x01\"@x.org>",
	    "<\"\"@x.org>",
	    "<\"unterminated@x.org>",
	    "<a@b@c.org>",
	    "<a>",
	    "<>",
	    "<a\xc3\xbc@x.org>",
	    "<a@x.org",
	    "a@x.org",
	    "<a@x.org>>",
	    "<@bad_domain:a@x.org>",
	    "<a\x7f@x.org>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (path(bad[i], 0, &a) == SMTP_PARSE_OK)
			fail_msg("accepted bad address %zu: %s", i, bad[i]);
	}
	/* NUL anywhere is refused */
	assert_int_not_equal(smtp_path_parse(S("<a\0b@x.org>"), 0, &a), SMTP_PARSE_OK);
	assert_int_not_equal(smtp_path_parse(S("<\"a\0b\"@x.org>"), 0, &a), SMTP_PARSE_OK);
	/* invalid UTF-8 stays refused even when UTF-8 is allowed */
	assert_int_not_equal(path("<a\xc0\xaf@x.org>", SMTP_ADDR_ALLOW_UTF8, &a), SMTP_PARSE_OK);
	assert_int_not_equal(path("<a\xed\xa0\x80@x.org>", SMTP_ADDR_ALLOW_UTF8, &a),
	                     SMTP_PARSE_OK);
	assert_int_not_equal(path("<a\xe2\x82@x.org>", SMTP_ADDR_ALLOW_UTF8, &a), SMTP_PARSE_OK);
}

static void test_addr_cve_quoted(void **state)
{
	(void)state;
	struct smtp_addr a;
	/* Valid RFC 5321 as a quoted string: accepted as data, marked quoted,
	 * and written back quoted (never as a bare shell-looking token). */
	assert_int_equal(path("<\";sleep 66;\"@example.org>", 0, &a), SMTP_PARSE_OK);
	assert_string_equal(a.local, ";sleep 66;");
	assert_true(a.quoted);
	assert_string_equal(a.full, "\";sleep 66;\"@example.org");
}

static void test_mail(void **state)
{
	(void)state;
	struct smtp_mail m;
	assert_int_equal(smtp_mail_parse(S("FROM:<>"), &m), SMTP_PARSE_OK);
	assert_true(m.from.null_path);
	assert_int_equal(smtp_mail_parse(S("from: <a@b.org> SIZE=1234 BODY=8BITMIME SMTPUTF8"), &m),
	                 SMTP_PARSE_OK);
	assert_true(m.has_size);
	assert_int_equal(m.size, 1234);
	assert_int_equal(m.body, SMTP_BODY_8BITMIME);
	assert_true(m.smtputf8);
	assert_int_equal(smtp_mail_parse(S("FROM:<a@b.org> body=7bit"), &m), SMTP_PARSE_OK);
	assert_int_equal(m.body, SMTP_BODY_7BIT);
	assert_int_equal(smtp_mail_parse(S("FROM:<a@b.org> BODY=BINARYMIME"), &m),
	                 SMTP_PARSE_PARAM);
	assert_int_equal(smtp_mail_parse(S("FROM:<a@b.org> SIZE=1 SIZE=2"), &m), SMTP_PARSE_PARAM);
	assert_int_equal(smtp_mail_parse(S("FROM:<a@b.org> SIZE=99999999999999999999999"), &m),
	                 SMTP_PARSE_PARAM);
	assert_int_equal(smtp_mail_parse(S("FROM:<a@b.org> SIZE=12x"), &m), SMTP_PARSE_PARAM);
	assert_int_equal(smtp_mail_parse(S("FROM:<a@b.org> SIZE"), &m), SMTP_PARSE_PARAM);
	assert_int_equal(smtp_mail_parse(S("FROM:<a@b.org> SMTPUTF8=yes"), &m), SMTP_PARSE_PARAM);
	assert_int_equal(smtp_mail_parse(S("FROM:<a@b.org> XFOO=1"), &m), SMTP_PARSE_PARAM);
	assert_int_equal(smtp_mail_parse(S("FROM:<a@b.org>SIZE=1"), &m), SMTP_PARSE_SYNTAX);
	assert_int_equal(smtp_mail_parse(S("FROM:a@b.org"), &m), SMTP_PARSE_SYNTAX);
	assert_int_equal(smtp_mail_parse(S("TO:<a@b.org>"), &m), SMTP_PARSE_SYNTAX);
	assert_int_equal(smtp_mail_parse(S("FROM:<;sleep 66;@example.org>"), &m),
	                 SMTP_PARSE_ADDRESS);
	assert_int_equal(smtp_mail_parse(S("FROM:<j\xc3\xbc@b.org>"), &m), SMTP_PARSE_NEEDS_UTF8);
	assert_int_equal(smtp_mail_parse(S("FROM:<j\xc3\xbc@b.org> SMTPUTF8"), &m), SMTP_PARSE_OK);
	/* a '>' inside a quoted local part does not end the path */
	assert_int_equal(smtp_mail_parse(S("FROM:<\"a>b\"@x.org> SIZE=5"), &m), SMTP_PARSE_OK);
	assert_string_equal(m.from.local, "a>b");
	assert_int_equal(m.size, 5);
}

static void test_rcpt(void **state)
{
	(void)state;
	struct smtp_rcpt r;
	assert_int_equal(smtp_rcpt_parse(S("TO:<bob@x.org>"), false, 0, &r), SMTP_PARSE_OK);
	assert_string_equal(r.to.full, "bob@x.org");
	assert_int_equal(smtp_rcpt_parse(S("to: <bob@x.org>"), false, 0, &r), SMTP_PARSE_OK);
	assert_int_equal(smtp_rcpt_parse(S("TO:<>"), false, SMTP_ADDR_ALLOW_NULL, &r),
	                 SMTP_PARSE_ADDRESS);
	assert_int_equal(smtp_rcpt_parse(S("TO:<bob>"), false, 0, &r), SMTP_PARSE_ADDRESS);
	assert_int_equal(smtp_rcpt_parse(S("TO:<bob>"), false, SMTP_ADDR_ALLOW_NODOMAIN, &r),
	                 SMTP_PARSE_OK);
	assert_int_equal(smtp_rcpt_parse(S("TO:<bob@x.org> NOTIFY=NEVER"), false, 0, &r),
	                 SMTP_PARSE_PARAM);
	assert_int_equal(smtp_rcpt_parse(S("TO:<bob@x.org>x"), false, 0, &r), SMTP_PARSE_SYNTAX);
	assert_int_equal(smtp_rcpt_parse(S("FROM:<bob@x.org>"), false, 0, &r), SMTP_PARSE_SYNTAX);
	assert_int_equal(smtp_rcpt_parse(S("TO:<b\xc3\xbc@x.org>"), false, 0, &r),
	                 SMTP_PARSE_NEEDS_UTF8);
	assert_int_equal(smtp_rcpt_parse(S("TO:<b\xc3\xbc@x.org>"), true, 0, &r), SMTP_PARSE_OK);
	assert_int_equal(smtp_rcpt_parse(S("TO:<;sleep 66;@example.org>"), false, 0, &r),
	                 SMTP_PARSE_ADDRESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cmd_verbs),
	    cmocka_unit_test(test_cmd_args),
	    cmocka_unit_test(test_cmd_bad),
	    cmocka_unit_test(test_addr_valid),
	    cmocka_unit_test(test_addr_limits),
	    cmocka_unit_test(test_addr_invalid),
	    cmocka_unit_test(test_addr_cve_quoted),
	    cmocka_unit_test(test_mail),
	    cmocka_unit_test(test_rcpt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
