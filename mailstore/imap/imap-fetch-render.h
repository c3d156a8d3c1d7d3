/* imap-fetch-render.h: what the IMAP session's FETCH calls to render
 * ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 7.4.2, Dovecot's choices) and
 * to find BODY[section] contents, over a message parsed by lib/mime.h. */
#ifndef LOFT_IMAP_FETCH_RENDER_H
#define LOFT_IMAP_FETCH_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "mime.h"

/* IMAP strings as Dovecot writes them: NIL for NULL; a quoted string when
 * it has no CR, LF, NUL or 8-bit byte and at most 4 '"' or '\'; otherwise a
 * literal {n}\r\n... All return 0 or -1 (buffer max). */
int imap_append_nstring(struct buf *out, const char *s, size_t len);
int imap_append_cstring(struct buf *out, const char *s); /* NULL -> NIL */
/* A header value: CR/LF removed; when there were any, always a literal. */
int imap_append_nstring_nolf(struct buf *out, const char *s, size_t len);

/* Subject and address names: blanks collapsed; literal unless plain. */
int imap_append_string_for_humans(struct buf *out, const char *s, size_t len);

/* ENVELOPE of a message: the root, or the child of a message/rfc822 part. */
int imap_envelope_render(const struct mime_message *m, const struct mime_part *msg,
                         struct buf *out);

/* BODY (extended = false) or BODYSTRUCTURE (true) of part (usually root).
 * Sizes are octets with every bare LF counted as CRLF; lines count LFs. */
int imap_bodystructure_render(const struct mime_message *m, const struct mime_part *part,
                              bool extended, struct buf *out);

enum imap_section_kind {
	IMAP_SECTION_BODY,       /* "" or "1.2": the part's body (root: all) */
	IMAP_SECTION_HEADER,     /* HEADER: header block with its blank line */
	IMAP_SECTION_FIELDS,     /* HEADER.FIELDS (list) */
	IMAP_SECTION_FIELDS_NOT, /* HEADER.FIELDS.NOT (list) */
	IMAP_SECTION_TEXT,       /* TEXT: the body of a message */
	IMAP_SECTION_MIME,       /* MIME: the part's own header block */
};

#define IMAP_SECTION_MAX_PATH   32
#define IMAP_SECTION_MAX_FIELDS 64

struct imap_section {
	unsigned int path[IMAP_SECTION_MAX_PATH];
	size_t path_len;
	enum imap_section_kind kind;
	char *fields[IMAP_SECTION_MAX_FIELDS];
	size_t n_fields;
};

/* Parse the text between BODY[ and ], e.g. "1.2.HEADER.FIELDS (From To)"
 * (field names are atoms or quoted strings, case-insensitive). 0, or -1 with
 * *error_r set; free with imap_section_free either way. */
int imap_section_parse(const char *p, size_t len, struct imap_section *s, const char **error_r);
void imap_section_free(struct imap_section *s);

/* The range a section covers in the stored bytes m->p. off/len are stored
 * bytes; size is what the client is sent (len plus one per bare LF). For
 * HEADER.FIELDS(.NOT) the range is the whole header block the fields are
 * picked from, and size is of the filtered result. */
struct imap_section_range {
	const struct mime_part *part;
	size_t off, len, size;
};

/* 1 found, 0 no such part (the section is empty: FETCH returns ""), -1
 * memory. */
int imap_section_lookup(const struct mime_message *m, const struct imap_section *s,
                        struct imap_section_range *r);
/* Append the section's bytes as sent (bare LF -> CRLF) to out; r from a
 * lookup that returned 1. 0 or -1 (buffer max). */
int imap_section_render(const struct mime_message *m, const struct imap_section *s,
                        const struct imap_section_range *r, struct buf *out);

#endif
