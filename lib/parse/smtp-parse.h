/* smtp-parse.h: pure parsers for SMTP/LMTP commands, shared by LMTP in
 * mailstore and the SMTP server: one command line -> verb + arguments,
 * MAIL FROM / RCPT TO with ESMTP parameters, and a strict RFC 5321 address
 * parser that normalises first and validates the result (CVE-2020-7247). */
#ifndef LOFT_SMTP_PARSE_H
#define LOFT_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_LOCAL_MAX  64   /* RFC 5321 4.5.3.1.1 */
#define SMTP_DOMAIN_MAX 255  /* 4.5.3.1.2 */
#define SMTP_PATH_MAX   256  /* 4.5.3.1.3, including the angle brackets */
#define SMTP_LINE_MAX   2048 /* command line limit used by Loft's servers */

enum smtp_verb {
	SMTP_VERB_UNKNOWN,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_LHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
};

enum smtp_parse_result {
	SMTP_PARSE_OK,
	SMTP_PARSE_SYNTAX,     /* 501 5.5.4 (arguments) / 500 5.5.2 (line) */
	SMTP_PARSE_BAD_CHAR,   /* NUL, CR, LF or another control byte: 500 5.5.2 */
	SMTP_PARSE_TOO_LONG,   /* over a length limit: 500 5.5.2 / 501 5.1.3 */
	SMTP_PARSE_PARAM,      /* unknown or bad ESMTP parameter: 555 5.5.4 */
	SMTP_PARSE_ADDRESS,    /* bad address: 501 5.1.3 (MAIL: 5.1.7) */
	SMTP_PARSE_NEEDS_UTF8, /* 8-bit address without SMTPUTF8: 553 5.6.7 */
};

struct smtp_cmd {
	enum smtp_verb verb;
	const char *verb_text; /* points into the input */
	size_t verb_len;
	const char *args; /* after the verb and one space; "" when none */
	size_t args_len;
};

/* Split one command line (with or without its CRLF / LF). A line holding any
 * control byte but TAB, or over SMTP_LINE_MAX, is refused. An unknown verb is
 * SMTP_PARSE_OK with verb SMTP_VERB_UNKNOWN. */
enum smtp_parse_result smtp_cmd_parse(const char *p, size_t len, struct smtp_cmd *cmd);
const char *smtp_verb_name(enum smtp_verb verb);

enum smtp_addr_flags {
	SMTP_ADDR_ALLOW_NULL = 1 << 0,     /* <> (MAIL FROM) */
	SMTP_ADDR_ALLOW_UTF8 = 1 << 1,     /* RFC 6531 UTF-8 in local part / domain */
	SMTP_ADDR_ALLOW_NODOMAIN = 1 << 2, /* <user> without @domain (LMTP, postmaster) */
};

/* A normalised address: quotes and quoted-pairs resolved, source route
 * dropped, domain lowercased (ASCII). Every field is NUL-terminated and
 * holds no control byte. */
struct smtp_addr {
	bool null_path; /* <> */
	bool has_domain;
	bool utf8;   /* holds bytes >= 0x80 */
	bool quoted; /* local part needs quoting to be written back */
	char local[SMTP_LOCAL_MAX + 1];
	char domain[SMTP_DOMAIN_MAX + 1];
	/* local@domain as it is written in a header: local part re-quoted when
	 * needed, "" for the null path. */
	char full[SMTP_PATH_MAX * 2 + 1];
};

/* Parse a path "<...>" (p..len is exactly the path, brackets included). */
enum smtp_parse_result smtp_path_parse(const char *p, size_t len, unsigned flags,
                                       struct smtp_addr *a);
/* Parse a bare address "local@domain" (no brackets). */
enum smtp_parse_result smtp_addr_parse(const char *p, size_t len, unsigned flags,
                                       struct smtp_addr *a);

enum smtp_body {
	SMTP_BODY_NONE,
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
};

struct smtp_mail {
	struct smtp_addr from;
	bool has_size;
	uint64_t size;
	enum smtp_body body;
	bool smtputf8;
};

struct smtp_rcpt {
	struct smtp_addr to;
};

/* The arguments of MAIL ("FROM:<path> [params]"), i.e. smtp_cmd.args.
 * Accepts SIZE=, BODY=7BIT|8BITMIME and SMTPUTF8; anything else is PARAM.
 * Optional spaces after the colon are tolerated (common clients send them). */
enum smtp_parse_result smtp_mail_parse(const char *p, size_t len, struct smtp_mail *m);
/* The arguments of RCPT ("TO:<path>"). utf8: the transaction's MAIL had
 * SMTPUTF8. No RCPT parameters are accepted (no DSN is offered). */
enum smtp_parse_result smtp_rcpt_parse(const char *p, size_t len, bool utf8, unsigned flags,
                                       struct smtp_rcpt *r);

#endif
