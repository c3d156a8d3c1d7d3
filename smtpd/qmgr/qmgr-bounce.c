/* qmgr-bounce.c: turning failed recipients into a DSN. The report itself
 * is built by bounce.c (RFC 3464, original headers attached); this file
 * gathers the original header section from the spool body and queues the
 * report as a new message from <> to the original sender, through the same
 * writer the QUEUE server uses: committed (fsync'd) before the caller marks
 * anything bounced. */
#include "qmgr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounce.h"

int qmgr_enqueue(struct qmgr *q, struct queue_msg *m, const char *body, size_t len, char *id_r,
                 const char **error_r)
{
	struct queue_writer w;
	if (queue_writer_begin(&q->qs, m, &w, error_r) < 0)
		return -1;
	if (queue_writer_body(&w, body, len, error_r) < 0) {
		queue_writer_abort(&w);
		return -1;
	}
	memcpy(id_r, w.id, QUEUE_ID_LEN + 1);
	return queue_writer_commit(&w, error_r);
}

/* The first bytes of m's body: enough for its header section. */
static int original_head(const struct queue_msg *m, struct buf *out)
{
	size_t pos = m->body_off, n;
	const char *chunk;
	while (out->len <= BOUNCE_HEADERS_MAX &&
	       queue_body_next(m->raw, m->file_len, &pos, &chunk, &n) == 1) {
		if (buf_append(out, chunk, n) < 0)
			return -1;
	}
	return 0;
}

int qmgr_bounce_send(struct qmgr *q, const struct queue_msg *m, const struct qmgr_bounce_rcpt *r,
                     size_t n, bool expired, char *id_r)
{
	struct bounce_rcpt *br = calloc(n > 0 ? n : 1, sizeof(*br));
	struct buf head, dsn;
	const char *err = "cannot build the report";
	int rc = -1;
	if (br == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		br[i] = (struct bounce_rcpt){r[i].rcpt, r[i].status, r[i].text, r[i].remote_mta};
	struct bounce_info bi = {q->set.hostname,    m->id,      m->sender,
	                         (time_t)m->arrival, time(NULL), expired};
	buf_init(&head, 0);
	buf_init(&dsn, 0);
	if (original_head(m, &head) == 0 &&
	    bounce_build(&dsn, &bi, br, n, head.data != NULL ? head.data : "", head.len) == 0) {
		char null_sender[] = "", client[] = "local bounce";
		struct queue_rcpt rcpt = {.addr = m->sender};
		struct queue_msg out = {
		    .sender = null_sender, .client_addr = client, .rcpts = &rcpt, .nrcpt = 1};
		rc = qmgr_enqueue(q, &out, dsn.data, dsn.len, id_r, &err);
	}
	if (rc < 0)
		log_error(&q->lg, "%s: cannot queue the non-delivery notification: %s", m->id, err);
	buf_free(&head);
	buf_free(&dsn);
	free(br);
	return rc;
}
