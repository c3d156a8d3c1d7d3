/* smtpd-queue-client.c: the client side of the QUEUE protocol
 * (docs/queue-protocol.md) in a connection child: MAIL/RCPT/DATA when the
 * session opens a message, BODY lines while it streams, COMMIT (250 only
 * after the server's OK) or ABORT. The connection to /queue opens at the
 * first DATA and serves the session's later messages; if it broke, the
 * next message reconnects. Every failure is a temporary one for the client
 * (the session answers 451); an answer to COMMIT lost with the connection is
 * asked for again with STATUS (docs/queue-protocol.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "smtpd-private.h"

#define BODY_LINE 16384 /* raw bytes per BODY line (the protocol's limit) */
/* How long to wait for a restarted queue after a lost COMMIT answer. */
#define STATUS_WAIT_MS 15000
#define STATUS_STEP_MS 100

void smtpd_queue_init(struct smtpd_queue *q, const char *path, int timeout_ms)
{
	memset(q, 0, sizeof(*q));
	q->path = path;
	q->fd = -1;
	q->timeout_ms = timeout_ms;
	buf_init(&q->body, 0);
}

void smtpd_queue_close(struct smtpd_queue *q)
{
	if (q->fd >= 0) {
		wire_conn_clear(&q->wc);
		close(q->fd);
	}
	q->fd = -1;
	q->open = false;
	buf_reset(&q->body);
}

static enum smtp_queue_result fail(struct smtpd_queue *q, const char *what)
{
	snprintf(q->err, sizeof(q->err), "queue: %s%s%s", what, errno != 0 ? ": " : "",
	         errno != 0 ? strerror(errno) : "");
	smtpd_queue_close(q);
	return SMTP_QUEUE_TEMP;
}

static int send_buf(struct smtpd_queue *q, struct buf *b)
{
	int rc = wire_send(q->fd, b->data, b->len, NULL, 0);
	buf_reset(b);
	return rc;
}

/* Next line; field count or -1. */
static int next_line(struct smtpd_queue *q, struct wire_field *f)
{
	for (;;) {
		int n = wire_conn_next(&q->wc, f, WIRE_MAX_FIELDS);
		if (n != 0)
			return n;
		errno = 0;
		if (wire_conn_read(&q->wc) <= 0)
			return -1;
	}
}

static int queue_connect(struct smtpd_queue *q)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(q->path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, q->path, strlen(q->path) + 1);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return -1;
	/* COMMIT waits for two fsyncs: give the server the client's timeout */
	struct timeval tv = {.tv_sec = q->timeout_ms / 1000,
	                     .tv_usec = (q->timeout_ms % 1000) * 1000};
	setsockopt(q->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(q->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	wire_conn_init(&q->wc, q->fd);
	if (connect(q->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return -1;
	struct buf b;
	buf_init(&b, 0);
	int rc = wire_encode_version(&b, "QUEUE", 1, 0) < 0 ? -1 : send_buf(q, &b);
	buf_free(&b);
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = rc < 0 ? -1 : next_line(q, f);
	if (n < 0 || wire_check_version(f, n, "QUEUE", 1) < 0)
		return -1;
	return 0;
}

/* The envelope lines of m into b. 0 or -1. */
static int encode_envelope(struct buf *b, const struct smtpd_queue_msg *m)
{
	char helo[300], addr[80], auth[300];
	const char *mail[6] = {"MAIL", m->sender};
	size_t k = 2;
	if (m->helo != NULL && m->helo[0] != '\0')
		snprintf(helo, sizeof(helo), "helo=%s", m->helo), mail[k++] = helo;
	if (m->addr != NULL)
		snprintf(addr, sizeof(addr), "addr=%s", m->addr), mail[k++] = addr;
	if (m->auth != NULL)
		snprintf(auth, sizeof(auth), "auth=%s", m->auth), mail[k++] = auth;
	mail[k] = NULL;
	if (wire_encode_strs(b, mail) < 0)
		return -1;
	for (size_t i = 0; i < m->n_rcpts; i++) {
		const char *rcpt[] = {"RCPT", m->rcpts[i], NULL};
		if (wire_encode_strs(b, rcpt) < 0)
			return -1;
	}
	const char *data[] = {"DATA", NULL};
	return wire_encode_strs(b, data);
}

/* Send the envelope on a connected socket; OK with the id, or the failure. */
static enum smtp_queue_result try_begin(struct smtpd_queue *q, const struct smtpd_queue_msg *m,
                                        char *qid, size_t qid_size, bool *transport_r)
{
	*transport_r = true;
	struct buf b;
	buf_init(&b, 0);
	int rc = encode_envelope(&b, m);
	if (rc == 0)
		rc = send_buf(q, &b);
	buf_free(&b);
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = rc < 0 ? -1 : next_line(q, f);
	if (n < 0)
		return fail(q, "connection lost at DATA");
	*transport_r = false;
	if (n >= 2 && wire_field_eq(&f[0], "OK") && f[1].len > 0 && f[1].len < qid_size) {
		memcpy(qid, f[1].p, f[1].len);
		qid[f[1].len] = '\0';
		snprintf(q->qid, sizeof(q->qid), "%s", qid);
		q->open = true;
		return SMTP_QUEUE_OK;
	}
	errno = 0;
	if (n >= 4 && wire_field_eq(&f[0], "FAIL")) {
		snprintf(q->err, sizeof(q->err), "queue refused the message: %.*s",
		         (int)(f[3].len > 200 ? 200 : f[3].len), f[3].p);
		/* perm: the server also closes; either way start afresh */
		smtpd_queue_close(q);
		return SMTP_QUEUE_TEMP;
	}
	return fail(q, "unexpected answer to DATA");
}

enum smtp_queue_result smtpd_queue_begin(struct smtpd_queue *q, const struct smtpd_queue_msg *m,
                                         char *qid, size_t qid_size)
{
	q->err[0] = '\0';
	buf_reset(&q->body);
	/* a kept connection may have been closed by the server meanwhile:
	 * one retry on a fresh one */
	for (int attempt = 0; attempt < 2; attempt++) {
		bool fresh = q->fd < 0;
		errno = 0;
		if (fresh && queue_connect(q) < 0)
			return fail(q, "cannot connect");
		bool transport;
		enum smtp_queue_result r = try_begin(q, m, qid, qid_size, &transport);
		if (r == SMTP_QUEUE_OK || !transport || fresh)
			return r;
	}
	return SMTP_QUEUE_TEMP;
}

static int send_body(struct smtpd_queue *q, const char *p, size_t len)
{
	struct buf b;
	buf_init(&b, 0);
	struct wire_field f[2] = {{"BODY", 4}, {p, len}};
	int rc = wire_encode(&b, f, 2);
	if (rc == 0)
		rc = send_buf(q, &b);
	buf_free(&b);
	return rc;
}

enum smtp_queue_result smtpd_queue_write(struct smtpd_queue *q, const char *p, size_t len)
{
	if (!q->open)
		return SMTP_QUEUE_TEMP;
	if (buf_append(&q->body, p, len) < 0)
		return fail(q, "out of memory");
	size_t off = 0;
	while (q->body.len - off >= BODY_LINE) {
		if (send_body(q, q->body.data + off, BODY_LINE) < 0)
			return fail(q, "connection lost in BODY");
		off += BODY_LINE;
	}
	buf_consume(&q->body, off);
	return SMTP_QUEUE_OK;
}

/* One STATUS question on a fresh connection: OK / TEMP, or -1 when the
 * connection failed (ask again). */
static int status_once(struct smtpd_queue *q)
{
	errno = 0;
	if (queue_connect(q) < 0)
		return -1;
	struct buf b;
	buf_init(&b, 0);
	const char *status[] = {"STATUS", q->qid, NULL};
	int rc = wire_encode_strs(&b, status) < 0 ? -1 : send_buf(q, &b);
	buf_free(&b);
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = rc < 0 ? -1 : next_line(q, f);
	if (n < 0)
		return -1;
	if (n >= 2 && wire_field_eq(&f[0], "OK"))
		return SMTP_QUEUE_OK;
	snprintf(q->err, sizeof(q->err), "queue lost the answer to COMMIT; STATUS: %.*s",
	         n >= 3 ? (int)(f[2].len > 200 ? 200 : f[2].len) : 0, n >= 3 ? f[2].p : "");
	smtpd_queue_close(q);
	return SMTP_QUEUE_TEMP;
}

/* The connection broke between COMMIT and its answer: the queue may have
 * died after the rename into active/. 451 would make the client send a
 * message again that is going to be delivered, so ask the restarted queue
 * (the master restarts it at once) whether it took. */
static enum smtp_queue_result ask_status(struct smtpd_queue *q)
{
	smtpd_queue_close(q);
	for (int waited = 0; waited < STATUS_WAIT_MS; waited += STATUS_STEP_MS) {
		int r = status_once(q);
		if (r >= 0)
			return (enum smtp_queue_result)r;
		smtpd_queue_close(q);
		usleep(STATUS_STEP_MS * 1000);
	}
	errno = 0;
	return fail(q, "connection lost at COMMIT, and the queue did not come back");
}

enum smtp_queue_result smtpd_queue_commit(struct smtpd_queue *q)
{
	if (!q->open)
		return SMTP_QUEUE_TEMP;
	errno = 0;
	if (q->body.len > 0 && send_body(q, q->body.data, q->body.len) < 0)
		return fail(q, "connection lost in BODY");
	buf_reset(&q->body);
	struct buf b;
	buf_init(&b, 0);
	const char *commit[] = {"COMMIT", NULL};
	int rc = wire_encode_strs(&b, commit) < 0 ? -1 : send_buf(q, &b);
	buf_free(&b);
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = rc < 0 ? -1 : next_line(q, f);
	q->open = false;
	if (n < 0)
		return ask_status(q);
	if (n >= 2 && wire_field_eq(&f[0], "OK"))
		return SMTP_QUEUE_OK;
	errno = 0;
	if (n >= 4 && wire_field_eq(&f[0], "FAIL")) {
		snprintf(q->err, sizeof(q->err), "queue commit failed: %.*s",
		         (int)(f[3].len > 200 ? 200 : f[3].len), f[3].p);
		return SMTP_QUEUE_TEMP;
	}
	return fail(q, "unexpected answer to COMMIT");
}

void smtpd_queue_abort(struct smtpd_queue *q)
{
	if (!q->open)
		return;
	q->open = false;
	buf_reset(&q->body);
	struct buf b;
	buf_init(&b, 0);
	const char *abort_[] = {"ABORT", NULL};
	int rc = wire_encode_strs(&b, abort_) < 0 ? -1 : send_buf(q, &b);
	buf_free(&b);
	struct wire_field f[WIRE_MAX_FIELDS];
	errno = 0;
	if (rc < 0 || next_line(q, f) < 0 || !wire_field_eq(&f[0], "OK"))
		fail(q, "ABORT not acknowledged");
}
