/* fuzz-relay-data.c: libFuzzer target for the relay's DATA encoder
 * (smtpd/relay/relay-data.h). The first byte picks a chunk size. Checks
 * invariants, not just crashes: the wire form is the same however the input
 * is split, stays within the growth bound, holds no bare CR or LF, and
 * smtpd's own DATA decoder reads it back as exactly one message, ending at
 * the last byte, equal to the input with its line ends made CRLF. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "relay-data.h"
#include "smtp-data.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static size_t encode(const char *p, size_t len, size_t chunk, char *out)
{
	struct relay_data_enc e;
	relay_data_init(&e);
	size_t o = 0;
	for (size_t i = 0; i < len; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;
		size_t w = relay_data_encode(&e, p + i, n, out + o);
		check(w <= RELAY_DATA_GROWTH * n);
		o += w;
	}
	size_t t = relay_data_finish(&e, out + o);
	check(t <= RELAY_DATA_TAIL);
	return o + t;
}

/* The input with every CRLF, bare CR and bare LF as CRLF, and a last CRLF. */
static void normalise(const char *p, size_t len, struct buf *b)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\r' || p[i] == '\n') {
			if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
				i++;
			check(buf_append(b, "\r\n", 2) == 0);
		} else {
			check(buf_append(b, p + i, 1) == 0);
		}
	}
	if (b->len > 0 && !(b->len >= 2 && b->data[b->len - 1] == '\n'))
		check(buf_append(b, "\r\n", 2) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = data[0] % 16 + 1;
	const char *p = (const char *)data + 1;
	size_t len = size - 1;
	size_t cap = RELAY_DATA_GROWTH * len + RELAY_DATA_TAIL;
	char *a = malloc(cap), *b = malloc(cap);
	check(a != NULL && b != NULL);
	size_t na = encode(p, len, len ? len : 1, a);
	size_t nb = encode(p, len, chunk, b);
	check(na == nb && memcmp(a, b, na) == 0);
	for (size_t i = 0; i < na; i++) {
		if (a[i] == '\r')
			check(i + 1 < na && a[i + 1] == '\n');
		if (a[i] == '\n')
			check(i > 0 && a[i - 1] == '\r');
	}
	/* smtpd reads DATA from right after the command's CRLF */
	struct smtp_data d;
	smtp_data_init(&d);
	struct buf dec, want;
	buf_init(&dec, 0);
	buf_init(&want, 0);
	size_t used = smtp_data_feed(&d, a, na, &dec);
	check(d.done && used == na && !d.bare_cr);
	normalise(p, len, &want);
	check(dec.len == want.len && (want.len == 0 || memcmp(dec.data, want.data, want.len) == 0));
	buf_free(&dec);
	buf_free(&want);
	free(a);
	free(b);
	return 0;
}
