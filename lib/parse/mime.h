/* mime.h: the MIME parser the IMAP session uses for FETCH (BODYSTRUCTURE,
 * ENVELOPE, BODY[section]) and SEARCH. Pure over an in-memory message
 * (p, len); the result points into that buffer, which must outlive it. */
#ifndef LOFT_MIME_H
#define LOFT_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Explicit bounds (see docs/mime.md), Dovecot's defaults. A multipart or
 * message/rfc822 part nested MIME_MAX_DEPTH deep, or met once MIME_MAX_PARTS
 * parts exist, is not descended into: it becomes an opaque
 * application/octet-stream part (parameters kept); once MIME_MAX_PARTS exist
 * no further boundary is recognised.
 * Header fields past MIME_MAX_HEADERS in one header are kept in the header
 * block but not indexed; a field longer than MIME_MAX_FIELD_LEN is likewise
 * not indexed. */
#define MIME_MAX_DEPTH     100
#define MIME_MAX_PARTS     10000
#define MIME_MAX_HEADERS   1000
#define MIME_MAX_FIELD_LEN 65536

struct mime_param {
	char *name;  /* as in the message; RFC 2231 continuations merged */
	char *value; /* quoted-string unescaped; RFC 2231 value kept encoded */
};

/* One header field: p[off, off+len) is the raw field including continuation
 * lines and its final LF; p[off, off+name_len) is the name; the value starts
 * at value_off (after the colon and leading blanks). */
struct mime_hdr {
	size_t off, len, name_len, value_off;
};

struct mime_part {
	struct mime_part *parent, *children, *next;
	unsigned int depth;
	/* Stored bytes: the header block (with its blank line when there is one)
	 * and the body. LF counts allow CRLF-normalised sizes: a bare LF (not
	 * preceded by CR) becomes CRLF on the wire. */
	size_t hdr_off, hdr_len, hdr_lines, hdr_bare_lf;
	size_t body_off, body_len, body_lines, body_bare_lf;
	bool multipart;       /* has children split at boundaries */
	bool message;         /* message/rfc822: one child, the embedded message */
	bool opaque;          /* a limit stopped parsing here */
	bool epilogue;        /* multipart: the closing boundary was seen */
	char *type, *subtype; /* NULL when the header had none (means text/plain) */
	struct mime_param *params;
	size_t n_params;
	char *id, *description, *encoding, *md5, *location, *disposition;
	struct mime_param *disp_params;
	size_t n_disp_params;
	char **languages;
	size_t n_languages;
	struct mime_hdr *hdrs;
	size_t n_hdrs;
};

struct mime_message {
	const char *p;
	size_t len;
	struct mime_part *root; /* the message itself */
	size_t n_parts;
	bool limited; /* some limit was hit */
};

/* Parse p[0, len). Returns NULL only when memory runs out. */
struct mime_message *mime_parse(const char *p, size_t len);
void mime_message_free(struct mime_message *m);

/* Octets of p[0, len) once every bare LF is sent as CRLF. */
size_t mime_crlf_size(const char *p, size_t len);

/* The first field named name (case-insensitive) in part's header, or NULL. */
const struct mime_hdr *mime_header_find(const struct mime_message *m, const struct mime_part *part,
                                        const char *name);
/* The unfolded value of h (CR and LF removed, as RFC 5322 unfolding), into
 * out. 0 or -1 (buffer max). */
int mime_header_value(const struct mime_message *m, const struct mime_hdr *h, struct buf *out);
/* Name match helper: does h's name equal name (case-insensitive)? */
bool mime_header_is(const struct mime_message *m, const struct mime_hdr *h, const char *name);

/* RFC 2047: append p[0, len) to out with encoded-words decoded to UTF-8
 * (charsets through iconv; an undecodable word is kept as written).
 * Whitespace between adjacent encoded-words is dropped. 0 or -1. */
int mime_decode_words(const char *p, size_t len, struct buf *out);

/* RFC 5322 address lists (the ENVELOPE address fields). A group is a
 * start entry (mailbox = group name, domain NULL) and an end entry (all
 * NULL), as IMAP wants them. */
struct mime_address {
	char *name, *route, *mailbox, *domain;
	bool group_start, group_end;
};
/* Parse p[0, len) into a newly allocated array (*n_r entries; NULL with 0).
 * Returns 0, or -1 when memory runs out. Invalid input yields what could be
 * understood, never an error. */
int mime_address_parse(const char *p, size_t len, struct mime_address **addrs_r, size_t *n_r);
void mime_address_free(struct mime_address *a, size_t n);
/* Append a parsed list in Dovecot's normal form (what SEARCH FROM/TO/CC/BCC
 * match against): "local@domain", or "Name <@route:local@domain>" with a
 * name or route, names quoted when not atext (encoded-words kept as they
 * are), missing parts as MISSING_MAILBOX / MISSING_DOMAIN, groups as
 * "group: a@b, c@d;", entries joined by ", ", comments gone. 0 or -1. */
int mime_address_write(const struct mime_address *a, size_t n, struct buf *out);

#endif
