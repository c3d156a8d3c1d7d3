/* test-relay-data.c: the relay's DATA encoder (smtpd/relay/relay-data.h):
 * CRLF kept, bare LF and bare CR sent as CRLF, a "." doubled after every
 * line end the receiver sees, the final ".", and any split of the input
 * encoding the same as the whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "relay-data.h"

/* Encode s in chunks of chunk bytes; the wire bytes, malloc'd. */
static char *encode(const char *s, size_t chunk, size_t *len_r)
{
	size_t len = strlen(s);
	char *out = malloc(RELAY_DATA_GROWTH * len + RELAY_DATA_TAIL + 1);
	assert_non_null(out);
	struct relay_data_enc e;
	relay_data_init(&e);
	size_t o = 0;
	for (size_t i = 0; i < len; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;
		o += relay_data_encode(&e, s + i, n, out + o);
	}
	o += relay_data_finish(&e, out + o);
	out[o] = '\0';
	*len_r = o;
	return out;
}

static void check(const char *s, const char *want)
{
	size_t len = strlen(s);
	for (size_t chunk = 1; chunk <= (len ? len : 1); chunk++) {
		size_t n;
		char *got = encode(s, chunk, &n);
		if (n != strlen(want) || memcmp(got, want, n) != 0)
			fail_msg("input %s chunk %zu: got %s", s, chunk, got);
		for (size_t i = 0; i < n; i++) {
			if (got[i] == '\r')
				assert_true(i + 1 < n && got[i + 1] == '\n');
			if (got[i] == '\n')
				assert_true(i > 0 && got[i - 1] == '\r');
		}
		free(got);
	}
}

static void test_crlf_and_stuffing(void **state)
{
	(void)state;
	check("", ".\r\n");
	check("a\r\nb\r\n", "a\r\nb\r\n.\r\n");
	check("a\r\nb", "a\r\nb\r\n.\r\n");
	check(".a\r\n.\r\n..\r\n", "..a\r\n..\r\n...\r\n.\r\n");
	check("x.y\r\n", "x.y\r\n.\r\n");
}

static void test_bare_line_ends(void **state)
{
	(void)state;
	/* the smuggling payloads: each "." after a line end is doubled, so the
	 * receiver never sees CRLF "." CRLF before the real end */
	check("body\r.\r\nMAIL FROM:<e@x>\r\n", "body\r\n..\r\nMAIL FROM:<e@x>\r\n.\r\n");
	check("body\n.\r\nMAIL FROM:<e@x>\r\n", "body\r\n..\r\nMAIL FROM:<e@x>\r\n.\r\n");
	check("body\n.\nRCPT\n", "body\r\n..\r\nRCPT\r\n.\r\n");
	check("a\r\rb", "a\r\n\r\nb\r\n.\r\n");
	check("a\r\r\n", "a\r\n\r\n.\r\n");
	check("a\n\r\n", "a\r\n\r\n.\r\n");
	check("a\r", "a\r\n.\r\n");
	check("\r.", "\r\n..\r\n.\r\n");
}

/* The worst case per byte (held CR, CRLF, stuffed dot) stays in bound. */
static void test_growth_bound(void **state)
{
	(void)state;
	char in[64];
	for (size_t i = 0; i < sizeof(in); i += 2) {
		in[i] = '\r';
		in[i + 1] = '.';
	}
	char out[RELAY_DATA_GROWTH * sizeof(in) + RELAY_DATA_TAIL];
	struct relay_data_enc e;
	relay_data_init(&e);
	size_t o = relay_data_encode(&e, in, sizeof(in), out);
	assert_true(o <= RELAY_DATA_GROWTH * sizeof(in));
	o += relay_data_finish(&e, out + o);
	assert_true(o <= sizeof(out));
	assert_memory_equal(out + o - 9, "\r\n..\r\n.\r\n", 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crlf_and_stuffing),
	    cmocka_unit_test(test_bare_line_ends),
	    cmocka_unit_test(test_growth_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
