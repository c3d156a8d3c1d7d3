/* mime-encoded.c: RFC 2047 encoded-word decoding to UTF-8, for SEARCH on
 * header text (ENVELOPE keeps the words raw). Charsets are converted strictly
 * (mime_charset_convert): a word that cannot be decoded is kept as written. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "mime-private.h"

/* Q encoding: '_' is a space, =XX a byte. */
static int decode_q(const char *p, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		char ch = p[i];
		if (ch == '_') {
			ch = ' ';
		} else if (ch == '=' && i + 2 < len && mime_hexval(p[i + 1]) >= 0 &&
		           mime_hexval(p[i + 2]) >= 0) {
			ch = (char)(mime_hexval(p[i + 1]) * 16 + mime_hexval(p[i + 2]));
			i += 2;
		}
		if (buf_append(out, &ch, 1) < 0)
			return -1;
	}
	return 0;
}

/* B encoding; lenient about missing padding, as mail in the wild is. */
static int decode_b(const char *p, size_t len, struct buf *out)
{
	char tmp[80];
	unsigned char dec[60];
	size_t n;

	if (len > 76 || len == 0)
		return -1;
	memcpy(tmp, p, len);
	while (len % 4 != 0)
		tmp[len++] = '=';
	if (base64_decode(tmp, len, dec, &n) < 0)
		return -1;
	return buf_append(out, dec, n);
}

/* Try an encoded-word at p: =?charset[*lang]?B|Q?text?= ; returns its length
 * (decoded into out) or 0 when it is not one. */
static size_t encoded_word(const char *p, size_t len, struct buf *out)
{
	if (len < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	const char *q1 = memchr(p + 2, '?', len - 2);
	if (q1 == NULL || q1 + 3 >= p + len || q1[2] != '?')
		return 0;
	const char *text = q1 + 3, *end = p + len;
	const char *stop = text;
	while (stop + 1 < end && !(stop[0] == '?' && stop[1] == '=')) {
		if (*stop == ' ' || *stop == '\t' || *stop == '\n' || *stop == '\r')
			return 0;
		stop++;
	}
	if (stop + 1 >= end || q1 - (p + 2) > 64)
		return 0;
	char charset[65];
	size_t cl = (size_t)(q1 - (p + 2));
	memcpy(charset, p + 2, cl);
	charset[cl] = '\0';
	char *star = strchr(charset, '*'); /* RFC 2231 language suffix */
	if (star != NULL)
		*star = '\0';
	struct buf raw;
	buf_init(&raw, 0);
	int r = -1;
	if (q1[1] == 'Q' || q1[1] == 'q')
		r = decode_q(text, (size_t)(stop - text), &raw);
	else if (q1[1] == 'B' || q1[1] == 'b')
		r = decode_b(text, (size_t)(stop - text), &raw);
	size_t before = out->len;
	if (r == 0)
		r = mime_charset_convert(charset, raw.data != NULL ? raw.data : "", raw.len, true,
		                         out);
	buf_free(&raw);
	if (r < 0) {
		out->len = before; /* keep the word as written */
		if (out->data != NULL)
			out->data[before] = '\0';
		return 0;
	}
	return (size_t)(stop + 2 - p);
}

int mime_decode_words(const char *p, size_t len, struct buf *out)
{
	size_t i = 0, pending_ws = 0, ws_start = 0;
	bool last_word = false;

	while (i < len) {
		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n') {
			if (pending_ws == 0)
				ws_start = i;
			pending_ws++;
			i++;
			continue;
		}
		/* blanks between two encoded-words vanish (RFC 2047 6.2) */
		struct buf word;
		buf_init(&word, 0);
		size_t n = encoded_word(p + i, len - i, &word);
		int r = 0;
		if (pending_ws > 0 && !(n > 0 && last_word))
			r = buf_append(out, p + ws_start, pending_ws);
		if (r == 0 && n > 0)
			r = buf_append(out, word.data != NULL ? word.data : "", word.len);
		buf_free(&word);
		pending_ws = 0;
		if (n == 0) {
			/* a plain word runs to the next blank */
			size_t s = i;
			while (i < len && p[i] != ' ' && p[i] != '\t' && p[i] != '\r' &&
			       p[i] != '\n')
				i++;
			r = r == 0 ? buf_append(out, p + s, i - s) : r;
			last_word = false;
		} else {
			i += n;
			last_word = true;
		}
		if (r < 0)
			return -1;
	}
	if (pending_ws > 0)
		return buf_append(out, p + ws_start, pending_ws);
	return 0;
}
