/* fuzz-pop3-cmd.c: libFuzzer target for the POP3 command tokenizer (used by
 * pop3-login before auth and the POP3 session after it) and for the RETR/TOP
 * output conversion. Checks invariants, not just crashes: parsed words lie
 * inside the line, verbs are upper-case letters, and the message output is
 * the same however the input is split, never ends early, and its octets
 * (without stuffing) equal the ,W= size of the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "maildir.h"
#include "pop3-parse.h"
#include "pop3-private.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static int inside(const char *p, size_t len, const char *q, size_t qlen)
{
	return q >= p && q + qlen <= p + len;
}

static void fuzz_command(const char *p, size_t len)
{
	struct pop3_cmd c;
	enum pop3_parse_result r = pop3_parse_command(p, len, &c);
	check(pop3_parse_result_str(r) != NULL);
	if (r != POP3_PARSE_OK && r != POP3_PARSE_TOO_MANY_ARGS)
		return;
	size_t vl = strlen(c.verb);
	check(vl >= 1 && vl <= POP3_VERB_MAX && vl == c.verb_raw_len);
	for (size_t i = 0; i < vl; i++)
		check(c.verb[i] >= 'A' && c.verb[i] <= 'Z');
	check(c.argc <= POP3_ARGS_MAX);
	check(inside(p, len, c.rest, c.rest_len));
	for (unsigned i = 0; i < c.argc; i++) {
		check(c.arg_lens[i] > 0 && inside(p, len, c.args[i], c.arg_lens[i]));
		check(memchr(c.args[i], ' ', c.arg_lens[i]) == NULL);
		unsigned long n;
		if (pop3_parse_number(c.args[i], c.arg_lens[i], &n) == 0)
			check(n <= 4294967295UL);
	}
	const char *d;
	size_t dl;
	if (pop3_parse_continuation(p, len, 0, &d, &dl) == POP3_PARSE_OK)
		check(dl <= len && memchr(d, '\n', dl) == NULL);
}

static void convert(const char *p, size_t len, size_t split, int top, uint64_t lines,
                    struct buf *out, uint64_t *sent_r)
{
	struct pop3_stream st;
	pop3_stream_init(&st, top, lines);
	check(pop3_stream_feed(&st, p, split, out) == 0);
	check(pop3_stream_feed(&st, p + split, len - split, out) == 0);
	check(pop3_stream_finish(&st, out) == 0);
	*sent_r = st.sent;
}

static void fuzz_stream(const char *p, size_t len)
{
	if (len < 2)
		return;
	int top = p[0] & 1;
	uint64_t lines = (unsigned char)p[0] >> 1;
	size_t split = (unsigned char)p[1] % (len - 1);
	p += 2;
	len -= 2;
	struct buf a, b;
	uint64_t sa, sb;
	buf_init(&a, 0);
	buf_init(&b, 0);
	convert(p, len, 0, top, lines, &a, &sa);
	convert(p, len, split, top, lines, &b, &sb);
	check(a.len == b.len && memcmp(a.data, b.data, a.len) == 0 && sa == sb);
	/* the terminator is the only "CRLF . CRLF" and the text ends with it */
	check(a.len >= 3 && memcmp(a.data + a.len - 3, ".\r\n", 3) == 0);
	for (size_t i = 0; i + 5 <= a.len - 3; i++)
		check(memcmp(a.data + i, "\r\n.\r\n", 5) != 0);
	/* octets counted: every byte, bare LFs as two; the closing CRLF a
	 * last line without LF gets is extra, as in Dovecot */
	if (!top)
		check(sa == maildir_vsize(p, len));
	buf_free(&a);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_command((const char *)data, size);
	fuzz_stream((const char *)data, size);
	return 0;
}
