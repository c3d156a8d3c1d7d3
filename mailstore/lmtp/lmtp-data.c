/* lmtp-data.c: the pure DATA stream decoder of LMTP (and later SMTP): removes
 * dot-stuffing, turns CRLF into LF (Maildir files use LF, like Dovecot) and
 * ends only at CRLF "." CRLF -- a bare LF is never a line start for the end
 * marker, so <LF>.<CR><LF> cannot smuggle a second message in. */
#include "lmtp.h"

#include "buf.h"

enum {
	D_BOL,   /* after CRLF: a line starts */
	D_DOT,   /* "." at the start of a line */
	D_DOTCR, /* "." CR at the start of a line */
	D_MID,   /* inside a line */
	D_CR,    /* CR inside a line */
};

void lmtp_data_init(struct lmtp_data *d, uint64_t limit)
{
	d->state = D_BOL;
	d->done = false;
	d->over = false;
	d->limit = limit;
	d->vsize = 0;
}

/* Append one decoded byte (LF counts 2 toward vsize). */
static int emit(struct lmtp_data *d, char c, struct buf *out)
{
	d->vsize += c == '\n' ? 2 : 1;
	if (d->limit > 0 && d->vsize > d->limit)
		d->over = true;
	if (d->over)
		return 0;
	return buf_append(out, &c, 1);
}

/* A byte inside a line (state D_MID or D_CR before it). */
static int mid(struct lmtp_data *d, char c, struct buf *out)
{
	if (d->state == D_CR) {
		if (c == '\n') {
			d->state = D_BOL;
			return emit(d, '\n', out);
		}
		if (emit(d, '\r', out) < 0)
			return -1;
	}
	d->state = c == '\r' ? D_CR : D_MID;
	return c == '\r' ? 0 : emit(d, c, out);
}

size_t lmtp_data_feed(struct lmtp_data *d, const char *p, size_t len, struct buf *out)
{
	size_t i;
	for (i = 0; i < len && !d->done; i++) {
		char c = p[i];
		int r = 0;
		switch (d->state) {
		case D_BOL:
			if (c == '.')
				d->state = D_DOT;
			else
				r = mid(d, c, out);
			break;
		case D_DOT:
			/* RFC 5321 4.5.2: the first dot of a line is removed. */
			if (c == '\r') {
				d->state = D_DOTCR;
			} else {
				d->state = D_MID;
				r = mid(d, c, out);
			}
			break;
		case D_DOTCR:
			if (c == '\n') {
				d->done = true;
			} else {
				d->state = D_CR;
				r = mid(d, c, out);
			}
			break;
		default:
			r = mid(d, c, out);
			break;
		}
		if (r < 0)
			return (size_t)-1;
	}
	return i;
}
