/* test-sendmail-input.c: the sendmail CLI's message handling
 * (smtpd/sendmail/sendmail-input.c): LF to CRLF, the "." end line with and without
 * -i, the header scan, Bcc removal with continuation lines, and the From,
 * Date and Message-ID fields added when missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "sendmail-input.h"

#define NOW 1795706240 /* Thu, 26 Nov 2026 15:17:20 +0000 */
#define QID "0005c5a3b1d2e3f40001abcd"

/* Feed text line by line as the CLI does with getline. */
static int feed(const char *text, bool ignore_dots, struct buf *out)
{
	const char *p = text;
	size_t len = strlen(text);
	while (len > 0) {
		const char *nl = memchr(p, '\n', len);
		size_t n = nl != NULL ? (size_t)(nl - p) + 1 : len;
		int r = sendmail_input_line(p, n, ignore_dots, out);
		if (r != 0)
			return r;
		p += n;
		len -= n;
	}
	return 0;
}

static void test_lines(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(feed("a\nb\r\n\nlast", false, &b), 0);
	assert_string_equal(b.data, "a\r\nb\r\n\r\nlast\r\n");

	/* without -i a lone "." ends the input; ".." and ". " do not */
	buf_reset(&b);
	assert_int_equal(feed("x\n..\n. \n.\nafter\n", false, &b), 1);
	assert_string_equal(b.data, "x\r\n..\r\n. \r\n");
	buf_reset(&b);
	assert_int_equal(feed("x\r\n.\r\nafter\n", false, &b), 1);
	assert_string_equal(b.data, "x\r\n");
	buf_reset(&b);
	assert_int_equal(feed("x\n.", false, &b), 1); /* "." at EOF without LF */
	/* with -i the dot is just a line */
	buf_reset(&b);
	assert_int_equal(feed("x\n.\nafter\n", true, &b), 0);
	assert_string_equal(b.data, "x\r\n.\r\nafter\r\n");
	buf_free(&b);

	/* a full buffer is -1 */
	buf_init(&b, 5);
	assert_int_equal(feed("abc\n", false, &b), 0);
	assert_int_equal(feed("d\n", false, &b), -1);
	buf_free(&b);
}

/* Issue 18: no bare CR or LF reaches the queue; a CR inside a line (the
 * <CR>.<CR><LF> smuggling vector) becomes a line end, and the "." after it
 * is content, not the end of the input. */
static void test_bare_cr_normalised(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(feed("body\r.\r\nMAIL FROM:<e@x>\n", false, &b), 0);
	assert_string_equal(b.data, "body\r\n.\r\nMAIL FROM:<e@x>\r\n");
	buf_reset(&b);
	assert_int_equal(feed("a\r\rb\r\r\nc\r", false, &b), 0);
	assert_string_equal(b.data, "a\r\n\r\nb\r\n\r\nc\r\n");
	buf_reset(&b);
	assert_int_equal(feed("\r\n", false, &b), 0);
	assert_string_equal(b.data, "\r\n");
	buf_free(&b);
}

static void test_scan(void **state)
{
	(void)state;
	struct sendmail_header_info h;
	const char *m1 = "Subject: a\r\n\tfolded\r\nDATE: x\r\nfrom: y\r\n\r\nbody\r\n";
	sendmail_header_scan(m1, strlen(m1), &h);
	assert_int_equal(h.header_len, strlen("Subject: a\r\n\tfolded\r\nDATE: x\r\nfrom: y\r\n"));
	assert_int_equal(h.body_off, h.header_len + 2);
	assert_true(h.has_date && h.has_from);
	assert_false(h.has_message_id);

	/* no header at all: everything is body */
	const char *m2 = "just text\r\nTo: x\r\n";
	sendmail_header_scan(m2, strlen(m2), &h);
	assert_int_equal(h.header_len, 0);
	assert_int_equal(h.body_off, 0);
	/* headers then a non-header line without the empty line */
	const char *m3 = "To: x\r\nthis is body\r\n";
	sendmail_header_scan(m3, strlen(m3), &h);
	assert_int_equal(h.header_len, 7);
	assert_int_equal(h.body_off, 7);
	/* a message of headers only */
	const char *m4 = "To: x\r\nMessage-Id: <a@b>\r\n";
	sendmail_header_scan(m4, strlen(m4), &h);
	assert_int_equal(h.header_len, strlen(m4));
	assert_true(h.has_message_id);
	sendmail_header_scan("", 0, &h);
	assert_int_equal(h.header_len, 0);
}

static void test_build(void **state)
{
	(void)state;
	struct sendmail_add a = {.from = "joe@host.example",
	                         .fullname = NULL,
	                         .hostname = "host.example",
	                         .queue_id = QID,
	                         .now = NOW};
	struct sendmail_header_info h;
	struct buf out;
	buf_init(&out, 0);

	const char *m = "To: a@x.org\r\nBcc: s1@x.org,\r\n s2@x.org\r\nSubject: hi\r\n"
	                "bcc:s3@x.org\r\nCc: c@x.org\r\n\r\nBcc: body text stays\r\n";
	sendmail_header_scan(m, strlen(m), &h);
	assert_int_equal(sendmail_header_build(&out, m, &h, &a), 0);
	assert_string_equal(out.data, "To: a@x.org\r\nSubject: hi\r\nCc: c@x.org\r\n"
	                              "From: joe@host.example\r\n"
	                              "Date: Thu, 26 Nov 2026 15:17:20 +0000\r\n"
	                              "Message-ID: <20261126151720." QID "@host.example>\r\n"
	                              "\r\n");
	assert_string_equal(m + h.body_off, "Bcc: body text stays\r\n");

	/* present fields are kept, nothing added; -F with specials gets quoted */
	buf_reset(&out);
	const char *m2 = "From: x@y\r\nDate: d\r\nMessage-ID: <i@d>\r\n\r\n";
	sendmail_header_scan(m2, strlen(m2), &h);
	assert_int_equal(sendmail_header_build(&out, m2, &h, &a), 0);
	assert_string_equal(out.data, "From: x@y\r\nDate: d\r\nMessage-ID: <i@d>\r\n\r\n");

	buf_reset(&out);
	a.fullname = "Joe Q. \"Jr\" User\r\nBcc: evil@x";
	const char *m3 = "Date: d\r\nMessage-ID: <i@d>\r\nno empty line before body\r\n";
	sendmail_header_scan(m3, strlen(m3), &h);
	assert_int_equal(sendmail_header_build(&out, m3, &h, &a), 0);
	assert_string_equal(
	    out.data, "Date: d\r\nMessage-ID: <i@d>\r\n"
	              "From: \"Joe Q. \\\"Jr\\\" User??Bcc: evil@x\" <joe@host.example>\r\n\r\n");
	assert_string_equal(m3 + h.body_off, "no empty line before body\r\n");

	buf_reset(&out);
	a.fullname = "Joe User";
	sendmail_header_scan("", 0, &h);
	assert_int_equal(sendmail_header_build(&out, "", &h, &a), 0);
	assert_non_null(strstr(out.data, "From: Joe User <joe@host.example>\r\n"));
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_bare_cr_normalised),
	    cmocka_unit_test(test_scan),
	    cmocka_unit_test(test_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
