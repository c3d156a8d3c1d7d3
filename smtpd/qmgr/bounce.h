/* bounce.h: the delivery status notification (RFC 3464) the queue manager
 * sends to a message's sender when recipients failed for good or the message
 * expired. Pure: the caller passes the clock and the original message bytes;
 * the result is a complete message (header + body, CRLF line ends) ready to
 * be queued with the null sender. */
#ifndef LOFT_BOUNCE_H
#define LOFT_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct buf;

struct bounce_rcpt {
	const char *rcpt;       /* the failed recipient address */
	const char *status;     /* "5.1.1"; NULL or malformed -> 5.0.0 (4.4.7 if expired) */
	const char *diagnostic; /* reply text, may be NULL */
	const char *remote_mta; /* may be NULL */
};

struct bounce_info {
	const char *hostname; /* myhostname */
	const char *queue_id; /* of the failed message */
	const char *sender;   /* its envelope sender: the bounce goes there */
	time_t arrival;
	time_t now;
	bool expired; /* queue_lifetime reached (rather than a permanent failure) */
};

/* Longest diagnostic text kept per recipient, and the longest original header
 * section attached. */
#define BOUNCE_DIAG_MAX    1000
#define BOUNCE_HEADERS_MAX 65536

/* Append to out an RFC 3464 multipart/report (CRLF line ends) for the n
 * recipients in r; the original header section of orig[0..orig_len) (up to
 * the first empty line, at most BOUNCE_HEADERS_MAX bytes, cut at a line end)
 * is attached as text/rfc822-headers. Every text that came from elsewhere is
 * sanitised (control bytes and 8-bit bytes become '?', except in the attached
 * headers where only NUL and bare CR/LF are repaired) and long lines are
 * folded. A null sender ("") gets no bounce: -1. Returns 0, or -1 (bad
 * arguments, out full) with out unchanged. */
int bounce_build(struct buf *out, const struct bounce_info *bi, const struct bounce_rcpt *r,
                 size_t n, const char *orig, size_t orig_len);

#endif
