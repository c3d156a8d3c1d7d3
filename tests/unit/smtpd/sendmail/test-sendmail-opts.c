/* test-sendmail-opts.c: the sendmail CLI's option parsing and recipient
 * collection (smtpd/sendmail/sendmail-opts.c): sendmail/Postfix option forms, mailq
 * by name, recipient arguments, and -t extraction from To/Cc/Bcc with folded
 * fields, groups and comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "sendmail-opts.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int parse(int argc, char **argv, struct sendmail_opts *o, struct buf *warn, struct buf *err)
{
	buf_reset(warn);
	buf_reset(err);
	return sendmail_opts_parse(argc, argv, o, warn, err);
}

static void test_options(void **state)
{
	(void)state;
	struct sendmail_opts o;
	struct buf w, e;
	buf_init(&w, 0);
	buf_init(&e, 0);

	char *a1[] = {"/usr/sbin/sendmail", "-t", "-i",          "-f",  "bounce@example.org", "-F",
	              "Joe User",           "-C", "/etc/x.conf", "bob", "carol@example.org"};
	assert_int_equal(parse(ARGC(a1), a1, &o, &w, &e), 0);
	assert_int_equal(o.mode, SENDMAIL_MODE_DELIVER);
	assert_true(o.extract_rcpts);
	assert_true(o.ignore_dots);
	assert_string_equal(o.sender, "bounce@example.org");
	assert_string_equal(o.fullname, "Joe User");
	assert_string_equal(o.config, "/etc/x.conf");
	assert_int_equal(o.n_rcpts, 2);
	assert_string_equal(o.rcpts[0], "bob");
	assert_string_equal(o.rcpts[1], "carol@example.org");
	assert_int_equal(w.len, 0);

	/* attached values, combined flags, -oi, harmless and unknown -o options */
	char *a2[] = {"sendmail", "-ti",           "-fme@x.org", "-FJoe", "-oi",   "-odi",
	              "-oem",     "-oQ/var/spool", "-v",         "-N",    "never", "-R",
	              "hdrs",     "-bm",           "--",         "-dash"};
	assert_int_equal(parse(ARGC(a2), a2, &o, &w, &e), 0);
	assert_true(o.extract_rcpts && o.ignore_dots && o.verbose);
	assert_string_equal(o.sender, "me@x.org");
	assert_string_equal(o.fullname, "Joe");
	assert_int_equal(o.n_rcpts, 1);
	assert_string_equal(o.rcpts[0], "-dash");
	assert_string_equal(w.data, "option -oQ/var/spool ignored\n");

	/* without -i, dots end input; -f "" is the null sender */
	char *a3[] = {"sendmail", "-f", "", "x@y.org"};
	assert_int_equal(parse(ARGC(a3), a3, &o, &w, &e), 0);
	assert_false(o.ignore_dots);
	assert_string_equal(o.sender, "");

	/* modes */
	char *a4[] = {"/usr/bin/mailq"};
	assert_int_equal(parse(ARGC(a4), a4, &o, &w, &e), 0);
	assert_int_equal(o.mode, SENDMAIL_MODE_LIST);
	assert_int_equal(o.n_rcpts, 0);
	char *a5[] = {"sendmail", "-bp"};
	assert_int_equal(parse(ARGC(a5), a5, &o, &w, &e), 0);
	assert_int_equal(o.mode, SENDMAIL_MODE_LIST);
	char *a6[] = {"sendmail", "-bs"};
	assert_int_equal(parse(ARGC(a6), a6, &o, &w, &e), 0);
	assert_int_equal(o.mode, SENDMAIL_MODE_SMTP);
	char *a7[] = {"sendmail", "-q"};
	assert_int_equal(parse(ARGC(a7), a7, &o, &w, &e), 0);
	assert_int_equal(o.mode, SENDMAIL_MODE_FLUSH);

	/* errors */
	char *b1[] = {"sendmail", "-f"};
	assert_int_equal(parse(ARGC(b1), b1, &o, &w, &e), -1);
	assert_string_equal(e.data, "option -f needs a value");
	char *b2[] = {"sendmail", "-Z", "x"};
	assert_int_equal(parse(ARGC(b2), b2, &o, &w, &e), -1);
	assert_string_equal(e.data, "unknown option -Z");
	char *b3[] = {"sendmail", "-bd"};
	assert_int_equal(parse(ARGC(b3), b3, &o, &w, &e), -1);
	assert_string_equal(e.data, "unsupported mode -bd");
	buf_free(&w);
	buf_free(&e);
}

static void expect_rcpts(const struct sendmail_rcpts *l, const char *const *want, size_t n)
{
	assert_int_equal(l->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l->v[i], want[i]);
}

static void test_rcpt_args(void **state)
{
	(void)state;
	struct sendmail_rcpts l = {0};
	struct buf e;
	buf_init(&e, 0);
	assert_int_equal(sendmail_rcpts_add_arg(&l, "bob", &e), 0);
	assert_int_equal(sendmail_rcpts_add_arg(&l, "<Carol@Example.ORG>", &e), 0);
	assert_int_equal(sendmail_rcpts_add_arg(&l, "a@x.org, Dan <d@y.org>", &e), 0);
	assert_int_equal(sendmail_rcpts_add_arg(&l, "\"john doe\"@x.org", &e), 0);
	static const char *const want[] = {"bob", "Carol@example.org", "a@x.org", "d@y.org",
	                                   "\"john doe\"@x.org"};
	expect_rcpts(&l, want, 5);
	/* invalid: nothing added, the text reported */
	assert_int_equal(sendmail_rcpts_add_arg(&l, "bad@@x.org", &e), 1);
	assert_int_equal(l.n, 5);
	buf_reset(&e);
	assert_int_equal(sendmail_rcpts_add_arg(&l, "ok@x.org, bad\x01@x.org", &e), 1);
	assert_int_equal(l.n, 5);
	buf_reset(&e);
	assert_int_equal(sendmail_rcpts_add_arg(&l, "", &e), 1);
	assert_int_equal(sendmail_rcpts_add_arg(&l, "a@b;rm -rf /", &e), 1);
	assert_int_equal(l.n, 5);
	sendmail_rcpts_free(&l);
	buf_free(&e);
}

static void test_rcpt_headers(void **state)
{
	(void)state;
	static const char hdr[] = "From: me@x.org\r\n"
	                          "To: Alice <alice@example.org>,\r\n"
	                          "\tbob@example.org (Bob, the builder)\r\n"
	                          "Subject: To: not@me.org\r\n"
	                          "CC: team: carol@example.org, \"Dan D\" <dan@example.org>;,\r\n"
	                          " undisclosed-recipients:;\r\n"
	                          "bcc: secret@example.org\r\n"
	                          "Reply-To: other@example.org\r\n"
	                          "Resent-To: no@example.org\r\n";
	struct sendmail_rcpts l = {0};
	struct buf e;
	buf_init(&e, 0);
	assert_int_equal(sendmail_rcpts_from_headers(&l, hdr, sizeof(hdr) - 1, &e), 0);
	static const char *const want[] = {"alice@example.org", "bob@example.org",
	                                   "carol@example.org", "dan@example.org",
	                                   "secret@example.org"};
	expect_rcpts(&l, want, 5);
	sendmail_rcpts_free(&l);

	/* a bad address in To: is an error */
	static const char bad[] = "To: ok@x.org, \"a\r\n b\"@x.org\r\n";
	assert_int_equal(sendmail_rcpts_from_headers(&l, bad, sizeof(bad) - 1, &e), 1);
	assert_int_equal(l.n, 0);
	/* no recipient fields: nothing */
	static const char none[] = "Subject: hi\r\n";
	assert_int_equal(sendmail_rcpts_from_headers(&l, none, sizeof(none) - 1, &e), 0);
	assert_int_equal(l.n, 0);
	sendmail_rcpts_free(&l);
	buf_free(&e);
}

static void test_addr_normalise(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(sendmail_addr_normalise("<>", 2, true, &b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(sendmail_addr_normalise("", 0, false, &b), -1);
	assert_int_equal(sendmail_addr_normalise(" <u@Ex.Org> ", 12, false, &b), 0);
	assert_string_equal(b.data, "u@ex.org");
	buf_reset(&b);
	assert_int_equal(sendmail_addr_normalise("u@x\r\nRCPT TO:<v@y>", 18, false, &b), -1);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_rcpt_args),
	    cmocka_unit_test(test_rcpt_headers),
	    cmocka_unit_test(test_addr_normalise),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
