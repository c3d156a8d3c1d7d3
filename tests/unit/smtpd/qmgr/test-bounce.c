/* test-bounce.c: the RFC 3464 bounce builder (smtpd/qmgr/bounce.c): the result
 * parses as multipart/report with the three expected parts, its fields are
 * exact, hostile diagnostic and header texts cannot inject lines or forge the
 * boundary, and the attached header section is cut where it must be. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "buf.h"
#include "mime.h"

#define NOW     1795706240 /* Thu, 26 Nov 2026 15:17:20 +0000 */
#define ARRIVAL (NOW - 5 * 86400 - 3 * 3600)
#define QID     "0005c5a3b1d2e3f40001abcdef"

static const char ORIG[] = "Received: from x by y; Thu, 21 Nov 2026 12:00:00 +0000\r\n"
                           "From: Alice <alice@example.org>\r\n"
                           "To: bob@remote.example\r\n"
                           "Subject: hello\r\n"
                           "\r\n"
                           "secret body line\r\n";

static struct bounce_info info(bool expired)
{
	struct bounce_info bi = {.hostname = "mx.example.org",
	                         .queue_id = "0005c5a3b1d2e3f40001abcd",
	                         .sender = "alice@example.org",
	                         .arrival = ARRIVAL,
	                         .now = NOW,
	                         .expired = expired};
	return bi;
}

/* The body text of a part (after its header). */
static char *part_body(const struct mime_message *m, const struct mime_part *p)
{
	char *s = malloc(p->body_len + 1);
	assert_non_null(s);
	memcpy(s, m->p + p->body_off, p->body_len);
	s[p->body_len] = '\0';
	return s;
}

static char *header_value(const struct mime_message *m, const struct mime_part *p, const char *n)
{
	const struct mime_hdr *h = mime_header_find(m, p, n);
	if (h == NULL)
		return NULL;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(mime_header_value(m, h, &b), 0);
	return buf_steal(&b);
}

static void assert_header(const struct mime_message *m, const struct mime_part *p, const char *n,
                          const char *want)
{
	char *v = header_value(m, p, n);
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

/* Every line ends with CRLF; no bare CR or LF, no NUL, no line over 998. */
static void assert_clean_lines(const struct buf *b)
{
	size_t linelen = 0;
	for (size_t i = 0; i < b->len; i++) {
		char c = b->data[i];
		assert_true(c != '\0');
		if (c == '\r') {
			assert_true(i + 1 < b->len && b->data[i + 1] == '\n');
		} else if (c == '\n') {
			assert_true(i > 0 && b->data[i - 1] == '\r');
			linelen = 0;
			continue;
		}
		linelen++;
		assert_true(linelen <= 998 + 1);
	}
	assert_true(b->len >= 2 && memcmp(b->data + b->len - 2, "\r\n", 2) == 0);
}

static void test_structure(void **state)
{
	(void)state;
	struct bounce_info bi = info(false);
	struct bounce_rcpt r[2] = {
	    {"bob@remote.example", "5.1.1", "550 5.1.1 <bob@remote.example>: no such user",
	     "mx.remote.example"},
	    {"carol@example.org", NULL, NULL, NULL},
	};
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(bounce_build(&out, &bi, r, 2, ORIG, sizeof(ORIG) - 1), 0);
	assert_clean_lines(&out);

	struct mime_message *m = mime_parse(out.data, out.len);
	assert_non_null(m);
	struct mime_part *root = m->root;
	assert_true(root->multipart);
	assert_string_equal(root->type, "multipart");
	assert_string_equal(root->subtype, "report");
	assert_header(m, root, "From", "MAILER-DAEMON@mx.example.org (Mail Delivery System)");
	assert_header(m, root, "To", "alice@example.org");
	assert_header(m, root, "Subject", "Undelivered Mail Returned to Sender");
	assert_header(m, root, "Date", "Thu, 26 Nov 2026 15:17:20 +0000");
	assert_header(m, root, "Message-ID",
	              "<20261126151720.0005c5a3b1d2e3f40001abcd.bounce@mx.example.org>");
	assert_header(m, root, "Auto-Submitted", "auto-replied");
	assert_header(m, root, "MIME-Version", "1.0");
	bool has_rt = false;
	for (size_t i = 0; i < root->n_params; i++)
		if (strcmp(root->params[i].name, "report-type") == 0) {
			assert_string_equal(root->params[i].value, "delivery-status");
			has_rt = true;
		}
	assert_true(has_rt);

	const struct mime_part *p1 = root->children;
	assert_non_null(p1);
	const struct mime_part *p2 = p1->next;
	assert_non_null(p2);
	const struct mime_part *p3 = p2->next;
	assert_non_null(p3);
	assert_null(p3->next);
	assert_string_equal(p1->type, "text");
	assert_string_equal(p1->subtype, "plain");
	assert_string_equal(p2->type, "message");
	assert_string_equal(p2->subtype, "delivery-status");
	assert_string_equal(p3->type, "text");
	assert_string_equal(p3->subtype, "rfc822-headers");

	char *human = part_body(m, p1);
	assert_non_null(strstr(human, "This is the mail system at host mx.example.org."));
	/* folded before the word that would pass 78 columns */
	assert_non_null(strstr(human, "<bob@remote.example>: host mx.remote.example said: 550 "
	                              "5.1.1\r\n    <bob@remote.example>: no such user\r\n"));
	assert_non_null(strstr(human, "<carol@example.org>: delivery failed (status 5.0.0)"));
	assert_null(strstr(human, "expired"));
	free(human);

	char *dsn = part_body(m, p2);
	assert_string_equal(dsn, "Reporting-MTA: dns; mx.example.org\r\n"
	                         "X-Loft-Queue-ID: 0005c5a3b1d2e3f40001abcd\r\n"
	                         "X-Loft-Sender: rfc822; alice@example.org\r\n"
	                         "Arrival-Date: Sat, 21 Nov 2026 12:17:20 +0000\r\n"
	                         "\r\n"
	                         "Final-Recipient: rfc822; bob@remote.example\r\n"
	                         "Action: failed\r\n"
	                         "Status: 5.1.1\r\n"
	                         "Remote-MTA: dns; mx.remote.example\r\n"
	                         "Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.example>: no such "
	                         "user\r\n"
	                         "\r\n"
	                         "Final-Recipient: rfc822; carol@example.org\r\n"
	                         "Action: failed\r\n"
	                         "Status: 5.0.0\r\n");
	free(dsn);

	/* the original header section, without the body */
	char *hdrs = part_body(m, p3);
	assert_string_equal(hdrs, "Received: from x by y; Thu, 21 Nov 2026 12:00:00 +0000\r\n"
	                          "From: Alice <alice@example.org>\r\n"
	                          "To: bob@remote.example\r\n"
	                          "Subject: hello\r\n");
	free(hdrs);
	assert_null(memmem(out.data, out.len, "secret body line", 16));
	mime_message_free(m);
	buf_free(&out);
}

static void test_expired(void **state)
{
	(void)state;
	struct bounce_info bi = info(true);
	struct bounce_rcpt r = {"bob@remote.example", "bogus", "451 try later", NULL};
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(bounce_build(&out, &bi, &r, 1, ORIG, sizeof(ORIG) - 1), 0);
	struct mime_message *m = mime_parse(out.data, out.len);
	assert_non_null(m);
	char *human = part_body(m, m->root->children);
	assert_non_null(strstr(human, "5 day(s) and 3 hour(s)"));
	assert_non_null(strstr(human, "expired"));
	free(human);
	char *dsn = part_body(m, m->root->children->next);
	/* a malformed status becomes the expiry code; no Remote-MTA when unknown */
	assert_non_null(strstr(dsn, "Status: 4.4.7\r\n"));
	assert_null(strstr(dsn, "Remote-MTA"));
	assert_non_null(strstr(dsn, "Diagnostic-Code: smtp; 451 try later\r\n"));
	free(dsn);
	mime_message_free(m);
	buf_free(&out);
}

static void test_injection(void **state)
{
	(void)state;
	struct bounce_info bi = info(false);
	bi.hostname = "mx.example.org\r\nBcc: victim@example.net";
	struct bounce_rcpt r = {"bob@remote.example\nX-Evil: 1", "5.1.1",
	                        "550 oops\r\nSubject: forged\r\n\r\n--=_loft_x\0", "mx\r\nX: y"};
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(bounce_build(&out, &bi, &r, 1, ORIG, sizeof(ORIG) - 1), 0);
	assert_clean_lines(&out);
	/* no injected line starts a field */
	assert_null(strstr(out.data, "\r\nBcc:"));
	assert_null(strstr(out.data, "\r\nX-Evil:"));
	assert_null(strstr(out.data, "\r\nSubject: forged"));
	assert_null(strstr(out.data, "\r\nX: y"));
	assert_non_null(strstr(out.data, "Diagnostic-Code: smtp; 550 oops??Subject: forged??"
	                                 "??"
	                                 "-"
	                                 "-=_loft_x"));
	assert_non_null(
	    strstr(out.data, "Final-Recipient: rfc822; bob@remote.example?X-Evil: 1\r\n"));
	struct mime_message *m = mime_parse(out.data, out.len);
	assert_non_null(m);
	char *subj = header_value(m, m->root, "Subject");
	assert_string_equal(subj, "Undelivered Mail Returned to Sender");
	free(subj);
	/* exactly three parts still */
	size_t parts = 0;
	for (const struct mime_part *p = m->root->children; p != NULL; p = p->next)
		parts++;
	assert_int_equal(parts, 3);
	mime_message_free(m);
	buf_free(&out);
}

/* Headers that contain the first boundary candidates cannot split the report. */
static void test_boundary_forgery(void **state)
{
	(void)state;
	struct bounce_info bi = info(false);
	struct buf orig;
	buf_init(&orig, 0);
	assert_int_equal(buf_append_str(&orig, "Subject: x\r\n"), 0);
	for (unsigned k = 0; k < 5; k++)
		assert_int_equal(
		    buf_printf(&orig, "X-F%u: a\r\n--=_loft_0005c5a3b1d2e3f40001abcd.%lld.%u\r\n",
		               k, (long long)NOW, k),
		    0);
	/* a bare LF, a lone CR and a NUL in the original header are repaired */
	static const char tail[] = "X-Bare: a\nX-CR: b\rc\r\nX-Nul: \0z\r\n\r\nbody\r\n";
	assert_int_equal(buf_append(&orig, tail, sizeof(tail) - 1), 0);
	struct bounce_rcpt r = {"bob@remote.example", "5.1.1", NULL, NULL};
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(bounce_build(&out, &bi, &r, 1, orig.data, orig.len), 0);
	assert_clean_lines(&out);
	assert_non_null(
	    strstr(out.data, "boundary=\"=_loft_0005c5a3b1d2e3f40001abcd.1795706240.5\""));
	assert_non_null(strstr(out.data, "X-Bare: a\r\nX-CR: b?c\r\nX-Nul: ?z\r\n"));
	struct mime_message *m = mime_parse(out.data, out.len);
	assert_non_null(m);
	size_t parts = 0;
	for (const struct mime_part *p = m->root->children; p != NULL; p = p->next)
		parts++;
	assert_int_equal(parts, 3);
	mime_message_free(m);
	buf_free(&out);
	buf_free(&orig);
}

static void test_folding_and_caps(void **state)
{
	(void)state;
	struct bounce_info bi = info(false);
	/* a long diagnostic with words, and one giant word */
	struct buf diag;
	buf_init(&diag, 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(buf_append_str(&diag, "word12345 "), 0);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(buf_append_str(&diag, "x"), 0);
	struct bounce_rcpt r = {"bob@remote.example", "5.7.1", diag.data, NULL};
	/* headers over the 64 KiB cap, then a body */
	struct buf orig;
	buf_init(&orig, 0);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(buf_printf(&orig, "X-Filler-%04d: %s\r\n", i,
		                            "0123456789012345678901234567890123456789"),
		                 0);
	assert_int_equal(buf_append_str(&orig, "\r\nbody\r\n"), 0);
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(bounce_build(&out, &bi, &r, 1, orig.data, orig.len), 0);
	assert_clean_lines(&out);
	/* the folded diagnostic: continuation lines start with a TAB */
	const char *d = strstr(out.data, "Diagnostic-Code: smtp; word12345");
	assert_non_null(d);
	const char *eol = strstr(d, "\r\n");
	assert_true(eol - d <= 78);
	assert_int_equal(eol[2], '\t');
	/* cut at BOUNCE_DIAG_MAX bytes: 400 of words + 600 x (minus prefix) */
	struct mime_message *m = mime_parse(out.data, out.len);
	assert_non_null(m);
	const struct mime_part *p3 = m->root->children->next->next;
	assert_true(p3->body_len <= BOUNCE_HEADERS_MAX + 4);
	assert_true(p3->body_len > BOUNCE_HEADERS_MAX - 100);
	char *hdrs = part_body(m, p3);
	assert_non_null(strstr(hdrs, "X-Filler-0000:"));
	assert_null(strstr(hdrs, "X-Filler-1999:"));
	assert_null(strstr(hdrs, "body"));
	free(hdrs);
	mime_message_free(m);
	buf_free(&out);
	buf_free(&orig);
	buf_free(&diag);
}

static void test_refusals(void **state)
{
	(void)state;
	struct bounce_info bi = info(false);
	struct bounce_rcpt r = {"bob@remote.example", "5.1.1", NULL, NULL};
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(buf_append_str(&out, "keep"), 0);
	bi.sender = ""; /* never bounce a bounce */
	assert_int_equal(bounce_build(&out, &bi, &r, 1, ORIG, sizeof(ORIG) - 1), -1);
	bi.sender = "alice@example.org";
	assert_int_equal(bounce_build(&out, &bi, &r, 0, ORIG, sizeof(ORIG) - 1), -1);
	assert_string_equal(out.data, "keep");
	buf_free(&out);
	/* a full buffer leaves out as it was */
	buf_init(&out, 100);
	assert_int_equal(buf_append_str(&out, "keep"), 0);
	assert_int_equal(bounce_build(&out, &bi, &r, 1, ORIG, sizeof(ORIG) - 1), -1);
	assert_int_equal(out.len, 4);
	assert_string_equal(out.data, "keep");
	buf_free(&out);
	/* no original at all: an empty header part, still valid */
	buf_init(&out, 0);
	assert_int_equal(bounce_build(&out, &bi, &r, 1, NULL, 0), 0);
	assert_clean_lines(&out);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_structure),        cmocka_unit_test(test_expired),
	    cmocka_unit_test(test_injection),        cmocka_unit_test(test_boundary_forgery),
	    cmocka_unit_test(test_folding_and_caps), cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
