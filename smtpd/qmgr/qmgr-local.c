/* qmgr-local.c: local delivery, run in a job child (qmgr-job.c): a blocking
 * LMTP client (RFC 2033) for mailstore's socket <base_dir>/lmtp. One
 * transaction per message: LHLO, MAIL FROM, RCPT TO per recipient, DATA
 * with dot-stuffing, then one reply per accepted recipient. Every recipient
 * is reported: 2xx ok, 5xx perm, anything else (4xx, no connection, a
 * dropped connection) temp. When mailstore offers X-LOFT-QID in its LHLO
 * reply, MAIL carries the queue id, so a delivery retried after a crash is
 * answered "Already delivered" instead of being stored twice (docs/lmtp.md). */
#include "qmgr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define LMTP_REPLY_MAX 1024

struct lmtp_cl {
	int fd;
	char in[8192];
	size_t len;
	struct buf out;
	char reply[LMTP_REPLY_MAX]; /* last reply line, sanitised */
	bool has_qid;               /* some reply line was "250[- ]X-LOFT-QID" */
};

static int cl_flush(struct lmtp_cl *c)
{
	size_t off = 0;
	while (off < c->out.len) {
		ssize_t w = send(c->fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	buf_reset(&c->out);
	return 0;
}

__attribute__((format(printf, 2, 3))) static int cl_cmd(struct lmtp_cl *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	return cl_flush(c);
}

/* One reply (continuation lines skipped): its code, or -1 when the
 * connection failed; c->reply holds the last line. */
static int cl_reply(struct lmtp_cl *c)
{
	for (;;) {
		char *lf = memchr(c->in, '\n', c->len);
		if (lf == NULL) {
			if (c->len == sizeof(c->in))
				c->len = 0; /* an absurd line: keep its tail only */
			ssize_t r = recv(c->fd, c->in + c->len, sizeof(c->in) - c->len, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			c->len += (size_t)r;
			continue;
		}
		size_t n = (size_t)(lf - c->in);
		size_t tl = n > 0 && c->in[n - 1] == '\r' ? n - 1 : n;
		log_sanitise(c->reply, sizeof(c->reply), c->in, tl);
		bool more = tl >= 4 && c->in[3] == '-';
		if (tl >= 4 && strncmp(c->reply, "250", 3) == 0 &&
		    strcasecmp(c->reply + 4, "X-LOFT-QID") == 0)
			c->has_qid = true;
		memmove(c->in, lf + 1, c->len - n - 1);
		c->len -= n + 1;
		if (more)
			continue;
		if (tl < 3 || c->reply[0] < '1' || c->reply[0] > '5')
			return 0;
		return (c->reply[0] - '0') * 100 + (c->reply[1] - '0') * 10 + (c->reply[2] - '0');
	}
}

static enum qmgr_result classify(int code)
{
	if (code >= 200 && code < 300)
		return QMGR_OK;
	return code >= 500 && code < 600 ? QMGR_PERM : QMGR_TEMP;
}

/* Report every recipient of the job not yet settled with r/text. */
static void report_rest(int out, const struct qmgr_job *j, const bool *settled, enum qmgr_result r,
                        const char *text)
{
	for (size_t i = 0; i < j->msgs[0].nrcpt; i++) {
		if (!settled[i])
			qmgr_job_report(out, 0, i, r, text);
	}
}

static int lmtp_connect(const char *base_dir, uint64_t timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/lmtp", base_dir);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "4.3.0 lmtp unavailable: socket path too long");
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(err, errlen, "4.3.0 lmtp unavailable: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static bool has_8bit(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80)
			return true;
	}
	return false;
}

/* The body, dot-stuffed after every CRLF (only CRLF starts a line for the
 * end marker, docs/lmtp.md), ending in CRLF . CRLF. */
static int send_body(struct lmtp_cl *c, const struct queue_msg *m)
{
	size_t pos = m->body_off, n;
	const char *chunk;
	bool bol = true; /* at the beginning of a line */
	char prev = '\0';
	while (queue_body_next(m->raw, m->file_len, &pos, &chunk, &n) == 1) {
		for (size_t i = 0; i < n; i++) {
			if (bol && chunk[i] == '.' && buf_append(&c->out, ".", 1) < 0)
				return -1;
			if (buf_append(&c->out, &chunk[i], 1) < 0)
				return -1;
			bol = chunk[i] == '\n' && prev == '\r';
			prev = chunk[i];
		}
		if (cl_flush(c) < 0)
			return -1;
	}
	if (!bol && buf_append_str(&c->out, "\r\n") < 0)
		return -1;
	if (buf_append_str(&c->out, ".\r\n") < 0)
		return -1;
	return cl_flush(c);
}

/* RCPT TO for each recipient; accepted[i] set on 2xx, others reported. */
static int send_rcpts(struct lmtp_cl *c, const struct qmgr *q, const struct qmgr_job *j,
                      const struct queue_msg *m, int out, bool *settled, bool *accepted)
{
	size_t naccepted = 0;
	for (size_t i = 0; i < j->msgs[0].nrcpt; i++) {
		struct qmgr_dest d;
		if (qmgr_route(&q->set.route, m->rcpts[j->msgs[0].rcpt[i]].addr, &d) < 0 ||
		    !d.local) {
			qmgr_job_report(out, 0, i, QMGR_PERM, "5.1.3 bad recipient address");
			settled[i] = true;
			continue;
		}
		if (cl_cmd(c, "RCPT TO:<%s>\r\n", d.lmtp_rcpt) < 0)
			return -1;
		int code = cl_reply(c);
		if (code < 0)
			return -1;
		enum qmgr_result r = classify(code);
		if (r == QMGR_OK) {
			accepted[i] = true;
			naccepted++;
		} else {
			qmgr_job_report(out, 0, i, r, c->reply);
			settled[i] = true;
		}
	}
	return (int)naccepted;
}

static void lmtp_transaction(struct lmtp_cl *c, const struct qmgr *q, const struct qmgr_job *j,
                             const struct queue_msg *m, int out, bool *settled)
{
	bool accepted[QMGR_JOB_RCPTS] = {false};
	bool perm_ok = false; /* a 5xx before MAIL is the server's problem, not the mail's */
	int code = cl_reply(c);
	if (code != 220)
		goto fail;
	if (cl_cmd(c, "LHLO %s\r\n", q->set.hostname) < 0 || (code = cl_reply(c)) != 250)
		goto fail;
	bool utf8 = has_8bit(m->sender);
	for (size_t i = 0; i < m->nrcpt; i++)
		utf8 |= has_8bit(m->rcpts[i].addr);
	perm_ok = true;
	/* Only LHLO's reply can have set has_qid: the greeting came first. */
	if (cl_cmd(c, "MAIL FROM:<%s>%s%s%s\r\n", m->sender, utf8 ? " SMTPUTF8" : "",
	           c->has_qid ? " X-LOFT-QID=" : "", c->has_qid ? m->id : "") < 0 ||
	    (code = cl_reply(c)) != 250)
		goto fail;
	int n = send_rcpts(c, q, j, m, out, settled, accepted);
	if (n < 0) {
		code = -1;
		goto fail;
	}
	if (n == 0)
		goto quit;
	if (cl_cmd(c, "DATA\r\n") < 0 || (code = cl_reply(c)) != 354)
		goto fail;
	if (send_body(c, m) < 0) {
		code = -1;
		goto fail;
	}
	for (size_t i = 0; i < j->msgs[0].nrcpt; i++) {
		if (!accepted[i])
			continue;
		if ((code = cl_reply(c)) < 0)
			goto fail;
		qmgr_job_report(out, 0, i, classify(code), c->reply);
		settled[i] = true;
	}
quit:
	if (cl_cmd(c, "QUIT\r\n") == 0)
		(void)cl_reply(c);
	return;
fail:
	if (code < 0)
		report_rest(out, j, settled, QMGR_TEMP, "4.4.2 lmtp connection lost");
	else
		report_rest(out, j, settled,
		            perm_ok && classify(code) == QMGR_PERM ? QMGR_PERM : QMGR_TEMP,
		            c->reply);
}

void qmgr_local_run(const struct qmgr *q, const struct qmgr_job *j, const struct queue_msg *m,
                    int out)
{
	bool settled[QMGR_JOB_RCPTS] = {false};
	char err[256];
	struct lmtp_cl c = {.fd = -1};
	c.fd = lmtp_connect(q->set.base_dir, q->set.timeout_ms, err, sizeof(err));
	if (c.fd < 0) {
		report_rest(out, j, settled, QMGR_TEMP, err);
		return;
	}
	buf_init(&c.out, 0);
	lmtp_transaction(&c, q, j, m, out, settled);
	buf_free(&c.out);
	close(c.fd);
}
