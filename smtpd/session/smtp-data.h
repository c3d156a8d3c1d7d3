/* smtp-data.h: the streaming DATA decoder of smtpd. Pure: dot-unstuffing,
 * bare LF normalised to CRLF, a bare CR flagged (the session refuses the
 * message) and written as CRLF, and an end only at CRLF "." CRLF, so that
 * no smuggling variant (<LF>.<CR><LF>, <CR>.<CR><LF>, <LF>.<LF>) can end or
 * split a message (CVE-2023-51764). The output never holds a bare CR or
 * LF. */
#ifndef LOFT_SMTP_DATA_H
#define LOFT_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

struct smtp_data {
	int state;
	bool done;    /* the terminator was seen */
	bool bare_cr; /* a CR not followed by LF was seen */
};

/* Start decoding right after the DATA command line, whose CRLF counts as
 * the first CRLF of the terminator (an empty message is just ".\r\n"). */
void smtp_data_init(struct smtp_data *d);
/* Decode p[0..len), appending message bytes to out; stops right after the
 * terminator. Returns the bytes consumed, or (size_t)-1 when out is full. */
size_t smtp_data_feed(struct smtp_data *d, const char *p, size_t len, struct buf *out);

#endif
