/* smtp-session-private.h: the session struct shared by smtp-session.c
 * (commands) and smtp-session-data.c (the DATA phase). Not for the daemon. */
#ifndef LOFT_SMTP_SESSION_PRIVATE_H
#define LOFT_SMTP_SESSION_PRIVATE_H

#include <stdarg.h>

#include "buf.h"
#include "smtp-data.h"
#include "smtp-session.h"

#define SESS_INPUT_MAX  (1024 * 1024)
#define SESS_OUTPUT_MAX (1024 * 1024)
/* Room past SESS_OUTPUT_MAX kept for the one 421 that ends a session whose
 * client does not read its replies: "421 4.7.0 " + host name + text. */
#define SESS_OUTPUT_RESERVE 512
/* Header section held back to count hops and look for Message-ID/Date; a
 * longer one is written as it is (its hop count is then of this part). */
#define SESS_HEADER_MAX (256 * 1024)

enum sess_state { ST_INIT, ST_HELO, ST_MAIL, ST_RCPT, ST_DATA };

enum sess_wait {
	W_NONE,
	W_AUTH,      /* the daemon is asking auth */
	W_AUTH_LINE, /* a 334 was sent: the next line is the client's answer */
	W_TLS,       /* STARTTLS accepted, handshake not done: input discarded */
};

struct smtp_session {
	const struct smtp_session_opts *o;
	enum sess_state state;
	enum sess_wait wait;
	bool closed;
	bool skip_line; /* inside an over-long line: drop up to its LF */
	unsigned errors;
	struct buf in, out;
	size_t reply_start; /* where the reply being written began in out */
	bool reply_open;    /* its last line was a "NNN-" one */
	struct buf helo;    /* sanitised */
	bool esmtp;
	bool tls;
	struct buf tls_proto, tls_cipher; /* sanitised */
	int tls_bits;
	char *auth_user;
	struct smtp_txn txn;
	size_t rcpt_cap;
	/* DATA phase */
	bool queue_open;
	struct smtp_data data;
	struct buf dec; /* decoded bytes of the current input chunk */
	struct buf hdr; /* header section held back */
	bool in_headers;
	uint64_t size;
	bool over_size;
	bool too_many_hops;
	enum smtp_queue_result write_res;
	char qid[64];
};

void sess_reply(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sess_vreply(struct smtp_session *s, bool more, int code, const char *enh, const char *fmt,
                 va_list ap) __attribute__((format(printf, 5, 0)));
void sess_txn_clear(struct smtp_session *s);
void sess_set_tls(struct smtp_session *s, const char *proto, const char *cipher, int bits);

/* smtp-session-data.c */
void sess_cmd_data(struct smtp_session *s, const struct smtp_cmd *c);
/* Decode buffered input in DATA; false when more bytes are needed. */
bool sess_data_input(struct smtp_session *s);
/* Abort an open queue file (client gone, session closing). */
void sess_data_abort(struct smtp_session *s);

#endif
