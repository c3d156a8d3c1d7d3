/* queue-client.h: the one client of the QUEUE protocol (docs/queue-
 * protocol.md), for loft-smtpd on base_dir/queue and for sendmail and
 * `loft queue` on base_dir/pickup: submit messages (several on one
 * connection), or send one administration verb. Blocking I/O, each read and
 * write bounded by the timeout. Requests are encoded here and every answer
 * is parsed by queue-answer.c. Every failure leaves a message in qc->err
 * and, for a FAIL, the queue's status code and text in qc->status/qc->text.
 * IO and protocol errors, and any failure of queue_client_begin, close the
 * connection; a FAIL at COMMIT or an administration FAIL leaves it usable. */
#ifndef LOFT_QUEUE_CLIENT_H
#define LOFT_QUEUE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "queue-answer.h"
#include "wire.h"

#define QUEUE_BODY_LINE 16384 /* raw bytes in one BODY line (the protocol's limit) */

struct queue_client {
	int fd;
	int timeout_ms;
	struct wire_conn conn;
	struct buf body;                      /* message bytes not yet sent as BODY */
	bool open;                            /* a message is open on the server */
	char status[QUEUE_ANSWER_STATUS_MAX]; /* last FAIL's enhanced code, or "" */
	char text[QUEUE_ANSWER_TEXT_MAX];     /* last FAIL's text, or "" */
	char err[512];                        /* why the last call failed */
};

/* The envelope of one message. */
struct queue_envelope {
	const char *sender; /* bare address, "" = the null sender <> */
	const char *const *rcpts;
	size_t n_rcpts;
	const char *helo; /* optional MAIL keys: NULL or "" = absent */
	const char *addr;
	const char *auth;
};

enum queue_admin_verb {
	QUEUE_ADMIN_LIST,
	QUEUE_ADMIN_FLUSH,
	QUEUE_ADMIN_DELETE, /* these three take a queue id */
	QUEUE_ADMIN_HOLD,
	QUEUE_ADMIN_RELEASE,
	QUEUE_ADMIN_STATUS, /* did COMMIT of id take? smtpd may ask it on /queue */
};

/* Not connected; safe to close. */
void queue_client_init(struct queue_client *qc);
/* Connect to the socket at path and do the version handshake. */
enum queue_result queue_client_connect(struct queue_client *qc, const char *path, int timeout_ms);
/* The same on <base_dir>/pickup. */
enum queue_result queue_client_connect_pickup(struct queue_client *qc, const char *base_dir,
                                              int timeout_ms);
bool queue_client_connected(const struct queue_client *qc);
/* Close the connection (an open message is aborted by the server). */
void queue_client_close(struct queue_client *qc);

/* MAIL, RCPT for each recipient and DATA in one write; on OK the queue id
 * is copied to qid (at least QUEUE_ID_LEN + 1 bytes). */
enum queue_result queue_client_begin(struct queue_client *qc, const struct queue_envelope *env,
                                     char *qid, size_t qid_size);
/* Message bytes (CRLF form), sent as full BODY lines as they accumulate. */
enum queue_result queue_client_write(struct queue_client *qc, const char *p, size_t len);
/* The rest of the body, COMMIT, and the answer: OK only once durable. */
enum queue_result queue_client_commit(struct queue_client *qc);
/* ABORT the open message (if any); a connection that does not answer OK
 * is closed. */
void queue_client_abort(struct queue_client *qc);

/* One administration verb; id for DELETE, HOLD and RELEASE (NULL
 * otherwise). For LIST the listing is appended to text (may be NULL). */
enum queue_result queue_client_admin(struct queue_client *qc, enum queue_admin_verb verb,
                                     const char *id, struct buf *text);

/* May this user administer the queue behind base_dir? Root, or the owner of
 * the pickup socket (the user an unprivileged suite runs as); loft-queue
 * checks again with SO_PEERCRED. */
bool queue_client_may_admin(const char *base_dir);

#endif
