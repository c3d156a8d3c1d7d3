/* sendmail-input.h: the pure message handling of the sendmail CLI: input
 * lines to spool form (CRLF, the "." end line), the header scan, and the
 * header section as queued (Bcc removed, From/Date/Message-ID added when
 * missing, like Postfix's cleanup does for local submissions). */
#ifndef LOFT_SENDMAIL_INPUT_H
#define LOFT_SENDMAIL_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct buf;

/* One input line p[0..len) (with its LF, or without one at end of input).
 * Appends it to out with a CRLF line end (LF and CRLF both become CRLF;
 * a CR inside the line becomes CRLF too, so no bare CR reaches the queue).
 * Without ignore_dots a line holding just "." ends the message: returns 1
 * and appends nothing. Otherwise 0, or -1 when out is full. */
int sendmail_input_line(const char *p, size_t len, bool ignore_dots, struct buf *out);

struct sendmail_header_info {
	size_t header_len; /* bytes of header fields at the start */
	size_t body_off;   /* where the body starts (after the empty line, if any) */
	bool has_from, has_date, has_message_id;
};

/* Find the header section of msg[0..len) (CRLF form): fields and their
 * continuation lines up to an empty line or the first line that is not a
 * field (then the body starts there and an empty line must be added). */
void sendmail_header_scan(const char *msg, size_t len, struct sendmail_header_info *h);

struct sendmail_add {
	const char *from;     /* address for a missing From: */
	const char *fullname; /* -F, or NULL */
	const char *hostname; /* myhostname, for Message-ID */
	const char *queue_id;
	time_t now;
};

/* Append to out the header section to queue for msg: every field but Bcc,
 * then the missing From:, Date:, Message-ID:, then the empty line. The body
 * to send after it is msg + h->body_off. 0 or -1. */
int sendmail_header_build(struct buf *out, const char *msg, const struct sendmail_header_info *h,
                          const struct sendmail_add *a);

#endif
