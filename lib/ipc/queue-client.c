/* queue-client.c: the QUEUE protocol client (queue-client.h). One blocking
 * connection; an answer is awaited only where the protocol sends one (DATA,
 * COMMIT, ABORT, administration verbs); BODY lines are batched. */
#include "queue-client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "queue-id.h"

#define BODY_BATCH 16 /* BODY lines per write: fewer syscalls */

static void set_err(struct queue_client *qc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(struct queue_client *qc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(qc->err, sizeof(qc->err), fmt, ap);
	va_end(ap);
}

static void reset_err(struct queue_client *qc)
{
	qc->err[0] = qc->status[0] = qc->text[0] = '\0';
}

/* The connection is no longer trustworthy: drop it. */
static enum queue_result io_fail(struct queue_client *qc, const char *what)
{
	int e = errno;
	set_err(qc, "%s: %s", what,
	        e == EAGAIN || e == EWOULDBLOCK ? "timed out"
	        : e == 0                        ? "connection closed"
	                                        : strerror(e));
	queue_client_close(qc);
	return QUEUE_IO_ERROR;
}

static enum queue_result proto_fail(struct queue_client *qc, const char *what)
{
	set_err(qc, "unexpected answer from the queue: %s", what);
	queue_client_close(qc);
	return QUEUE_PROTO_ERROR;
}

static enum queue_result send_buf(struct queue_client *qc, struct buf *b, const char *what)
{
	errno = 0;
	int rc = wire_send(qc->fd, b->data, b->len, NULL, 0);
	buf_reset(b);
	return rc < 0 ? io_fail(qc, what) : QUEUE_OK;
}

/* One answer line, parsed. QUEUE_OK, or the IO/protocol failure. */
static enum queue_result read_answer(struct queue_client *qc, struct queue_answer *a)
{
	struct wire_field f[WIRE_MAX_FIELDS];
	const char *perr;
	for (;;) {
		int n = wire_conn_next(&qc->conn, f, WIRE_MAX_FIELDS);
		if (n < 0)
			return proto_fail(qc, "malformed line");
		if (n > 0)
			return queue_answer_parse_fields(f, n, a, &perr) < 0 ? proto_fail(qc, perr)
			                                                     : QUEUE_OK;
		errno = 0;
		if (wire_conn_read(&qc->conn) <= 0)
			return io_fail(qc, "cannot read from the queue");
	}
}

/* A FAIL answer: keep its code and text for the caller. */
static enum queue_result record_fail(struct queue_client *qc, const struct queue_answer *a)
{
	memcpy(qc->status, a->status, sizeof(qc->status));
	memcpy(qc->text, a->text, sizeof(qc->text));
	if (a->status[0] == '\0' && a->text[0] == '\0')
		set_err(qc, "%s", "request failed");
	else
		set_err(qc, "%s%s%s", a->status, a->status[0] != '\0' ? " " : "", a->text);
	return a->fail;
}

/* OK [id] | FAIL. With qid, OK must carry a valid queue id, copied there. */
static enum queue_result expect_ok(struct queue_client *qc, char *qid, size_t qid_size)
{
	struct queue_answer a;
	enum queue_result r = read_answer(qc, &a);
	if (r != QUEUE_OK)
		return r;
	if (a.kind == QUEUE_ANSWER_FAIL)
		return record_fail(qc, &a);
	if (a.kind != QUEUE_ANSWER_OK)
		return proto_fail(qc, "not OK or FAIL");
	if (qid == NULL)
		return QUEUE_OK;
	if (!queue_id_valid(a.value.p, a.value.len) || a.value.len >= qid_size)
		return proto_fail(qc, "OK without a queue id");
	memcpy(qid, a.value.p, a.value.len);
	qid[a.value.len] = '\0';
	return QUEUE_OK;
}

void queue_client_init(struct queue_client *qc)
{
	memset(qc, 0, sizeof(*qc));
	qc->fd = -1;
	wire_conn_init(&qc->conn, -1);
	buf_init(&qc->body, 0);
}

bool queue_client_connected(const struct queue_client *qc)
{
	return qc->fd >= 0;
}

void queue_client_close(struct queue_client *qc)
{
	wire_conn_clear(&qc->conn);
	wire_conn_init(&qc->conn, -1);
	if (qc->fd >= 0)
		close(qc->fd);
	qc->fd = -1;
	qc->open = false;
	buf_free(&qc->body);
	buf_init(&qc->body, 0);
}

/* A connection limit: the server's reason comes instead of its version. */
static enum queue_result refused(struct queue_client *qc, const struct wire_field *f, int n)
{
	struct queue_answer a;
	const char *perr;
	if (queue_answer_parse_fields(f, n, &a, &perr) < 0)
		return proto_fail(qc, perr);
	enum queue_result r = record_fail(qc, &a);
	set_err(qc, "the queue refused the connection: %s%s%s", a.status,
	        a.status[0] != '\0' ? " " : "", a.text[0] != '\0' ? a.text : "no text");
	queue_client_close(qc);
	return r;
}

enum queue_result queue_client_connect(struct queue_client *qc, const char *path, int timeout_ms)
{
	queue_client_close(qc);
	reset_err(qc);
	qc->timeout_ms = timeout_ms;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		set_err(qc, "%s is too long for a socket path", path);
		return QUEUE_IO_ERROR;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	qc->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (qc->fd < 0)
		return io_fail(qc, "socket");
	/* COMMIT waits for two fsyncs: the server gets the whole timeout */
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	setsockopt(qc->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(qc->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(qc->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		queue_client_close(qc);
		set_err(qc, "cannot connect to the queue at %s: %s", path, strerror(e));
		return QUEUE_IO_ERROR;
	}
	wire_conn_init(&qc->conn, qc->fd);
	struct buf b;
	buf_init(&b, 0);
	enum queue_result r = wire_encode_version(&b, "QUEUE", 1, 0) < 0
	                          ? io_fail(qc, "out of memory")
	                          : send_buf(qc, &b, "cannot write to the queue");
	buf_free(&b);
	if (r != QUEUE_OK)
		return r;
	struct wire_field f[WIRE_MAX_FIELDS];
	for (;;) {
		int n = wire_conn_next(&qc->conn, f, WIRE_MAX_FIELDS);
		if (n > 0 && wire_field_eq(&f[0], "FAIL"))
			return refused(qc, f, n);
		if (n < 0 || (n > 0 && wire_check_version(f, n, "QUEUE", 1) < 0))
			return proto_fail(qc, "not QUEUE version 1");
		if (n > 0)
			return QUEUE_OK;
		errno = 0;
		if (wire_conn_read(&qc->conn) <= 0)
			return io_fail(qc, "cannot read from the queue");
	}
}

enum queue_result queue_client_connect_pickup(struct queue_client *qc, const char *base_dir,
                                              int timeout_ms)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	if ((size_t)snprintf(path, sizeof(path), "%s/pickup", base_dir) >= sizeof(path)) {
		queue_client_close(qc);
		set_err(qc, "base_dir %s is too long for a socket path", base_dir);
		return QUEUE_IO_ERROR;
	}
	return queue_client_connect(qc, path, timeout_ms);
}

/* "key=value" for MAIL; 0, 1 when absent, -1 out of memory. */
static int mail_key(struct buf *b, const char *key, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return 1;
	return buf_printf(b, "%s=%s", key, value) < 0 ? -1 : 0;
}

static int encode_envelope(struct buf *out, const struct queue_envelope *env)
{
	static const char *const keys[] = {"helo", "addr", "auth"};
	const char *values[] = {env->helo, env->addr, env->auth};
	struct buf kv[3];
	const char *mail[6] = {"MAIL", env->sender};
	size_t k = 2;
	int rc = 0;
	for (size_t i = 0; i < 3; i++) {
		buf_init(&kv[i], 0);
		int r = rc < 0 ? -1 : mail_key(&kv[i], keys[i], values[i]);
		if (r < 0)
			rc = -1;
		else if (r == 0)
			mail[k++] = kv[i].data;
	}
	mail[k] = NULL;
	if (rc == 0)
		rc = wire_encode_strs(out, mail);
	for (size_t i = 0; i < 3; i++)
		buf_free(&kv[i]);
	for (size_t i = 0; rc == 0 && i < env->n_rcpts; i++) {
		const char *rcpt[] = {"RCPT", env->rcpts[i], NULL};
		rc = wire_encode_strs(out, rcpt);
	}
	const char *data[] = {"DATA", NULL};
	return rc == 0 ? wire_encode_strs(out, data) : -1;
}

enum queue_result queue_client_begin(struct queue_client *qc, const struct queue_envelope *env,
                                     char *qid, size_t qid_size)
{
	reset_err(qc);
	if (qc->fd < 0) {
		set_err(qc, "not connected to the queue");
		return QUEUE_IO_ERROR;
	}
	if (qc->open)
		queue_client_abort(qc);
	if (qc->fd < 0)
		return QUEUE_IO_ERROR;
	buf_reset(&qc->body);
	struct buf b;
	buf_init(&b, 0);
	enum queue_result r = encode_envelope(&b, env) < 0 ? QUEUE_PERMFAIL : QUEUE_OK;
	if (r != QUEUE_OK)
		set_err(qc, "envelope too long for the queue");
	else
		r = send_buf(qc, &b, "cannot write to the queue");
	buf_free(&b);
	if (r == QUEUE_OK)
		r = expect_ok(qc, qid, qid_size);
	if (r == QUEUE_OK)
		qc->open = true;
	else /* the server closes after most refusals: start afresh */
		queue_client_close(qc);
	return r;
}

/* Send body bytes as BODY lines: every full line, and with all also the
 * last partial one. */
static enum queue_result flush_body(struct queue_client *qc, bool all)
{
	struct buf b;
	buf_init(&b, 0);
	size_t off = 0;
	enum queue_result r = QUEUE_OK;
	while (r == QUEUE_OK && qc->body.len - off > 0 &&
	       (all || qc->body.len - off >= QUEUE_BODY_LINE)) {
		for (int k = 0; k < BODY_BATCH && qc->body.len - off > 0; k++) {
			size_t n = qc->body.len - off;
			if (n > QUEUE_BODY_LINE)
				n = QUEUE_BODY_LINE;
			else if (n < QUEUE_BODY_LINE && !all)
				break;
			struct wire_field f[2] = {{"BODY", 4}, {qc->body.data + off, n}};
			if (wire_encode(&b, f, 2) < 0) {
				errno = ENOMEM;
				buf_free(&b);
				return io_fail(qc, "cannot encode BODY");
			}
			off += n;
		}
		r = send_buf(qc, &b, "cannot write to the queue");
	}
	buf_free(&b);
	if (r == QUEUE_OK)
		buf_consume(&qc->body, off);
	return r;
}

enum queue_result queue_client_write(struct queue_client *qc, const char *p, size_t len)
{
	reset_err(qc);
	if (!qc->open) {
		set_err(qc, "no message open on the queue");
		return QUEUE_IO_ERROR;
	}
	if (buf_append(&qc->body, p, len) < 0) {
		errno = ENOMEM;
		return io_fail(qc, "message body");
	}
	return qc->body.len >= QUEUE_BODY_LINE ? flush_body(qc, false) : QUEUE_OK;
}

enum queue_result queue_client_commit(struct queue_client *qc)
{
	reset_err(qc);
	if (!qc->open) {
		set_err(qc, "no message open on the queue");
		return QUEUE_IO_ERROR;
	}
	enum queue_result r = flush_body(qc, true);
	if (r != QUEUE_OK)
		return r;
	qc->open = false;
	struct buf b;
	buf_init(&b, 0);
	const char *commit[] = {"COMMIT", NULL};
	r = wire_encode_strs(&b, commit) < 0 ? io_fail(qc, "out of memory")
	                                     : send_buf(qc, &b, "cannot write to the queue");
	buf_free(&b);
	char id[QUEUE_ID_LEN + 1];
	return r == QUEUE_OK ? expect_ok(qc, id, sizeof(id)) : r;
}

void queue_client_abort(struct queue_client *qc)
{
	if (!qc->open)
		return;
	qc->open = false;
	buf_reset(&qc->body);
	struct buf b;
	buf_init(&b, 0);
	const char *abort_[] = {"ABORT", NULL};
	enum queue_result r = wire_encode_strs(&b, abort_) < 0
	                          ? io_fail(qc, "out of memory")
	                          : send_buf(qc, &b, "cannot write to the queue");
	buf_free(&b);
	if (r == QUEUE_OK && expect_ok(qc, NULL, 0) != QUEUE_OK)
		queue_client_close(qc); /* not acknowledged: the state is unknown */
}

static const struct {
	const char *word;
	bool needs_id;
} admin_verbs[] = {
    [QUEUE_ADMIN_LIST] = {"LIST", false},      [QUEUE_ADMIN_FLUSH] = {"FLUSH", false},
    [QUEUE_ADMIN_DELETE] = {"DELETE", true},   [QUEUE_ADMIN_HOLD] = {"HOLD", true},
    [QUEUE_ADMIN_RELEASE] = {"RELEASE", true}, [QUEUE_ADMIN_STATUS] = {"STATUS", true},
};

enum queue_result queue_client_admin(struct queue_client *qc, enum queue_admin_verb verb,
                                     const char *id, struct buf *text)
{
	reset_err(qc);
	if ((unsigned)verb >= sizeof(admin_verbs) / sizeof(admin_verbs[0]) ||
	    admin_verbs[verb].needs_id != (id != NULL)) {
		set_err(qc, "bad administration request");
		return QUEUE_PROTO_ERROR;
	}
	if (qc->fd < 0) {
		set_err(qc, "not connected to the queue");
		return QUEUE_IO_ERROR;
	}
	struct buf b;
	buf_init(&b, 0);
	const char *req[] = {admin_verbs[verb].word, id, NULL};
	enum queue_result r = wire_encode_strs(&b, req) < 0
	                          ? proto_fail(qc, "request too long")
	                          : send_buf(qc, &b, "cannot write to the queue");
	buf_free(&b);
	if (r != QUEUE_OK || verb != QUEUE_ADMIN_LIST)
		return r == QUEUE_OK ? expect_ok(qc, NULL, 0) : r;
	struct queue_answer a;
	r = read_answer(qc, &a);
	if (r != QUEUE_OK)
		return r;
	if (a.kind == QUEUE_ANSWER_FAIL)
		return record_fail(qc, &a);
	/* LIST is one wire line: a listing over 64 KiB cannot be encoded and
	 * the server then sends its OK alone */
	if (a.kind != QUEUE_ANSWER_LIST)
		return proto_fail(qc, "no listing (longer than one protocol line?)");
	if (text != NULL && buf_append(text, a.value.p, a.value.len) < 0) {
		errno = ENOMEM;
		return io_fail(qc, "listing");
	}
	return expect_ok(qc, NULL, 0);
}

bool queue_client_may_admin(const char *base_dir)
{
	if (getuid() == 0)
		return true;
	char path[4096];
	struct stat st;
	if ((size_t)snprintf(path, sizeof(path), "%s/pickup", base_dir) >= sizeof(path) ||
	    stat(path, &st) < 0)
		return false;
	return st.st_uid == getuid();
}
