/* test-smtp-data.c: the pure DATA decoder (smtpd/session/smtp-data.h): the
 * end only at CRLF "." CRLF, unstuffing, bare LF normalised, bare CR flagged
 * and never passed on, every smuggling vector, and any split of the input
 * decoding the same as the whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "smtp-data.h"

struct decoded {
	struct buf out;
	size_t used;
	bool done, bare_cr;
};

static void decode_split(const char *p, size_t len, size_t chunk, struct decoded *d)
{
	struct smtp_data st;
	smtp_data_init(&st);
	buf_init(&d->out, 0);
	d->used = 0;
	while (d->used < len && !st.done) {
		size_t n = len - d->used < chunk ? len - d->used : chunk;
		size_t u = smtp_data_feed(&st, p + d->used, n, &d->out);
		assert_true(u != (size_t)-1 && u <= n);
		d->used += u;
		if (u < n)
			assert_true(st.done); /* only the terminator stops it early */
	}
	d->done = st.done;
	d->bare_cr = st.bare_cr;
}

/* No CR without LF after it and no LF without CR before it. */
static void assert_no_bare(const struct buf *b)
{
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\r')
			assert_true(i + 1 < b->len && b->data[i + 1] == '\n');
		if (b->data[i] == '\n')
			assert_true(i > 0 && b->data[i - 1] == '\r');
	}
}

/* Decode s whole and in every chunk size 1..8: the same result each time. */
/* rest: the bytes after the terminator, left unconsumed. */
static void check(const char *s, const char *want, bool done, bool bare_cr, size_t rest)
{
	size_t len = strlen(s);
	for (size_t chunk = len ? len : 1; chunk >= 1; chunk = chunk > 8 ? 8 : chunk - 1) {
		struct decoded d;
		decode_split(s, len, chunk, &d);
		if (d.out.len != strlen(want) ||
		    memcmp(d.out.data ? d.out.data : "", want, d.out.len))
			fail_msg("input %s (chunk %zu): got %.*s", s, chunk, (int)d.out.len,
			         d.out.data ? d.out.data : "");
		assert_int_equal(d.done, done);
		assert_int_equal(d.bare_cr, bare_cr);
		assert_int_equal(d.used, len - rest);
		assert_no_bare(&d.out);
		buf_free(&d.out);
		if (chunk == 1)
			break;
	}
}

static void test_end_and_unstuffing(void **state)
{
	(void)state;
	check(".\r\n", "", true, false, 0);
	check("a\r\n.\r\nMAIL", "a\r\n", true, false, 4);
	check("..x\r\n.y\r\n.\r\n", ".x\r\ny\r\n", true, false, 0);
	check("a\r\n..\r\n.\r\n", "a\r\n.\r\n", true, false, 0);
	check("a\r\n", "a\r\n", false, false, 0);
}

static void test_bare_lf_normalised(void **state)
{
	(void)state;
	/* <LF>.<CR><LF>, <LF>.<LF>: content, never the end, no unstuffing */
	check("x\n.\r\nMAIL FROM:<a@b>\r\n.\r\n", "x\r\n.\r\nMAIL FROM:<a@b>\r\n", true, false, 0);
	check("x\r\n.\nRCPT\r\n.\r\n", "x\r\n.\r\nRCPT\r\n", true, false, 0);
	check("x\n.\n", "x\r\n.\r\n", false, false, 0);
	check("\n..\r\n.\r\n", "\r\n..\r\n", true, false, 0);
}

static void test_bare_cr_flagged(void **state)
{
	(void)state;
	/* <CR>.<CR><LF>: the smuggling vector of CVE-2023-51764 */
	check("body\r.\r\nMAIL FROM:<e@x>\r\n.\r\n", "body\r\n.\r\nMAIL FROM:<e@x>\r\n", true, true,
	      0);
	check("a\rb\r\n.\r\n", "a\r\nb\r\n", true, true, 0);
	check("a\r\r\n.\r\n", "a\r\n\r\n", true, true, 0);
	check(".\r.\r\n.\r\n", "\r\n.\r\n", true, true, 0); /* ".\r" + more: no end */
	check("a\r\n.\r.\r\n.\r\n", "a\r\n\r\n.\r\n", true, true, 0);
	check("x\r", "x", false, false, 0); /* the CR is held back: LF may follow */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_end_and_unstuffing),
	    cmocka_unit_test(test_bare_lf_normalised),
	    cmocka_unit_test(test_bare_cr_flagged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
