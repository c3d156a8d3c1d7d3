/* mime-decode.c: transfer and charset decoding of MIME bodies, and the day of
 * a Date: header, for SEARCH BODY/TEXT/SENT* (mime-decode.h). Lenient by
 * design: a message is searched as far as it can be understood. */
#include "mime-decode.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "mime-private.h"

int mime_decode_base64(const char *p, size_t len, struct buf *out)
{
	unsigned acc = 0, nbits = 0;
	for (size_t i = 0; i < len && p[i] != '='; i++) {
		int v = base64_value((unsigned char)p[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			char ch = (char)((acc >> nbits) & 0xff);
			if (buf_append(out, &ch, 1) < 0)
				return -1;
		}
	}
	return 0;
}

int mime_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mime_decode_qp(const char *p, size_t len, struct buf *out)
{
	size_t run = 0; /* start of bytes copied as they are */
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '=')
			continue;
		if (buf_append(out, p + run, i - run) < 0)
			return -1;
		size_t j = i + 1;
		while (j < len && (p[j] == ' ' || p[j] == '\t')) /* "= \n" is soft too */
			j++;
		if (j < len &&
		    (p[j] == '\n' || (p[j] == '\r' && j + 1 < len && p[j + 1] == '\n'))) {
			i = p[j] == '\r' ? j + 1 : j;
		} else if (i + 2 < len && mime_hexval(p[i + 1]) >= 0 &&
		           mime_hexval(p[i + 2]) >= 0) {
			char ch = (char)(mime_hexval(p[i + 1]) * 16 + mime_hexval(p[i + 2]));
			if (buf_append(out, &ch, 1) < 0)
				return -1;
			i += 2;
		} else if (j == len) {
			i = len - 1; /* a trailing '=' is a soft break at the end */
		} else {
			if (buf_append(out, "=", 1) < 0)
				return -1;
		}
		run = i + 1;
	}
	return buf_append(out, p + run, len - run);
}

static int latin1_to_utf8(const char *p, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		char u[2] = {(char)(0xc0 | (c >> 6)), (char)(0x80 | (c & 0x3f))};
		if (c < 0x80 ? buf_append(out, p + i, 1) < 0 : buf_append(out, u, 2) < 0)
			return -1;
	}
	return 0;
}

static int iconv_to_utf8(iconv_t cd, const char *p, size_t len, bool strict, struct buf *out)
{
	char *in = (char *)p, obuf[1024];
	size_t inleft = len;
	while (inleft > 0) {
		char *o = obuf;
		size_t oleft = sizeof(obuf);
		size_t r = iconv(cd, &in, &inleft, &o, &oleft);
		if (buf_append(out, obuf, sizeof(obuf) - oleft) < 0)
			return -1;
		if (r == (size_t)-1 && errno != E2BIG) {
			if (strict)
				return -1;
			/* invalid or truncated: one '?' for the byte, go on */
			if (buf_append(out, "?", 1) < 0)
				return -1;
			in++;
			inleft--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	return 0;
}

int mime_charset_convert(const char *charset, const char *p, size_t len, bool strict,
                         struct buf *out)
{
	if (charset == NULL || strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "us-ascii") == 0 || strcasecmp(charset, "utf8") == 0)
		return buf_append(out, p, len);
	if (strcasecmp(charset, "iso-8859-1") == 0 || strcasecmp(charset, "latin1") == 0 ||
	    strcasecmp(charset, "iso8859-1") == 0)
		return latin1_to_utf8(p, len, out);
	iconv_t cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return strict ? -1 : buf_append(out, p, len);
	int r = iconv_to_utf8(cd, p, len, strict, out);
	iconv_close(cd);
	return r;
}

int mime_charset_to_utf8(const char *charset, const char *p, size_t len, struct buf *out)
{
	return mime_charset_convert(charset, p, len, false, out);
}

static const char *part_charset(const struct mime_part *part)
{
	for (size_t i = 0; i < part->n_params; i++) {
		if (strcasecmp(part->params[i].name, "charset") == 0)
			return part->params[i].value;
	}
	return NULL;
}

int mime_part_text(const struct mime_message *m, const struct mime_part *part, struct buf *out)
{
	const char *body = m->p + part->body_off, *enc = part->encoding;
	struct buf raw;
	buf_init(&raw, 0);
	int r = 0;
	if (enc != NULL && strcasecmp(enc, "base64") == 0)
		r = mime_decode_base64(body, part->body_len, &raw);
	else if (enc != NULL && strcasecmp(enc, "quoted-printable") == 0)
		r = mime_decode_qp(body, part->body_len, &raw);
	else
		r = buf_append(&raw, body, part->body_len);
	if (r == 0)
		r = mime_charset_to_utf8(part_charset(part), raw.data != NULL ? raw.data : "",
		                         raw.len, out);
	buf_free(&raw);
	return r;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
static int64_t civil_days(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* The next run of letters or digits after blanks, commas and comments. */
static size_t next_token(const char *p, size_t len, size_t *i, const char **tok)
{
	while (*i < len) {
		char c = p[*i];
		if (c == '(') { /* skip a comment (not nested: good enough here) */
			while (*i < len && p[*i] != ')')
				(*i)++;
		} else if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
			break;
		}
		(*i)++;
	}
	*tok = p + *i;
	size_t n = 0;
	bool digit = *i < len && p[*i] >= '0' && p[*i] <= '9';
	while (*i < len) {
		char c = p[*i];
		bool d = c >= '0' && c <= '9', a = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
		if (!(digit ? d : a))
			break;
		(*i)++;
		n++;
	}
	return n;
}

static int number(const char *p, size_t n, int *v)
{
	if (n == 0 || n > 4)
		return -1;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v * 10 + (p[i] - '0');
	return p[0] >= '0' && p[0] <= '9' ? 0 : -1;
}

int mime_date_day(const char *p, size_t len, int64_t *day_r)
{
	static const char months[12][4] = {"jan", "feb", "mar", "apr", "may", "jun",
	                                   "jul", "aug", "sep", "oct", "nov", "dec"};
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t i = 0, n;
	const char *t;
	int d, y, m;
	n = next_token(p, len, &i, &t);
	if (n > 0 && !(t[0] >= '0' && t[0] <= '9')) /* the day name */
		n = next_token(p, len, &i, &t);
	if (number(t, n, &d) < 0)
		return -1;
	n = next_token(p, len, &i, &t);
	for (m = 0; m < 12; m++) {
		if (n == 3 && strncasecmp(t, months[m], 3) == 0)
			break;
	}
	if (m == 12)
		return -1;
	n = next_token(p, len, &i, &t);
	if (number(t, n, &y) < 0)
		return -1;
	if (n == 2)
		y += y < 50 ? 2000 : 1900;
	else if (n == 3)
		y += 1900; /* RFC 5322 4.3 obs-year */
	if (d < 1 || d > mdays[m])
		return -1;
	*day_r = civil_days(y, m + 1, d);
	return 0;
}
