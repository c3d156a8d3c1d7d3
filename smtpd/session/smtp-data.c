/* smtp-data.c: DATA decoding for smtpd as a byte-at-a-time state machine.
 * Only a "." line after a real CRLF can be the end (and only ".\r\n" is);
 * the first "." of a line after a real CRLF is removed (RFC 5321 4.5.2).
 * A bare LF becomes CRLF (Postfix smtpd_forbid_bare_newline = normalize)
 * but the line after it is plain content. A bare CR sets bare_cr (the
 * session refuses such a message, docs/smtpd.md) and is written as CRLF
 * followed by plain content too, so a next hop can never see it. */
#include "smtp-data.h"

#include "buf.h"

enum {
	D_BOL,   /* start of a line after a real CRLF */
	D_LINE,  /* inside a line (or at the start of one after a bare LF) */
	D_CR,    /* saw CR; not written yet */
	D_DOT,   /* saw "." at D_BOL */
	D_DOTCR, /* saw ".\r" at D_BOL */
};

void smtp_data_init(struct smtp_data *d)
{
	d->state = D_BOL;
	d->done = false;
	d->bare_cr = false;
}

/* A byte in D_LINE: returns the next state; -1 when out is full. */
static int line_byte(char c, struct buf *out)
{
	if (c == '\r')
		return D_CR;
	if (c == '\n')
		return buf_append(out, "\r\n", 2) < 0 ? -1 : D_LINE;
	return buf_append(out, &c, 1) < 0 ? -1 : D_LINE;
}

/* A CR that c does not follow with LF: a line end for the output, plain
 * content after it (no unstuffing, no terminator). */
static int bare_cr(struct smtp_data *d, char c, struct buf *out)
{
	d->bare_cr = true;
	if (buf_append(out, "\r\n", 2) < 0)
		return -1;
	return line_byte(c, out);
}

static int step(struct smtp_data *d, int st, char c, struct buf *out)
{
	switch (st) {
	case D_BOL:
		if (c == '.')
			return D_DOT;
		return line_byte(c, out);
	case D_CR:
		if (c == '\n')
			return buf_append(out, "\r\n", 2) < 0 ? -1 : D_BOL;
		return bare_cr(d, c, out);
	case D_DOT:
		if (c == '\r')
			return D_DOTCR;
		if (c == '\n') /* "." + bare LF: content, nothing to unstuff */
			return buf_append(out, ".\r\n", 3) < 0 ? -1 : D_LINE;
		return line_byte(c, out); /* the stuffing dot is dropped */
	case D_DOTCR:
		if (c == '\n') {
			d->done = true;
			return D_BOL;
		}
		return bare_cr(d, c, out); /* ".\r" + more: the dot was stuffing */
	default:
		return line_byte(c, out);
	}
}

size_t smtp_data_feed(struct smtp_data *d, const char *p, size_t len, struct buf *out)
{
	size_t i = 0;
	while (i < len && !d->done) {
		if (d->state == D_LINE) {
			/* most bytes are plain line content: copy a whole run */
			size_t j = i;
			while (j < len && p[j] != '\r' && p[j] != '\n')
				j++;
			if (j > i && buf_append(out, p + i, j - i) < 0)
				return (size_t)-1;
			i = j;
			if (i == len)
				break;
		}
		int next = step(d, d->state, p[i], out);
		if (next < 0)
			return (size_t)-1;
		d->state = next;
		i++;
	}
	return i;
}
