/* base64.h: strict RFC 4648 base64 (standard alphabet, '=' padding required,
 * no whitespace, no non-zero trailing bits). Pure functions, used by SASL in
 * auth and by the login daemons and smtpd for AUTH exchanges. */
#ifndef LOFT_BASE64_H
#define LOFT_BASE64_H

#include <stddef.h>

#include "buf.h"

/* Bytes needed to decode len characters (an upper bound). */
#define BASE64_DECODED_MAX(len) (((len) / 4) * 3)

/* The alphabets: RFC 4648's standard one, and modified UTF-7's of IMAP
 * mailbox names (RFC 3501 section 5.1.3: ',' for '/'). They differ only in
 * their last two characters. */
extern const char base64_std_alphabet[65];
extern const char base64_imap_alphabet[65];

/* 0..63 for a byte of the given alphabet, else -1 (also for '='). */
int base64_value_in(const char alphabet[65], unsigned char c);
/* The same for the standard alphabet. */
int base64_value(unsigned char c);

/* Append the encoding of p[0..len) to out. 0 or -1 (buffer max). */
int base64_encode(struct buf *out, const void *p, size_t len);

/* Decode p[0..len) into out (room for BASE64_DECODED_MAX(len) bytes); *outlen_r
 * gets the byte count. Returns 0, or -1 when the input is not canonical
 * base64: length not a multiple of 4, a byte outside the alphabet, padding
 * anywhere but the end, or padding bits that are not zero. */
int base64_decode(const char *p, size_t len, unsigned char *out, size_t *outlen_r);

#endif
