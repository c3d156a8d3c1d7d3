/* smtpd-queue.c: a connection child's link to loft-queue on /queue, over
 * the shared QUEUE client (lib/ipc/queue-client.h), which encodes every
 * request and parses every answer. What is smtpd's own: the connection
 * opens at the first DATA and serves the session's later messages; a kept
 * one the server closed meanwhile is retried once on a fresh one; the
 * client's results map to the session's (FAIL perm is the only 5xx); and an
 * answer to COMMIT lost with the connection is asked for again with STATUS
 * (docs/queue-protocol.md). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-private.h"

/* How long to wait for a restarted queue after a lost COMMIT answer. */
#define STATUS_WAIT_MS 15000
#define STATUS_STEP_MS 100

void smtpd_queue_init(struct smtpd_queue *q, const char *path, int timeout_ms)
{
	q->path = path;
	q->timeout_ms = timeout_ms;
	q->qid[0] = '\0';
	queue_client_init(&q->qc);
}

void smtpd_queue_close(struct smtpd_queue *q)
{
	queue_client_close(&q->qc);
}

static enum smtp_queue_result map(enum queue_result r)
{
	return r == QUEUE_OK         ? SMTP_QUEUE_OK
	       : r == QUEUE_PERMFAIL ? SMTP_QUEUE_PERM
	                             : SMTP_QUEUE_TEMP;
}

enum smtp_queue_result smtpd_queue_begin(struct smtpd_queue *q, const struct smtpd_queue_msg *m,
                                         char *qid, size_t qid_size)
{
	struct queue_envelope env = {
	    .sender = m->sender,
	    .rcpts = m->rcpts,
	    .n_rcpts = m->n_rcpts,
	    .helo = m->helo,
	    .addr = m->addr,
	    .auth = m->auth,
	};
	enum queue_result r = QUEUE_IO_ERROR;
	for (int attempt = 0; attempt < 2; attempt++) {
		bool fresh = !queue_client_connected(&q->qc);
		if (fresh && (r = queue_client_connect(&q->qc, q->path, q->timeout_ms)) != QUEUE_OK)
			break;
		r = queue_client_begin(&q->qc, &env, qid, qid_size);
		if (r == QUEUE_OK)
			snprintf(q->qid, sizeof(q->qid), "%s", qid);
		/* only a transport failure on a kept connection is worth a retry */
		if (r != QUEUE_IO_ERROR || fresh)
			break;
	}
	return map(r);
}

enum smtp_queue_result smtpd_queue_write(struct smtpd_queue *q, const char *p, size_t len)
{
	return map(queue_client_write(&q->qc, p, len));
}

/* The connection broke between COMMIT and its answer: the queue may have
 * died after the rename into active/. 451 would make the client send again
 * a message that is going to be delivered, so ask the restarted queue (the
 * master restarts it at once) whether it took: OK, or FAIL temp. */
static enum queue_result ask_status(struct smtpd_queue *q)
{
	for (int waited = 0; waited < STATUS_WAIT_MS; waited += STATUS_STEP_MS) {
		queue_client_close(&q->qc);
		/* only the answer to STATUS decides; a refused or failed
		 * connection (queue still starting, socket full) is tried again */
		if (queue_client_connect(&q->qc, q->path, q->timeout_ms) == QUEUE_OK) {
			enum queue_result r =
			    queue_client_admin(&q->qc, QUEUE_ADMIN_STATUS, q->qid, NULL);
			if (r != QUEUE_IO_ERROR)
				return r;
		}
		usleep(STATUS_STEP_MS * 1000);
	}
	queue_client_close(&q->qc);
	snprintf(q->qc.err, sizeof(q->qc.err),
	         "connection lost at COMMIT, and the queue did not come back");
	return QUEUE_IO_ERROR;
}

enum smtp_queue_result smtpd_queue_commit(struct smtpd_queue *q)
{
	enum queue_result r = queue_client_commit(&q->qc);
	if (r == QUEUE_IO_ERROR && q->qid[0] != '\0')
		r = ask_status(q);
	q->qid[0] = '\0';
	return map(r);
}

void smtpd_queue_abort(struct smtpd_queue *q)
{
	q->qid[0] = '\0';
	queue_client_abort(&q->qc);
}

const char *smtpd_queue_error(const struct smtpd_queue *q)
{
	return q->qc.err;
}

void smtpd_queue_reason(const struct smtpd_queue *q, const char **status_r, const char **text_r)
{
	*status_r = q->qc.status;
	*text_r = q->qc.text;
}
