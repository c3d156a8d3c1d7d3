/* imap-parse-mutf7.c: mailbox name helpers for the IMAP session: modified
 * UTF-7 (RFC 3501 section 5.1.3) to and from UTF-8, strict both ways so one
 * folder has one wire name, and the case-insensitive INBOX test. */
#include "imap-parse.h"

#include "base64.h"

#include <strings.h>

static int put_utf8(struct buf *out, uint32_t cp)
{
	unsigned char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(out, u, n);
}

/* One "&...-" run starting after the '&'; *i ends after the '-'. */
static int decode_run(const char *p, size_t len, size_t *i, struct buf *out)
{
	uint32_t bits = 0, hi = 0;
	unsigned nbits = 0, units = 0;
	for (; *i < len && p[*i] != '-'; (*i)++) {
		int v = base64_value_in(base64_imap_alphabet, (unsigned char)p[*i]);
		if (v < 0)
			return -1;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = (bits >> nbits) & 0xffff;
		bits &= (1u << nbits) - 1;
		units++;
		if (hi != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return -1;
			if (put_utf8(out, 0x10000 + ((hi - 0xd800) << 10) + (u - 0xdc00)) < 0)
				return -1;
			hi = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			hi = u;
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			return -1;
		} else if (u < 0x20 || (u >= 0x20 && u < 0x7f) || u == 0x7f) {
			return -1; /* controls are refused, printable ASCII must be direct */
		} else if (put_utf8(out, u) < 0) {
			return -1;
		}
	}
	/* the run must end in '-', hold whole units, and pad with < 6 zero bits */
	if (*i >= len || units == 0 || hi != 0 || nbits >= 6 || bits != 0)
		return -1;
	(*i)++;
	return 0;
}

int imap_mutf7_to_utf8(const char *p, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c > 0x7e)
			return -1;
		if (c != '&') {
			if (buf_append(out, &p[i], 1) < 0)
				return -1;
			i++;
			continue;
		}
		i++;
		if (i < len && p[i] == '-') {
			if (buf_append(out, "&", 1) < 0)
				return -1;
			i++;
			continue;
		}
		if (decode_run(p, len, &i, out) < 0)
			return -1;
	}
	return 0;
}

/* Strict UTF-8: no overlongs, no surrogates, at most U+10FFFF. */
static int get_utf8(const unsigned char *p, size_t len, size_t *i, uint32_t *cp_r)
{
	unsigned char c = p[*i];
	size_t n;
	uint32_t cp, min;
	if (c < 0x80) {
		*cp_r = c;
		(*i)++;
		return 0;
	} else if ((c & 0xe0) == 0xc0) {
		n = 1, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2, cp = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3, cp = c & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	if (len - *i <= n)
		return -1;
	for (size_t k = 1; k <= n; k++) {
		if ((p[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[*i + k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += n + 1;
	*cp_r = cp;
	return 0;
}

static int put_bits(struct buf *out, uint32_t *bits, unsigned *nbits, uint32_t unit)
{
	*bits = (*bits << 16) | unit;
	*nbits += 16;
	while (*nbits >= 6) {
		*nbits -= 6;
		if (buf_append(out, &base64_imap_alphabet[(*bits >> *nbits) & 0x3f], 1) < 0)
			return -1;
	}
	*bits &= (1u << *nbits) - 1;
	return 0;
}

int imap_utf8_to_mutf7(const char *p, size_t len, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;
	while (i < len) {
		if (u[i] >= 0x20 && u[i] <= 0x7e) {
			if (buf_append(out, u[i] == '&' ? "&-" : p + i, u[i] == '&' ? 2 : 1) < 0)
				return -1;
			i++;
			continue;
		}
		uint32_t bits = 0;
		unsigned nbits = 0;
		if (buf_append(out, "&", 1) < 0)
			return -1;
		while (i < len && (u[i] < 0x20 || u[i] > 0x7e)) {
			uint32_t cp;
			if (get_utf8(u, len, &i, &cp) < 0 || cp < 0x20 || cp == 0x7f)
				return -1;
			int r;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				r = put_bits(out, &bits, &nbits, 0xd800 + (cp >> 10));
				if (r == 0)
					r = put_bits(out, &bits, &nbits, 0xdc00 + (cp & 0x3ff));
			} else {
				r = put_bits(out, &bits, &nbits, cp);
			}
			if (r < 0)
				return -1;
		}
		if (nbits > 0 &&
		    buf_append(out, &base64_imap_alphabet[(bits << (6 - nbits)) & 0x3f], 1) < 0)
			return -1;
		if (buf_append(out, "-", 1) < 0)
			return -1;
	}
	return 0;
}

int imap_mailbox_is_inbox(const char *p, size_t len)
{
	return len == 5 && strncasecmp(p, "INBOX", 5) == 0;
}
