/* smtp-session.h: the SMTP server session of smtpd as an I/O-agnostic state
 * machine. The daemon feeds it client bytes (smtp_session_input), writes out
 * what it leaves in its output buffer, and answers its callbacks: recipient
 * lookup, AUTH through the auth daemon, STARTTLS, and the queue writer. */
#ifndef LOFT_SMTP_SESSION_H
#define LOFT_SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "smtp-parse.h"

struct buf;
struct smtp_session;

enum smtp_mode {
	SMTP_MODE_MX,          /* port 25: mail for local domains */
	SMTP_MODE_SUBMISSION,  /* 587: AUTH before MAIL */
	SMTP_MODE_SUBMISSIONS, /* 465: as 587, TLS on from the start */
};

enum smtp_rcpt_result {
	SMTP_RCPT_OK,
	SMTP_RCPT_UNKNOWN,  /* 550 5.1.1 */
	SMTP_RCPT_TEMPFAIL, /* 451 4.3.0 */
};

enum smtp_queue_result {
	SMTP_QUEUE_OK,
	SMTP_QUEUE_TEMP, /* 451 4.3.0: the client retries */
	SMTP_QUEUE_PERM, /* 554 5.3.0 (552 for 5.3.4) */
};

/* The transaction as handed to the queue writer. */
struct smtp_txn {
	struct smtp_mail mail;
	struct smtp_rcpt *rcpts;
	size_t n_rcpts;
	const char *auth_user; /* NULL unless authenticated */
};

struct smtp_session_callbacks {
	/* A recipient in one of mydomains (postmaster is accepted before this is
	 * asked). Required. */
	enum smtp_rcpt_result (*rcpt_check)(void *ctx, const struct smtp_addr *rcpt);
	/* AUTH <mech> [initial]: mech is "PLAIN" or "LOGIN", initial the client's
	 * base64 initial response or NULL. The daemon relays to auth and answers
	 * later with smtp_session_auth_challenge / smtp_session_auth_done. Until
	 * then input is held. 0, or -1 to refuse with 454 4.7.0. */
	int (*auth_start)(void *ctx, const char *mech, const char *initial);
	/* The client's answer to a 334 challenge ("*" cancels, RFC 4954). */
	int (*auth_continue)(void *ctx, const char *line, size_t len);
	/* The 220 for STARTTLS is in the output buffer: flush it, run the
	 * handshake, then call smtp_session_tls_started. Input is discarded
	 * until then (STARTTLS command injection). */
	void (*starttls)(void *ctx);
	/* Open a queue file for txn; write its id (NUL-terminated) to qid. */
	enum smtp_queue_result (*queue_begin)(void *ctx, const struct smtp_txn *txn, char *qid,
	                                      size_t qid_size);
	/* Message bytes, CRLF line ends, dot-unstuffed, headers added. */
	enum smtp_queue_result (*queue_write)(void *ctx, const char *p, size_t len);
	/* Make the file durable; 250 is sent only after this returned OK. */
	enum smtp_queue_result (*queue_commit)(void *ctx);
	/* Drop the open queue file (size limit, hop limit, client gone). */
	void (*queue_abort)(void *ctx);
	/* Optional: why the last queue_* call failed, in the queue's words:
	 * its enhanced status code ("5.3.4", "" when none) and its text ("" when
	 * none). The 4xx/5xx then carries them instead of the fixed text when
	 * the code's class matches the result and the text is printable. */
	void (*queue_reason)(void *ctx, const char **status_r, const char **text_r);
};

struct smtp_session_opts {
	enum smtp_mode mode;
	const char *hostname;         /* myhostname */
	const char *const *mydomains; /* local domains, lowercase */
	size_t n_mydomains;
	uint64_t size_limit;     /* message_size_limit; 0 = none */
	unsigned max_recipients; /* 0 = 1000 */
	unsigned max_hops;       /* 0 = 50 */
	unsigned max_errors;     /* 421 after this many errors; 0 = 20 */
	bool client_in_mynetworks;
	bool client_loopback; /* AUTH is offered without TLS on loopback */
	bool tls_available;   /* a certificate is configured: offer STARTTLS */
	const char *client_ip;
	const char *client_rdns; /* NULL = unknown */
	/* For the Received line when TLS is on from the start (465). */
	const char *tls_proto;
	const char *tls_cipher;
	int tls_bits;
	time_t (*now)(void); /* NULL = time(); tests pin the clock */
	const struct smtp_session_callbacks *cb;
	void *cb_ctx;
};

/* A new session; opts and the strings it points to must outlive it. Writes
 * the 220 greeting into the output buffer. NULL on allocation failure. */
struct smtp_session *smtp_session_new(const struct smtp_session_opts *opts);
void smtp_session_free(struct smtp_session *s);

/* Feed client bytes. Replies accumulate in smtp_session_output(). Returns 0,
 * or -1 once the session is over (QUIT, 421): write the output, then close.
 * Chunks of at most 64 KB are expected (the input is buffered up to 1 MB
 * while AUTH is pending, after which the session ends with 421). */
int smtp_session_input(struct smtp_session *s, const char *p, size_t len);
/* The client closed the connection: an open queue file is aborted. */
void smtp_session_eof(struct smtp_session *s);
/* Pending replies; the daemon writes them and buf_consume()s what it wrote. */
struct buf *smtp_session_output(struct smtp_session *s);
bool smtp_session_closed(const struct smtp_session *s);

/* AUTH in progress: send "334 <b64>" and wait for the client's line. */
int smtp_session_auth_challenge(struct smtp_session *s, const char *b64);
/* AUTH finished: user != NULL on success (235), NULL on failure (535);
 * temp: the auth service failed (454 4.7.0). Buffered input is processed. */
int smtp_session_auth_done(struct smtp_session *s, const char *user, bool temp);
/* The TLS handshake succeeded: the session starts over (RFC 3207 4.2: the
 * client must EHLO again). proto/cipher go into Received lines. */
int smtp_session_tls_started(struct smtp_session *s, const char *proto, const char *cipher,
                             int bits);

#endif
