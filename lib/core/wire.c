/* wire.c: encoding and decoding of Loft's internal protocol lines (TAB-separated,
 * backslash-escaped fields, one record per LF) and the version handshake check.
 * Pure functions over buffers; every daemon's internal protocol is built on them. */
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The letter that follows the backslash for a byte that must be escaped, or 0
 * for a byte that travels raw. */
static char wire_escape_letter(unsigned char ch)
{
	switch (ch) {
	case '\t':
		return 't';
	case '\n':
		return 'n';
	case '\r':
		return 'r';
	case '\0':
		return '0';
	case '\\':
		return '\\';
	default:
		return 0;
	}
}

static size_t wire_escaped_len(const char *p, size_t len)
{
	size_t n = len;
	for (size_t i = 0; i < len; i++) {
		if (wire_escape_letter((unsigned char)p[i]) != 0)
			n++;
	}
	return n;
}

/* Undo a partial append so a refused call leaves the buffer as it was. */
static void wire_truncate(struct buf *out, size_t len)
{
	out->len = len;
	if (out->data != NULL)
		out->data[len] = '\0';
}

static int wire_escape_append(struct buf *out, const char *p, size_t len)
{
	if (len == 0) /* an empty field may be given as (NULL, 0) */
		return 0;
	size_t run = 0; /* start of the bytes not yet appended */
	for (size_t i = 0; i < len; i++) {
		char esc = wire_escape_letter((unsigned char)p[i]);
		if (esc == 0)
			continue;
		char pair[2] = {'\\', esc};
		if (buf_append(out, p + run, i - run) < 0 || buf_append(out, pair, 2) < 0)
			return -1;
		run = i + 1;
	}
	return buf_append(out, p + run, len - run);
}

int wire_escape(struct buf *out, const char *p, size_t len)
{
	size_t old = out->len;
	if (wire_escape_append(out, p, len) < 0) {
		wire_truncate(out, old);
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}

int wire_encode(struct buf *out, const struct wire_field *f, size_t n)
{
	if (n == 0 || n > WIRE_MAX_FIELDS) {
		errno = EINVAL;
		return -1;
	}
	/* Refuse a line the peer would refuse, before touching the buffer. */
	size_t total = n - 1;
	for (size_t i = 0; i < n; i++) {
		total += wire_escaped_len(f[i].p, f[i].len);
		if (total > WIRE_MAX_LINE) {
			errno = EMSGSIZE;
			return -1;
		}
	}
	size_t old = out->len;
	for (size_t i = 0; i < n; i++) {
		if ((i > 0 && buf_append(out, "\t", 1) < 0) ||
		    wire_escape_append(out, f[i].p, f[i].len) < 0)
			goto fail;
	}
	if (buf_append(out, "\n", 1) < 0)
		goto fail;
	return 0;
fail:
	wire_truncate(out, old);
	errno = ENOBUFS;
	return -1;
}

int wire_encode_strs(struct buf *out, const char *const *strs)
{
	struct wire_field f[WIRE_MAX_FIELDS];
	size_t n = 0;
	for (; strs[n] != NULL; n++) {
		if (n == WIRE_MAX_FIELDS) {
			errno = EINVAL;
			return -1;
		}
		f[n].p = strs[n];
		f[n].len = strlen(strs[n]);
	}
	return wire_encode(out, f, n);
}

/* The byte a two-character escape stands for, or -1 if the letter is not one
 * of the five the encoder produces (so every valid line has one spelling). */
static int wire_unescape_letter(char letter)
{
	switch (letter) {
	case 't':
		return '\t';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case '0':
		return '\0';
	case '\\':
		return '\\';
	default:
		return -1;
	}
}

int wire_decode(char *line, size_t len, struct wire_field *f, size_t max)
{
	if (len > WIRE_MAX_LINE) {
		errno = EMSGSIZE;
		return -1;
	}
	if (max == 0 || (line == NULL && len > 0))
		goto bad;
	if (line == NULL) {
		f[0].p = "";
		f[0].len = 0;
		return 1;
	}
	/* Output never overtakes input (w <= r), so decoding in place is safe and
	 * each separator's slot can take a NUL ending the field before it. */
	size_t n = 0, w = 0, start = 0;
	for (size_t r = 0; r < len; r++) {
		char ch = line[r];
		if (ch == '\t') {
			if (n + 2 > max)
				goto bad;
			f[n].p = line + start;
			f[n].len = w - start;
			n++;
			line[w++] = '\0';
			start = w;
		} else if (ch == '\\') {
			int byte = r + 1 < len ? wire_unescape_letter(line[r + 1]) : -1;
			if (byte < 0)
				goto bad;
			line[w++] = (char)byte;
			r++;
		} else if (ch == '\r' || ch == '\n' || ch == '\0') {
			goto bad;
		} else {
			line[w++] = ch;
		}
	}
	f[n].p = line + start;
	f[n].len = w - start;
	if (w < len)
		line[w] = '\0';
	return (int)n + 1;
bad:
	errno = EBADMSG;
	return -1;
}

int wire_field_eq(const struct wire_field *f, const char *s)
{
	size_t n = strlen(s);
	return f->len == n && (n == 0 || memcmp(f->p, s, n) == 0);
}

int wire_encode_version(struct buf *out, const char *proto, unsigned major, unsigned minor)
{
	char maj[16], min[16];
	snprintf(maj, sizeof(maj), "%u", major);
	snprintf(min, sizeof(min), "%u", minor);
	const char *strs[] = {"VERSION", proto, maj, min, NULL};
	return wire_encode_strs(out, strs);
}

/* A version number: 1 to 9 decimal digits, nothing else. */
static int wire_parse_uint(const struct wire_field *f, unsigned *out)
{
	if (f->len == 0 || f->len > 9)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < f->len; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(f->p[i] - '0');
	}
	*out = v;
	return 0;
}

int wire_check_version(const struct wire_field *f, int n, const char *proto, unsigned major)
{
	unsigned maj, min;
	if (n != 4 || !wire_field_eq(&f[0], "VERSION") || !wire_field_eq(&f[1], proto) ||
	    wire_parse_uint(&f[2], &maj) < 0 || wire_parse_uint(&f[3], &min) < 0 || maj != major)
		return -1;
	return 0;
}

int wire_parse_u32(const char *p, size_t len, uint32_t max, uint32_t *out)
{
	if (len == 0 || len > 10 || (len > 1 && p[0] == '0'))
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}
