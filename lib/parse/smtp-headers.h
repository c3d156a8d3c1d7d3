/* smtp-headers.h: pure helpers for the header lines smtpd adds to a message:
 * the Postfix-style Received line, Message-ID and Date for submissions, a
 * scan of the received header section, and sanitising of network text. */
#ifndef LOFT_SMTP_HEADERS_H
#define LOFT_SMTP_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct buf;

/* Longest piece of client-supplied text (HELO name, user, rDNS) that goes into
 * a header or a log line. */
#define SMTP_SANITIZE_MAX 255

/* Append p[0..len) to out with every control byte (< 0x20, 0x7f) replaced by
 * '?', cut at max bytes. Never writes CR, LF or NUL. 0 or -1 (out full). */
int smtp_sanitize(struct buf *out, const char *p, size_t len, size_t max);

/* What goes into a Received line. NULL strings are left out as Postfix does. */
struct smtp_received {
	const char *helo;       /* as the client sent it; sanitised here */
	const char *rdns;       /* verified reverse name, NULL -> "unknown" */
	const char *ip;         /* client address text */
	const char *hostname;   /* myhostname */
	const char *tls_proto;  /* "TLSv1.3" when TLS is on, else NULL */
	const char *tls_cipher; /* "TLS_AES_256_GCM_SHA384" */
	int tls_bits;           /* cipher strength, 0 = unknown (then not written) */
	const char *auth_user;  /* authenticated SASL user, else NULL */
	bool esmtp;             /* EHLO rather than HELO */
	const char *queue_id;
	const char *rcpt; /* the one recipient, NULL when there are several */
	time_t when;
};

/* Append "Received: ...\r\n" (folded with CRLF TAB) to out:
 *   Received: from helo (rdns [ip])
 *   	(using TLSv1.3 with cipher X (256/256 bits))
 *   	(Authenticated sender: user)
 *   	by myhostname (Loft) with ESMTPSA id QUEUEID
 *   	for <rcpt>; Thu, 26 Nov 2026 15:17:20 +0000
 * The protocol word is SMTP or ESMTP, plus S with TLS, plus A when
 * authenticated (RFC 3848). 0 or -1. */
int smtp_received_build(struct buf *out, const struct smtp_received *r);

/* RFC 5322 date-time in UTC: "Thu, 26 Nov 2026 15:17:20 +0000". 0 or -1. */
int smtp_date_build(struct buf *out, time_t when);
/* "<YYYYMMDDhhmmss.QUEUEID@hostname>". 0 or -1. */
int smtp_message_id_build(struct buf *out, time_t when, const char *queue_id, const char *hostname);

/* What a header section holds; p[0..len) is the header section (it may end
 * with or without the empty line; a body after it is not looked at). */
struct smtp_header_info {
	unsigned received; /* Received: fields */
	bool has_message_id;
	bool has_date;
	size_t header_len; /* bytes up to and including the empty line, or len */
};
void smtp_headers_scan(const char *p, size_t len, struct smtp_header_info *info);

/* In place: remove every field called name (with its continuation lines)
 * from the header section at the start of p[0..*len), leaving the empty
 * line and anything after it alone. Returns how many fields went. smtpd
 * drops Return-Path this way, as Postfix's cleanup does: the final
 * delivery adds the real one (RFC 5321 4.4). */
unsigned smtp_headers_drop(char *p, size_t *len, const char *name);

#endif
