/* pop3-parse.h: the pure tokenizer of one POP3 command line (RFC 1939/2449),
 * shared by pop3-login (pre-auth commands, SASL continuation lines) and the
 * POP3 session in mailstore. Nothing here touches sockets or state. */
#ifndef LOFT_POP3_PARSE_H
#define LOFT_POP3_PARSE_H

#include <stddef.h>

/* RFC 2449 allows 255 octets per command line including CRLF; we accept
 * some slack for clients that stretch it (long user names, AUTH responses). */
#define POP3_LINE_RFC_MAX 255
#define POP3_LINE_MAX     512 /* longest accepted line, CRLF included */
#define POP3_VERB_MAX     4
#define POP3_ARGS_MAX     2

enum pop3_parse_result {
	POP3_PARSE_OK = 0,
	POP3_PARSE_EMPTY,         /* blank line (only spaces, or nothing) */
	POP3_PARSE_TOO_LONG,      /* over POP3_LINE_MAX */
	POP3_PARSE_NUL,           /* NUL, or a CR/LF not at the end of the line */
	POP3_PARSE_BAD_VERB,      /* verb not 1..4 ASCII letters (verb_raw is set) */
	POP3_PARSE_TOO_MANY_ARGS, /* more than 2 arguments (verb, args, rest are set) */
};

struct pop3_cmd {
	char verb[POP3_VERB_MAX + 1]; /* upper-cased, NUL-terminated */
	const char *verb_raw;         /* the first word as sent (for error replies) */
	size_t verb_raw_len;
	unsigned argc;
	const char *args[POP3_ARGS_MAX]; /* point into the input line, not NUL-terminated */
	size_t arg_lens[POP3_ARGS_MAX];
	/* Everything after the verb's separating space(s), trailing spaces kept:
	 * PASS takes this whole so a password may contain spaces. */
	const char *rest;
	size_t rest_len;
};

/* Tokenize one line: p[0..len) may end in "\r\n" or "\n" (stripped), words
 * are separated by one or more spaces. Fills *cmd as far as parsing got. */
enum pop3_parse_result pop3_parse_command(const char *p, size_t len, struct pop3_cmd *cmd);

/* A SASL continuation line (RFC 5034): strips the line end. Returns
 * POP3_PARSE_OK with *data_r and *len_r (the base64 text, maybe empty; the
 * caller treats "*" as cancel), or TOO_LONG / NUL. max_len 0 = POP3_LINE_MAX. */
enum pop3_parse_result pop3_parse_continuation(const char *p, size_t len, size_t max_len,
                                               const char **data_r, size_t *len_r);

/* Pure: parse a message number / line count argument: decimal digits only,
 * no sign, at most 4294967295. 0 with *n_r, or -1. */
int pop3_parse_number(const char *p, size_t len, unsigned long *n_r);

/* A short human name for a parse result, for logs. */
const char *pop3_parse_result_str(enum pop3_parse_result r);

#endif
