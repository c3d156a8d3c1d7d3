/* sendmail-client.h: the client side of the QUEUE protocol
 * (docs/queue-protocol.md) on base_dir/pickup, as the sendmail CLI and
 * `loft queue` speak it: submit one message, or one administration verb.
 * Blocking I/O with a timeout; every failure leaves a message in qc->err. */
#ifndef LOFT_SENDMAIL_CLIENT_H
#define LOFT_SENDMAIL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "wire.h"

enum qclient_result {
	QCLIENT_OK,
	QCLIENT_TEMP, /* unreachable, I/O error, FAIL temp: try again later */
	QCLIENT_PERM, /* FAIL perm: the server refused */
};

struct qclient {
	int fd;
	struct wire_conn conn;
	char err[512];
};

/* Connect to <base_dir>/pickup and do the version handshake. */
enum qclient_result qclient_connect(struct qclient *qc, const char *base_dir, int timeout_sec);
void qclient_close(struct qclient *qc);

/* MAIL (sender "" = null sender), RCPT for each recipient, DATA; on OK the
 * queue id is copied to qid (at least 64 bytes). */
enum qclient_result qclient_begin(struct qclient *qc, const char *sender, char *const *rcpts,
                                  size_t n, char *qid, size_t qid_size);
/* Message bytes (CRLF form), sent as BODY lines of at most 16384 bytes. */
enum qclient_result qclient_body(struct qclient *qc, const char *p, size_t len);
enum qclient_result qclient_commit(struct qclient *qc);
void qclient_abort(struct qclient *qc);

/* May this user administer the queue behind base_dir? Root, or the owner of
 * the pickup socket (the user an unprivileged suite runs as); loft-queue
 * checks again with SO_PEERCRED. */
bool qclient_may_admin(const char *base_dir);

/* An administration verb (LIST, FLUSH, DELETE, HOLD, RELEASE) with an optional
 * argument. For LIST the listing text is appended to text. */
enum qclient_result qclient_admin(struct qclient *qc, const char *verb, const char *arg,
                                  struct buf *text);

#endif
