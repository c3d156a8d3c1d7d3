/* bounce.c: builds the RFC 3464 delivery status notification the queue
 * manager returns to a sender (bounce.h). Pure over its arguments: the three
 * parts are composed first, then a boundary is chosen that none of them
 * contains, then the whole message is appended to the caller's buffer. */
#include "bounce.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "smtp-headers.h"

#define FOLD_WIDTH 78  /* preferred line length (RFC 5322 2.1.1) */
#define FOLD_HARD  900 /* a word longer than this is split: lines stay under 998 */

/* p[0..len) with control bytes and 8-bit bytes as '?', cut at max: what goes
 * into a header field or the plain-text part (both declared us-ascii). */
static int append_clean(struct buf *out, const char *p, size_t len, size_t max)
{
	if (len > max)
		len = max;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		char o = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
		if (buf_append(out, &o, 1) < 0)
			return -1;
	}
	return 0;
}

/* Append text (already clean) word by word, breaking lines before a word
 * that would pass FOLD_WIDTH; every new line starts with cont. col is the
 * column the first word starts at. Runs of spaces collapse to one. */
static int append_folded(struct buf *out, const char *text, size_t col, const char *cont)
{
	const char *p = text;
	bool first = true;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		size_t wlen = strcspn(p, " ");
		if (!first && col + 1 + (wlen < FOLD_HARD ? wlen : FOLD_HARD) > FOLD_WIDTH) {
			if (buf_printf(out, "\r\n%s", cont) < 0)
				return -1;
			col = strlen(cont);
		} else if (!first) {
			if (buf_append(out, " ", 1) < 0)
				return -1;
			col++;
		}
		first = false;
		/* an overlong word goes out in FOLD_HARD pieces, each on its own line */
		while (wlen > FOLD_HARD) {
			if (buf_append(out, p, FOLD_HARD) < 0 ||
			    buf_printf(out, "\r\n%s", cont) < 0)
				return -1;
			p += FOLD_HARD;
			wlen -= FOLD_HARD;
			col = strlen(cont);
		}
		if (buf_append(out, p, wlen) < 0)
			return -1;
		col += wlen;
		p += wlen;
	}
	return buf_append_str(out, "\r\n");
}

/* "Name: value" with value sanitised and folded. */
static int append_field(struct buf *out, const char *name, const char *prefix, const char *value,
                        size_t max)
{
	struct buf v;
	buf_init(&v, 0);
	int rc = -1;
	if (buf_append_str(&v, prefix) == 0 && append_clean(&v, value, strlen(value), max) == 0 &&
	    buf_printf(out, "%s: ", name) == 0)
		rc = append_folded(out, v.data, strlen(name) + 2, "\t");
	buf_free(&v);
	return rc;
}

/* RFC 3464 status-code for a failure: class 4 or 5, two numbers of 1-3 digits. */
static bool status_valid(const char *s)
{
	if (s == NULL || (s[0] != '4' && s[0] != '5') || s[1] != '.')
		return false;
	s += 2;
	for (int part = 0; part < 2; part++) {
		size_t d = 0;
		while (s[d] >= '0' && s[d] <= '9')
			d++;
		if (d < 1 || d > 3)
			return false;
		s += d;
		if (part == 0) {
			if (*s != '.')
				return false;
			s++;
		}
	}
	return *s == '\0';
}

static const char *status_of(const struct bounce_info *bi, const struct bounce_rcpt *r)
{
	if (status_valid(r->status))
		return r->status;
	return bi->expired ? "4.4.7" : "5.0.0";
}

static int human_part(struct buf *p, const struct bounce_info *bi, const struct bounce_rcpt *r,
                      size_t n)
{
	if (buf_append_str(p, "Content-Description: Notification\r\n"
	                      "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
	                      "This is the mail system at host ") < 0 ||
	    append_clean(p, bi->hostname, strlen(bi->hostname), SMTP_SANITIZE_MAX) < 0 ||
	    buf_append_str(p, ".\r\n\r\n") < 0)
		return -1;
	if (bi->expired) {
		long long age = (long long)(bi->now - bi->arrival);
		if (age < 0)
			age = 0;
		if (buf_printf(
		        p,
		        "Your message stayed in the queue for %lld day(s) and %lld hour(s)\r\n"
		        "without reaching the recipients below; the queue lifetime has\r\n"
		        "expired, so no further delivery attempts will be made.\r\n",
		        age / 86400, (age % 86400) / 3600) < 0)
			return -1;
	} else if (buf_append_str(p, "Your message could not be delivered to the recipients "
	                             "below;\r\nthe failures are permanent.\r\n") < 0) {
		return -1;
	}
	if (buf_append_str(p, "The delivery report and the header of your message are "
	                      "attached.\r\n\r\n") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct buf line;
		buf_init(&line, 0);
		int rc = buf_append_str(&line, "<");
		rc |= append_clean(&line, r[i].rcpt, strlen(r[i].rcpt), 512);
		rc |= buf_append_str(&line, ">:");
		if (r[i].remote_mta != NULL) {
			rc |= buf_append_str(&line, " host ");
			rc |= append_clean(&line, r[i].remote_mta, strlen(r[i].remote_mta),
			                   SMTP_SANITIZE_MAX);
			rc |= buf_append_str(&line, " said:");
		}
		rc |= buf_append_str(&line, " ");
		if (r[i].diagnostic != NULL)
			rc |= append_clean(&line, r[i].diagnostic, strlen(r[i].diagnostic),
			                   BOUNCE_DIAG_MAX);
		else
			rc |=
			    buf_printf(&line, "delivery failed (status %s)", status_of(bi, &r[i]));
		if (rc == 0)
			rc = append_folded(p, line.data, 0, "    ");
		buf_free(&line);
		if (rc != 0 || buf_append_str(p, "\r\n") < 0)
			return -1;
	}
	return 0;
}

static int status_part(struct buf *p, const struct bounce_info *bi, const struct bounce_rcpt *r,
                       size_t n)
{
	if (buf_append_str(p, "Content-Description: Delivery report\r\n"
	                      "Content-Type: message/delivery-status\r\n\r\n") < 0 ||
	    append_field(p, "Reporting-MTA", "dns; ", bi->hostname, SMTP_SANITIZE_MAX) < 0 ||
	    append_field(p, "X-Loft-Queue-ID", "", bi->queue_id, SMTP_SANITIZE_MAX) < 0 ||
	    append_field(p, "X-Loft-Sender", "rfc822; ", bi->sender, 512) < 0 ||
	    buf_append_str(p, "Arrival-Date: ") < 0 || smtp_date_build(p, bi->arrival) < 0 ||
	    buf_append_str(p, "\r\n") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (buf_append_str(p, "\r\n") < 0 ||
		    append_field(p, "Final-Recipient", "rfc822; ", r[i].rcpt, 512) < 0 ||
		    buf_printf(p, "Action: failed\r\nStatus: %s\r\n", status_of(bi, &r[i])) < 0)
			return -1;
		if (r[i].remote_mta != NULL &&
		    append_field(p, "Remote-MTA", "dns; ", r[i].remote_mta, SMTP_SANITIZE_MAX) < 0)
			return -1;
		if (r[i].diagnostic != NULL && append_field(p, "Diagnostic-Code", "smtp; ",
		                                            r[i].diagnostic, BOUNCE_DIAG_MAX) < 0)
			return -1;
	}
	return 0;
}

/* Length of orig's header section: up to the first empty line (excluded),
 * capped at BOUNCE_HEADERS_MAX and then cut after the last whole line. */
static size_t header_section_len(const char *orig, size_t len)
{
	size_t i = 0, last_eol = 0;
	while (i < len) {
		const char *nl = memchr(orig + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - orig) + 1 : len;
		size_t linelen = end - i;
		if (linelen == 1 || (linelen == 2 && orig[i] == '\r'))
			return i; /* the empty line */
		if (end > BOUNCE_HEADERS_MAX)
			return last_eol > 0 ? last_eol : BOUNCE_HEADERS_MAX;
		last_eol = end;
		i = end;
	}
	return len;
}

static int headers_part(struct buf *p, const char *orig, size_t orig_len)
{
	size_t hlen = orig != NULL ? header_section_len(orig, orig_len) : 0;
	bool eight_bit = false;
	for (size_t i = 0; i < hlen; i++)
		if ((unsigned char)orig[i] >= 0x80)
			eight_bit = true;
	if (buf_append_str(p, "Content-Description: Undelivered Message Headers\r\n"
	                      "Content-Type: text/rfc822-headers\r\n") < 0 ||
	    (eight_bit && buf_append_str(p, "Content-Transfer-Encoding: 8bit\r\n") < 0) ||
	    buf_append_str(p, "\r\n") < 0)
		return -1;
	/* Keep the bytes, but only CRLF may end a line and no NUL may pass. */
	for (size_t i = 0; i < hlen; i++) {
		char c = orig[i];
		int rc;
		if (c == '\n' && (i == 0 || orig[i - 1] != '\r'))
			rc = buf_append_str(p, "\r\n");
		else if (c == '\r' && (i + 1 >= hlen || orig[i + 1] != '\n'))
			rc = (i + 1 == hlen) ? 0 : buf_append(p, "?", 1);
		else if (c == '\0')
			rc = buf_append(p, "?", 1);
		else
			rc = buf_append(p, &c, 1);
		if (rc < 0)
			return -1;
	}
	if (p->len >= 2 && memcmp(p->data + p->len - 2, "\r\n", 2) != 0)
		return buf_append_str(p, "\r\n");
	return 0;
}

static bool holds(const struct buf *b, const char *s)
{
	return b->len > 0 && memmem(b->data, b->len, s, strlen(s)) != NULL;
}

static int top_header(struct buf *out, const struct bounce_info *bi, const char *boundary)
{
	struct buf mid;
	buf_init(&mid, 0);
	int rc = -1;
	if (buf_append_str(&mid, bi->queue_id) == 0 && buf_append_str(&mid, ".bounce") == 0 &&
	    buf_append_str(out, "From: MAILER-DAEMON@") == 0 &&
	    append_clean(out, bi->hostname, strlen(bi->hostname), SMTP_SANITIZE_MAX) == 0 &&
	    buf_append_str(out, " (Mail Delivery System)\r\n") == 0 &&
	    append_field(out, "To", "", bi->sender, 512) == 0 &&
	    buf_append_str(out, "Subject: Undelivered Mail Returned to Sender\r\nDate: ") == 0 &&
	    smtp_date_build(out, bi->now) == 0 && buf_append_str(out, "\r\nMessage-ID: ") == 0 &&
	    smtp_message_id_build(out, bi->now, mid.data, bi->hostname) == 0 &&
	    buf_printf(out,
	               "\r\nAuto-Submitted: auto-replied\r\n"
	               "MIME-Version: 1.0\r\n"
	               "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	               "\tboundary=\"%s\"\r\n"
	               "Content-Transfer-Encoding: 8bit\r\n\r\n"
	               "This is a MIME-encapsulated message.\r\n\r\n",
	               boundary) == 0)
		rc = 0;
	buf_free(&mid);
	return rc;
}

int bounce_build(struct buf *out, const struct bounce_info *bi, const struct bounce_rcpt *r,
                 size_t n, const char *orig, size_t orig_len)
{
	if (out == NULL || bi == NULL || bi->hostname == NULL || bi->queue_id == NULL ||
	    bi->sender == NULL || bi->sender[0] == '\0' || r == NULL || n == 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (r[i].rcpt == NULL)
			return -1;

	size_t start = out->len;
	struct buf p1, p2, p3;
	buf_init(&p1, 0);
	buf_init(&p2, 0);
	buf_init(&p3, 0);
	int rc = -1;
	if (human_part(&p1, bi, r, n) < 0 || status_part(&p2, bi, r, n) < 0 ||
	    headers_part(&p3, orig, orig_len) < 0)
		goto done;

	/* "=_" cannot start a quoted-printable or base64 line; the counter moves
	 * on until no part holds the boundary (an attacker can put the first
	 * candidate into the headers, not every one). */
	char qid[25];
	size_t q = 0;
	for (const char *s = bi->queue_id; *s != '\0' && q < sizeof(qid) - 1; s++)
		if ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z'))
			qid[q++] = *s;
	qid[q] = '\0';
	char boundary[80];
	unsigned k = 0;
	do {
		snprintf(boundary, sizeof(boundary), "=_loft_%s.%lld.%u", qid, (long long)bi->now,
		         k++);
	} while ((holds(&p1, boundary) || holds(&p2, boundary) || holds(&p3, boundary)) &&
	         k < 100000);
	if (k >= 100000)
		goto done;

	if (top_header(out, bi, boundary) < 0 || buf_printf(out, "--%s\r\n", boundary) < 0 ||
	    buf_append(out, p1.data, p1.len) < 0 || buf_printf(out, "\r\n--%s\r\n", boundary) < 0 ||
	    buf_append(out, p2.data, p2.len) < 0 || buf_printf(out, "\r\n--%s\r\n", boundary) < 0 ||
	    buf_append(out, p3.data, p3.len) < 0 || buf_printf(out, "\r\n--%s--\r\n", boundary) < 0)
		goto done;
	rc = 0;
done:
	if (rc < 0 && out != NULL) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	buf_free(&p1);
	buf_free(&p2);
	buf_free(&p3);
	return rc;
}
