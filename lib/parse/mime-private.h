/* mime-private.h: the RFC 822 tokenizer and header-field helpers shared by
 * the lib/mime-*.c files; not an interface for other code. */
#ifndef LOFT_MIME_PRIVATE_H
#define LOFT_MIME_PRIVATE_H

#include <stdbool.h>

#include "mime.h"

/* A cursor over an unfolded header value. */
struct rfc822_cur {
	const char *p, *end;
};

/* 0, or -1 when a comment is not closed. */
int rfc822_skip_cfws(struct rfc822_cur *c);
/* A MIME token (RFC 2045) into out; 0, or -1 when none is there. */
int rfc822_mime_token(struct rfc822_cur *c, struct buf *out);
/* An RFC 5322 atom (atext run) into out; 0 or -1. */
int rfc822_atom(struct rfc822_cur *c, struct buf *out);
/* A quoted-string (cursor on the DQUOTE), unescaped into out; 0 or -1. */
int rfc822_quoted(struct rfc822_cur *c, struct buf *out);

/* malloc'd copy of p[0, n) with a terminator; NULL on ENOMEM. */
char *mime_strndup(const char *p, size_t n);

/* 0..15 for a hex digit (either case), else -1. (mime-decode.c) */
int mime_hexval(char c);
/* p[0, len) in charset appended to out as UTF-8, like mime_charset_to_utf8;
 * strict (RFC 2047 words, which are kept as written when they cannot be
 * decoded) gives -1 for an unknown charset or an invalid byte instead of
 * copying it or writing '?'. 0 or -1. (mime-decode.c) */
int mime_charset_convert(const char *charset, const char *p, size_t len, bool strict,
                         struct buf *out);

/* Fill part's Content-* fields from its indexed header. 0 or -1 (ENOMEM). */
int mime_part_parse_content(const struct mime_message *m, struct mime_part *part);
void mime_part_free_content(struct mime_part *part);

#endif
