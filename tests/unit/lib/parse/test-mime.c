/* test-mime.c: the MIME parser's pieces: part tree offsets and line counts,
 * header access and unfolding, Content-* parameters with RFC 2231, RFC 2047
 * decoding, address lists, IMAP quoting, and the explicit limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap-fetch-render.h"
#include "mime.h"

static struct mime_message *parse(const char *s)
{
	struct mime_message *m = mime_parse(s, strlen(s));

	assert_non_null(m);
	return m;
}

static void test_tree_offsets(void **state)
{
	(void)state;
	const char *msg = "Content-Type: multipart/mixed; boundary=b\n\npre\n--b\n\none\n"
	                  "--b\nContent-Type: text/html\n\n<p>\n\n--b--\nepi\n";
	struct mime_message *m = parse(msg);
	const struct mime_part *root = m->root, *c1 = root->children, *c2 = c1->next;

	assert_true(root->multipart);
	assert_true(root->epilogue);
	assert_int_equal(m->n_parts, 3);
	assert_int_equal(root->hdr_len, 43);
	assert_int_equal(root->body_off, 43);
	assert_int_equal(root->body_len, strlen(msg) - 43);
	/* an empty header: the part starts with its blank line */
	assert_int_equal(c1->hdr_len, 1);
	assert_memory_equal(msg + c1->body_off, "one", 3);
	assert_int_equal(c1->body_len, 3); /* the LF before --b is the boundary's */
	assert_int_equal(c1->body_lines, 0);
	assert_string_equal(c2->type, "text");
	assert_string_equal(c2->subtype, "html");
	assert_int_equal(c2->body_len, 4);
	assert_int_equal(c2->body_lines, 1);
	assert_null(c2->next);
	assert_false(m->limited);
	mime_message_free(m);
}

static void test_header_access(void **state)
{
	(void)state;
	const char *msg =
	    "Subject: one\n\ttwo\r\n  three\nX-A : b\nsubject: again\nno colon\n\nbody";
	struct mime_message *m = parse(msg);
	const struct mime_hdr *h = mime_header_find(m, m->root, "SUBJECT");
	struct buf b;

	assert_non_null(h);
	assert_int_equal(h->off, 0);
	buf_init(&b, 0);
	assert_int_equal(mime_header_value(m, h, &b), 0);
	assert_string_equal(b.data, "one\ttwo  three");
	buf_reset(&b);
	h = mime_header_find(m, m->root, "x-a");
	assert_non_null(h);
	assert_int_equal(mime_header_value(m, h, &b), 0);
	assert_string_equal(b.data, "b");
	assert_int_equal(m->root->n_hdrs, 4);
	assert_null(mime_header_find(m, m->root, "no colon"));
	assert_string_equal(msg + m->root->body_off, "body");
	buf_free(&b);
	mime_message_free(m);
}

static void test_content_fields(void **state)
{
	(void)state;
	const char *msg = "Content-Type: Application/X-Thing (comment) ; a=\"q\\\"v\" ;\n"
	                  " t*2=c; t*0=a; t*1=\"b\"; u*0*=utf-8''%C3%A4; u*1=x; broken\n"
	                  "Content-Type: text/plain\nContent-Transfer-Encoding: (c) Base64\n"
	                  "Content-Disposition: attachment; filename=\"r.pdf\"\n"
	                  "Content-Language: en, (x) de-CH\nContent-Location: http://x/\n y\n\n";
	struct mime_message *m = parse(msg);
	const struct mime_part *p = m->root;

	assert_string_equal(p->type, "Application");
	assert_string_equal(p->subtype, "X-Thing");
	assert_int_equal(p->n_params, 3);
	assert_string_equal(p->params[0].name, "a");
	assert_string_equal(p->params[0].value, "q\"v");
	assert_string_equal(p->params[1].name, "t");
	assert_string_equal(p->params[1].value, "abc");
	assert_string_equal(p->params[2].name, "u*");
	assert_string_equal(p->params[2].value, "utf-8''%C3%A4x");
	assert_string_equal(p->encoding, "Base64");
	assert_string_equal(p->disposition, "attachment");
	assert_string_equal(p->disp_params[0].value, "r.pdf");
	assert_int_equal(p->n_languages, 2);
	assert_string_equal(p->languages[1], "de-CH");
	assert_string_equal(p->location, "http://x/ y");
	mime_message_free(m);
}

static void check_decode(const char *in, const char *want)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(mime_decode_words(in, strlen(in), &b), 0);
	assert_string_equal(b.data != NULL ? b.data : "", want);
	buf_free(&b);
}

static void test_encoded_words(void **state)
{
	(void)state;
	check_decode("=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus?= M\xc3\xbcnchen", "Grüße aus München");
	check_decode("=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard");
	check_decode("=?utf-8?b?w6TDtsO8?=  =?utf-8?B?IQ==?= end", "äöü! end");
	check_decode("=?iso-8859-15*de?q?=A4?=", "€");
	check_decode("plain  text", "plain  text");
	check_decode("=?bogus-charset?q?x?= =?utf-8?q?bad", "=?bogus-charset?q?x?= =?utf-8?q?bad");
	check_decode("=?utf-8?b?!!!?=", "=?utf-8?b?!!!?=");
	check_decode("", "");
}

static void check_addr(const char *in, size_t n, const char *const *want)
{
	struct mime_address *a;
	size_t got;

	assert_int_equal(mime_address_parse(in, strlen(in), &a, &got), 0);
	assert_int_equal(got, n);
	for (size_t i = 0; i < n; i++) {
		const char *f[4] = {a[i].name, a[i].route, a[i].mailbox, a[i].domain};
		for (int k = 0; k < 4; k++) {
			if (want[i * 4 + k] == NULL)
				assert_null(f[k]);
			else
				assert_string_equal(f[k], want[i * 4 + k]);
		}
	}
	mime_address_free(a, got);
}

static void test_addresses(void **state)
{
	(void)state;
	const char *w1[] = {"J. Doe", NULL, "j.doe", "x.example", NULL, NULL, "bob", "y.example"};
	check_addr("\"J. Doe\" <j.doe@x.example>, bob@y.example", 2, w1);
	const char *w2[] = {NULL, NULL, "team", NULL, NULL, NULL, "a", "b", NULL, NULL, NULL, NULL};
	check_addr("team: a@b;", 3, w2);
	const char *w3[] = {"Who", "@r1,@r2", "u", "h"};
	check_addr("Who <@r1,@r2:u@h>", 1, w3);
	const char *w4[] = {"the name", NULL, "u", "h"};
	check_addr("u@h (the name)", 1, w4);
	struct mime_address *a;
	size_t n;
	assert_int_equal(mime_address_parse("", 0, &a, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(mime_address_parse(",,;<<>>@@\"", 10, &a, &n), 0);
	mime_address_free(a, n);
}

static void check_quote(const char *in, size_t len, const char *want, bool humans)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(humans ? imap_append_string_for_humans(&b, in, len)
	                        : imap_append_nstring(&b, in, len),
	                 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	buf_free(&b);
}

static void test_quoting(void **state)
{
	(void)state;
	check_quote(NULL, 0, "NIL", false);
	check_quote("", 0, "\"\"", false);
	check_quote("a \"b\" \\c", 8, "\"a \\\"b\\\" \\\\c\"", false);
	check_quote("\"\"\"\"\"", 5, "{5}\r\n\"\"\"\"\"", false);
	check_quote("caf\xc3\xa9", 5, "{5}\r\ncaf\xc3\xa9", false);
	check_quote("a\r\nb", 4, "{4}\r\na\r\nb", false);
	check_quote("plain words", 11, "\"plain words\"", true);
	check_quote("  two   spaces\n\tfold ", 21, "{15}\r\ntwo spaces fold", true);
	check_quote("say \"hi\"", 8, "{8}\r\nsay \"hi\"", true);
	check_quote("   ", 3, "\"\"", true);
}

/* Parts, headers and field length are bounded; nothing crashes. */
static void test_limits(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, 0);
	buf_append_str(&b, "Content-Type: multipart/mixed; boundary=x\n\n");
	for (int i = 0; i < MIME_MAX_PARTS + 50; i++)
		buf_append_str(&b, "--x\n\nq\n");
	struct mime_message *m = parse(b.data);
	assert_true(m->limited);
	assert_int_equal(m->n_parts, MIME_MAX_PARTS);
	mime_message_free(m);

	buf_reset(&b);
	for (int i = 0; i < MIME_MAX_HEADERS + 10; i++)
		buf_printf(&b, "X-H%d: v\n", i);
	buf_append_str(&b, "Subject: ");
	for (int i = 0; i < MIME_MAX_FIELD_LEN; i++)
		buf_append(&b, "s", 1);
	buf_append_str(&b, "\n\nbody\n");
	m = parse(b.data);
	assert_true(m->limited);
	assert_int_equal(m->root->n_hdrs, MIME_MAX_HEADERS);
	assert_null(mime_header_find(m, m->root, "subject"));
	assert_string_equal(m->p + m->root->body_off, "body\n");
	mime_message_free(m);

	/* message/rfc822 nested 1000 deep stops at MIME_MAX_DEPTH */
	buf_reset(&b);
	for (int i = 0; i < 1000; i++)
		buf_append_str(&b, "Content-Type: message/rfc822\n\n");
	m = parse(b.data);
	assert_true(m->limited);
	assert_int_equal(m->n_parts, MIME_MAX_DEPTH);
	const struct mime_part *p = m->root;
	while (p->children != NULL)
		p = p->children;
	assert_true(p->opaque);
	assert_string_equal(p->type, "application");
	mime_message_free(m);
	buf_free(&b);
}

static void test_empty_and_odd(void **state)
{
	(void)state;
	const char *odd[] = {"",
	                     "\n",
	                     "\r\n",
	                     "x",
	                     "--",
	                     "Content-Type: multipart/x; boundary=\"\"\n\n--\n",
	                     "Content-Type: message/rfc822\n\n",
	                     "Content-Type: multipart/a; boundary=a\n"};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		struct mime_message *m = parse(odd[i]);
		struct buf b;
		buf_init(&b, 0);
		assert_int_equal(imap_bodystructure_render(m, m->root, true, &b), 0);
		assert_int_equal(imap_envelope_render(m, m->root, &b), 0);
		assert_true(b.len > 0);
		assert_true(m->root->body_off + m->root->body_len <= strlen(odd[i]));
		buf_free(&b);
		mime_message_free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree_offsets),   cmocka_unit_test(test_header_access),
	    cmocka_unit_test(test_content_fields), cmocka_unit_test(test_encoded_words),
	    cmocka_unit_test(test_addresses),      cmocka_unit_test(test_quoting),
	    cmocka_unit_test(test_limits),         cmocka_unit_test(test_empty_and_odd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
