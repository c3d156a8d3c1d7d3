/* queue-answer.h: the answers of loft-queue's QUEUE server
 * (docs/queue-protocol.md) as the one QUEUE client (queue-client.h) reads
 * them. Pure: one line in, one typed answer out; which answer is expected
 * when is the client's business. A FAIL's text is split into its enhanced
 * status code and a printable text, ready for an SMTP reply or a terminal. */
#ifndef LOFT_QUEUE_ANSWER_H
#define LOFT_QUEUE_ANSWER_H

#include <stddef.h>

#include "wire.h"

/* What a QUEUE request came to; the one result type of the client. */
enum queue_result {
	QUEUE_OK,
	QUEUE_TEMPFAIL,    /* FAIL temp: the queue says try again later */
	QUEUE_PERMFAIL,    /* FAIL perm: the queue refused for good */
	QUEUE_IO_ERROR,    /* cannot connect, write or read; timeout; closed */
	QUEUE_PROTO_ERROR, /* an answer the protocol does not have there */
};

enum queue_answer_kind {
	QUEUE_ANSWER_OK,   /* OK [value] */
	QUEUE_ANSWER_FAIL, /* FAIL temp|perm [text] */
	QUEUE_ANSWER_LIST, /* LIST text */
};

#define QUEUE_ANSWER_STATUS_MAX 12  /* "5.123.123" and its NUL fit */
#define QUEUE_ANSWER_TEXT_MAX   256 /* a FAIL text is cut there */

struct queue_answer {
	enum queue_answer_kind kind;
	/* OK: the queue id (len 0 when absent); LIST: the listing. Points
	 * into the decoded line. */
	struct wire_field value;
	/* FAIL: QUEUE_TEMPFAIL or QUEUE_PERMFAIL. */
	enum queue_result fail;
	/* FAIL: the enhanced status code the text starts with, when its class
	 * matches temp (4) or perm (5); "" when there is none. */
	char status[QUEUE_ANSWER_STATUS_MAX];
	/* FAIL: the rest of the text; control and non-ASCII bytes replaced by
	 * '?', so it is safe in an SMTP reply. "" when there is none. */
	char text[QUEUE_ANSWER_TEXT_MAX];
};

/* The decoded fields f[0..n) of one answer line. 0, or -1 with *error_r a
 * static text when it is no answer at all (unknown word, wrong field
 * count, FAIL neither temp nor perm). */
int queue_answer_parse_fields(const struct wire_field *f, int n, struct queue_answer *a,
                              const char **error_r);

/* One raw line line[0..len) (escaped, without its LF), decoded in place
 * with wire_decode and parsed as above. */
int queue_answer_parse(char *line, size_t len, struct queue_answer *a, const char **error_r);

/* Pure: p[0..len) is an enhanced status code "c.sss.ddd" (RFC 3463: class
 * 2, 4 or 5, subject and detail 0-999 without leading zeros). */
int queue_status_valid(const char *p, size_t len);

#endif
