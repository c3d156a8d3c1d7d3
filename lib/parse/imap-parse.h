/* imap-parse.h: the incremental IMAP command parser (RFC 3501 section 9,
 * LITERAL+/LITERAL- of RFC 7888, literal8 of RFC 3516) shared by imap-login
 * and the IMAP session in mailstore, plus the pure parsers of argument forms
 * (sequence sets, flags, fetch attributes, dates, modified UTF-7 names). */
#ifndef LOFT_IMAP_PARSE_H
#define LOFT_IMAP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

#define IMAP_NAME_MAX  32 /* longest command name accepted */
#define IMAP_DEPTH_MAX 16 /* hard cap on list nesting */

struct imap_limits {
	size_t max_line;    /* bytes per line, CRLF and literal markers included; 0 = 8192 */
	size_t max_literal; /* bytes per literal; 0 = 64 KiB */
	unsigned max_args;  /* args in the whole tree (list nodes count); 0 = 256 */
	unsigned max_depth; /* list nesting; 0 or above IMAP_DEPTH_MAX = IMAP_DEPTH_MAX */
	size_t
	    max_command; /* the whole command, literals included; 0 = 4 * max_literal + max_line */
};

enum imap_arg_type {
	IMAP_ARG_ATOM,    /* includes bracketed atoms such as BODY[HEADER.FIELDS (A B)]<0.9> */
	IMAP_ARG_NIL,     /* the atom NIL (any case); str/len still hold it as sent */
	IMAP_ARG_QUOTED,  /* a quoted string, escapes removed */
	IMAP_ARG_LITERAL, /* {n}, {n+} or ~{n}: see flags */
	IMAP_ARG_LIST,    /* ( ... ) */
};

#define IMAP_ARG_F_NONSYNC  1u /* literal was {n+} */
#define IMAP_ARG_F_LITERAL8 2u /* literal was ~{n}: may contain NUL */

struct imap_arg {
	enum imap_arg_type type;
	unsigned flags;
	/* Strings: the bytes, NOT NUL-terminated (a literal8 may hold NULs);
	 * they live in the parser until its next feed/reset/free. */
	const char *str;
	size_t len;
	struct imap_arg *list; /* IMAP_ARG_LIST: count children, contiguous */
	unsigned count;
};

struct imap_command {
	char tag[64 + 1];             /* NUL-terminated, as sent */
	char name[IMAP_NAME_MAX + 1]; /* upper-cased */
	struct imap_arg *args;        /* top-level arguments after the name */
	unsigned argc;
};

enum imap_parse_result {
	IMAP_PARSE_MORE = 0, /* all input consumed, command not complete yet */
	IMAP_PARSE_COMMAND,  /* imap_parser_command() is valid until the next call */
	IMAP_PARSE_LITERAL,  /* a synchronising literal of imap_parser_literal_size()
	                        bytes is announced: call _literal_accept (then send
	                        "+ Ready for literal data") or _literal_refuse
	                        (then send "tag BAD/NO ...") before feeding again */
	IMAP_PARSE_ERROR,    /* send "tag BAD <imap_parser_error()>" (tag "*" when
	                        imap_parser_error_tag() is ""); the parser skips the
	                        rest of the bad command itself as more bytes come */
};

struct imap_parser; /* opaque: owns every byte of the command being parsed */

struct imap_parser *imap_parser_new(const struct imap_limits *lim);
void imap_parser_free(struct imap_parser *ps);
/* Forget any partial command (e.g. after STARTTLS, or after IDLE's DONE). */
void imap_parser_reset(struct imap_parser *ps);

/* Feed bytes as they arrive. *consumed_r says how many of p[0..len) were used:
 * the parser stops right after a complete command (or at a LITERAL/ERROR
 * result), so pipelined bytes stay with the caller, who feeds them again. */
enum imap_parse_result imap_parser_feed(struct imap_parser *ps, const char *p, size_t len,
                                        size_t *consumed_r);
const struct imap_command *imap_parser_command(const struct imap_parser *ps);
uint32_t imap_parser_literal_size(const struct imap_parser *ps);
void imap_parser_literal_accept(struct imap_parser *ps);
/* Drop the command: the client sends no literal data after a refusal. */
void imap_parser_literal_refuse(struct imap_parser *ps);
const char *imap_parser_error(const struct imap_parser *ps);
const char *imap_parser_error_tag(const struct imap_parser *ps);
/* The tag of the command in progress after a LITERAL result (for the
 * refusal), or of the bad one after an ERROR; "" when there is none. */
const char *imap_parser_tag(const struct imap_parser *ps);
/* Nonzero while the bytes of a rejected command are being skipped. */
int imap_parser_resyncing(const struct imap_parser *ps);

/* --- argument helpers (pure) --- */
int imap_arg_atom_eq(const struct imap_arg *a, const char *word); /* ASCII case-insensitive */
/* astring / nstring values: atom, quoted or (non-literal8) literal; NIL is an
 * atom for astring, and *str_r = NULL for nstring. 0 or -1. */
int imap_arg_astring(const struct imap_arg *a, const char **str_r, size_t *len_r);
int imap_arg_nstring(const struct imap_arg *a, const char **str_r, size_t *len_r);

/* --- sequence sets: 1:*, 2,4:7,9 (pure) --- */
/* '*' lies above every valid number (4294967295 is one): the caller resolves
 * it. Bounds are 64-bit so the two never meet. */
#define IMAP_SEQ_STAR ((uint64_t)UINT32_MAX + 1)
struct imap_seq_range {
	uint64_t lo, hi; /* lo <= hi after parsing (4:2 is stored as 2:4); may be IMAP_SEQ_STAR */
};
/* Parses into ranges[0..max); 0 with *count_r, or -1 with *error_r. */
int imap_seqset_parse(const char *p, size_t len, struct imap_seq_range *ranges, size_t max,
                      size_t *count_r, const char **error_r);
/* Replace IMAP_SEQ_STAR by `star` (the highest number; 0 for an empty mailbox)
 * and re-order each range: afterwards every bound fits in 32 bits. */
void imap_seqset_resolve(struct imap_seq_range *ranges, size_t count, uint32_t star);
int imap_seqset_contains(const struct imap_seq_range *ranges, size_t count, uint32_t n);

/* --- flag lists: (\Seen $Label) or a single flag (pure) --- */
enum imap_flag_bits {
	IMAP_FLAG_SEEN = 1 << 0,
	IMAP_FLAG_ANSWERED = 1 << 1,
	IMAP_FLAG_FLAGGED = 1 << 2,
	IMAP_FLAG_DELETED = 1 << 3,
	IMAP_FLAG_DRAFT = 1 << 4,
	IMAP_FLAG_RECENT = 1 << 5, /* refused unless allow_recent (STORE may not set it) */
};
#define IMAP_KEYWORDS_MAX 32
struct imap_flags {
	unsigned system; /* enum imap_flag_bits */
	unsigned nkeywords;
	const char *keywords[IMAP_KEYWORDS_MAX]; /* point into the args, not NUL-terminated */
	size_t keyword_lens[IMAP_KEYWORDS_MAX];
};
int imap_flags_parse(const struct imap_arg *a, int allow_recent, struct imap_flags *f,
                     const char **error_r);

/* --- FETCH attributes (pure) --- */
enum imap_fetch_kind {
	IMAP_FETCH_FLAGS,
	IMAP_FETCH_INTERNALDATE,
	IMAP_FETCH_RFC822,
	IMAP_FETCH_RFC822_HEADER,
	IMAP_FETCH_RFC822_SIZE,
	IMAP_FETCH_RFC822_TEXT,
	IMAP_FETCH_ENVELOPE,
	IMAP_FETCH_BODY, /* BODY without a section: the non-extensible structure */
	IMAP_FETCH_BODYSTRUCTURE,
	IMAP_FETCH_UID,
	IMAP_FETCH_BODY_SECTION, /* BODY[...] or BODY.PEEK[...] */
};
enum imap_fetch_section {
	IMAP_FETCH_SECTION_ALL, /* BODY[] or BODY[1.2] (the part's content) */
	IMAP_FETCH_SECTION_HEADER,
	IMAP_FETCH_SECTION_HEADER_FIELDS,
	IMAP_FETCH_SECTION_HEADER_FIELDS_NOT,
	IMAP_FETCH_SECTION_TEXT,
	IMAP_FETCH_SECTION_MIME, /* only after a part number */
};
#define IMAP_FETCH_PARTS_MAX  32
#define IMAP_FETCH_FIELDS_MAX 64
struct imap_fetch_att {
	enum imap_fetch_kind kind;
	int peek;
	unsigned nparts;
	uint32_t parts[IMAP_FETCH_PARTS_MAX]; /* 1.2.3 -> {1,2,3} */
	enum imap_fetch_section section;
	const char *section_str; /* the text between '[' and ']', e.g. "1.HEADER" */
	size_t section_len;
	unsigned nfields;
	const char *fields[IMAP_FETCH_FIELDS_MAX]; /* header names, into the arg */
	size_t field_lens[IMAP_FETCH_FIELDS_MAX];
	int partial; /* <start.len> given */
	uint32_t partial_start, partial_len;
	const char *raw; /* the attribute as sent, for the reply label */
	size_t raw_len;
};
/* a: the argument after the sequence set (atom, macro or list). Fills
 * atts[0..max) (the macros expand); 0 with *count_r, or -1 with *error_r. */
int imap_fetch_parse(const struct imap_arg *a, struct imap_fetch_att *atts, size_t max,
                     size_t *count_r, const char **error_r);
/* One attribute atom, e.g. "BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100>". */
int imap_fetch_att_parse(const char *p, size_t len, struct imap_fetch_att *att,
                         const char **error_r);

/* --- dates (pure) --- */
/* SEARCH date "d-Mon-yyyy" / "dd-Mon-yyyy": 0 with y/m/d in *tm_r (others 0). */
int imap_date_parse(const char *p, size_t len, struct tm *tm_r);
/* APPEND date-time "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be " d"): 0 with the
 * UTC time in *t_r and the zone offset in seconds east in *tz_r. */
int imap_datetime_parse(const char *p, size_t len, time_t *t_r, int *tz_r);

/* --- mailbox names (pure) --- */
/* Modified UTF-7 (RFC 3501 5.1.3) <-> UTF-8. Invalid input (bad base64, a
 * non-canonical or needless shift, unpaired surrogates, bad UTF-8) -> -1. */
int imap_mutf7_to_utf8(const char *p, size_t len, struct buf *out);
int imap_utf8_to_mutf7(const char *p, size_t len, struct buf *out);
/* INBOX in any case is INBOX: 1 when the name means the inbox. */
int imap_mailbox_is_inbox(const char *p, size_t len);

#endif
