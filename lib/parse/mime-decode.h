/* mime-decode.h: content decoding for SEARCH BODY/TEXT: transfer encodings
 * (base64, quoted-printable), charsets to UTF-8, and the day of an RFC 5322
 * Date: header. Pure functions over buffers; lenient, as mail in the wild
 * needs: bad input is decoded as far as it goes, never refused. */
#ifndef LOFT_MIME_DECODE_H
#define LOFT_MIME_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mime.h"

/* Base64 body: characters outside the alphabet (line ends) are skipped, the
 * first '=' ends the data. 0, or -1 when out is full. */
int mime_decode_base64(const char *p, size_t len, struct buf *out);
/* Quoted-printable body: =XX, soft line breaks (= before CRLF/LF); a '='
 * not followed by two hex digits is kept. 0 or -1 (out full). */
int mime_decode_qp(const char *p, size_t len, struct buf *out);
/* p[0, len) in charset (NULL: us-ascii) appended as UTF-8: UTF-8 and
 * US-ASCII are copied, ISO-8859-1 mapped directly, others through iconv;
 * an unknown charset is copied unchanged and an invalid byte becomes '?'.
 * 0 or -1 (out full). */
int mime_charset_to_utf8(const char *charset, const char *p, size_t len, struct buf *out);
/* The body of a leaf part, transfer-decoded and converted to UTF-8 by its
 * Content-Transfer-Encoding and charset parameter. 0 or -1 (out full). */
int mime_part_text(const struct mime_message *m, const struct mime_part *part, struct buf *out);

/* The date written in an RFC 5322 date-time ("[Wkd,] d Mon yyyy ..."), as
 * days since 1970-01-01, ignoring time and zone (as SENT* wants). Two-digit
 * years are 19xx from 50, else 20xx. 0, or -1 when no date is there. */
int mime_date_day(const char *p, size_t len, int64_t *day_r);

#endif
