/* sendmail-client.c: QUEUE protocol client over base_dir/pickup
 * (sendmail-client.h). One blocking connection; a reply is awaited only
 * where the protocol sends one (DATA, COMMIT, admin verbs). */
#include "sendmail-client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define BODY_CHUNK 16384

static void set_err(struct qclient *qc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct qclient *qc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(qc->err, sizeof(qc->err), fmt, ap);
	va_end(ap);
}

static enum qclient_result send_strs(struct qclient *qc, const char *const *strs)
{
	struct buf b;
	buf_init(&b, WIRE_MAX_LINE + 1);
	enum qclient_result r = QCLIENT_OK;
	if (wire_encode_strs(&b, strs) < 0) {
		set_err(qc, "request too long");
		r = QCLIENT_PERM;
	} else if (wire_send(qc->fd, b.data, b.len, NULL, 0) < 0) {
		set_err(qc, "cannot write to the queue: %s", strerror(errno));
		r = QCLIENT_TEMP;
	}
	buf_free(&b);
	return r;
}

/* Read one reply line into f; the count, or -1 (err set). */
static int read_reply(struct qclient *qc, struct wire_field *f, size_t max)
{
	for (;;) {
		int n = wire_conn_next(&qc->conn, f, max);
		if (n != 0) {
			if (n < 0)
				set_err(qc, "malformed reply from the queue");
			return n;
		}
		ssize_t got = wire_conn_read(&qc->conn);
		if (got == 0) {
			set_err(qc, "the queue closed the connection");
			return -1;
		}
		if (got < 0) {
			set_err(qc, "cannot read from the queue: %s",
			        errno == EAGAIN ? "timed out" : strerror(errno));
			return -1;
		}
	}
}

/* OK [value] | FAIL temp|perm text. value (when given) gets field 1 of OK. */
static enum qclient_result expect_ok(struct qclient *qc, char *value, size_t value_size)
{
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = read_reply(qc, f, WIRE_MAX_FIELDS);
	if (n < 0)
		return QCLIENT_TEMP;
	if (wire_field_eq(&f[0], "OK")) {
		if (value != NULL) {
			if (n < 2 || f[1].len >= value_size) {
				set_err(qc, "malformed OK reply from the queue");
				return QCLIENT_TEMP;
			}
			memcpy(value, f[1].p, f[1].len);
			value[f[1].len] = '\0';
		}
		return QCLIENT_OK;
	}
	if (wire_field_eq(&f[0], "FAIL")) {
		bool perm = n >= 2 && wire_field_eq(&f[1], "perm");
		set_err(qc, "%.*s", n >= 3 ? (int)f[2].len : 13,
		        n >= 3 ? f[2].p : "request failed");
		return perm ? QCLIENT_PERM : QCLIENT_TEMP;
	}
	set_err(qc, "unexpected reply from the queue");
	return QCLIENT_TEMP;
}

enum qclient_result qclient_connect(struct qclient *qc, const char *base_dir, int timeout_sec)
{
	memset(qc, 0, sizeof(*qc));
	qc->fd = -1;
	wire_conn_init(&qc->conn, -1);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/pickup", base_dir) >=
	    sizeof(sa.sun_path)) {
		set_err(qc, "base_dir %s is too long for a socket path", base_dir);
		return QCLIENT_TEMP;
	}
	qc->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (qc->fd < 0) {
		set_err(qc, "socket: %s", strerror(errno));
		return QCLIENT_TEMP;
	}
	struct timeval tv = {.tv_sec = timeout_sec};
	setsockopt(qc->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(qc->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(qc->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		set_err(qc, "cannot connect to the queue at %s: %s", sa.sun_path, strerror(errno));
		return QCLIENT_TEMP;
	}
	wire_conn_init(&qc->conn, qc->fd);
	struct buf b;
	buf_init(&b, 0);
	int rc = wire_encode_version(&b, "QUEUE", 1, 0);
	if (rc == 0)
		rc = wire_send(qc->fd, b.data, b.len, NULL, 0);
	buf_free(&b);
	if (rc < 0) {
		set_err(qc, "cannot write to the queue: %s", strerror(errno));
		return QCLIENT_TEMP;
	}
	struct wire_field f[8];
	int n = read_reply(qc, f, 8);
	if (n < 0)
		return QCLIENT_TEMP;
	if (wire_field_eq(&f[0], "FAIL")) {
		/* a connection limit: the reason comes instead of the version */
		set_err(qc, "the queue refused the connection: %.*s", n >= 3 ? (int)f[2].len : 7,
		        n >= 3 ? f[2].p : "no text");
		return n >= 2 && wire_field_eq(&f[1], "perm") ? QCLIENT_PERM : QCLIENT_TEMP;
	}
	if (wire_check_version(f, n, "QUEUE", 1) < 0) {
		set_err(qc, "the queue speaks another protocol version");
		return QCLIENT_TEMP;
	}
	return QCLIENT_OK;
}

void qclient_close(struct qclient *qc)
{
	wire_conn_clear(&qc->conn);
	if (qc->fd >= 0)
		close(qc->fd);
	qc->fd = -1;
}

enum qclient_result qclient_begin(struct qclient *qc, const char *sender, char *const *rcpts,
                                  size_t n, char *qid, size_t qid_size)
{
	const char *mail[] = {"MAIL", sender, NULL};
	enum qclient_result r = send_strs(qc, mail);
	for (size_t i = 0; r == QCLIENT_OK && i < n; i++) {
		const char *rcpt[] = {"RCPT", rcpts[i], NULL};
		r = send_strs(qc, rcpt);
	}
	if (r == QCLIENT_OK) {
		const char *data[] = {"DATA", NULL};
		r = send_strs(qc, data);
	}
	return r == QCLIENT_OK ? expect_ok(qc, qid, qid_size) : r;
}

enum qclient_result qclient_body(struct qclient *qc, const char *p, size_t len)
{
	struct buf b;
	buf_init(&b, 0);
	enum qclient_result r = QCLIENT_OK;
	while (len > 0 && r == QCLIENT_OK) {
		/* several BODY lines per write keep the syscall count low */
		buf_reset(&b);
		for (int k = 0; k < 16 && len > 0; k++) {
			size_t n = len < BODY_CHUNK ? len : BODY_CHUNK;
			struct wire_field f[2] = {{"BODY", 4}, {p, n}};
			if (wire_encode(&b, f, 2) < 0) {
				set_err(qc, "out of memory");
				buf_free(&b);
				return QCLIENT_TEMP;
			}
			p += n;
			len -= n;
		}
		if (wire_send(qc->fd, b.data, b.len, NULL, 0) < 0) {
			set_err(qc, "cannot write to the queue: %s", strerror(errno));
			r = QCLIENT_TEMP;
		}
	}
	buf_free(&b);
	return r;
}

enum qclient_result qclient_commit(struct qclient *qc)
{
	const char *commit[] = {"COMMIT", NULL};
	enum qclient_result r = send_strs(qc, commit);
	char id[128];
	return r == QCLIENT_OK ? expect_ok(qc, id, sizeof(id)) : r;
}

void qclient_abort(struct qclient *qc)
{
	const char *abort_[] = {"ABORT", NULL};
	if (send_strs(qc, abort_) == QCLIENT_OK)
		(void)expect_ok(qc, NULL, 0);
}

enum qclient_result qclient_admin(struct qclient *qc, const char *verb, const char *arg,
                                  struct buf *text)
{
	const char *req[] = {verb, arg, NULL};
	enum qclient_result r = send_strs(qc, req);
	if (r != QCLIENT_OK)
		return r;
	if (strcmp(verb, "LIST") != 0)
		return expect_ok(qc, NULL, 0);
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = read_reply(qc, f, WIRE_MAX_FIELDS);
	if (n < 0)
		return QCLIENT_TEMP;
	if (wire_field_eq(&f[0], "LIST")) {
		if (n >= 2 && text != NULL && buf_append(text, f[1].p, f[1].len) < 0) {
			set_err(qc, "out of memory");
			return QCLIENT_TEMP;
		}
		return expect_ok(qc, NULL, 0);
	}
	if (wire_field_eq(&f[0], "FAIL")) {
		bool perm = n >= 2 && wire_field_eq(&f[1], "perm");
		set_err(qc, "%.*s", n >= 3 ? (int)f[2].len : 13,
		        n >= 3 ? f[2].p : "request failed");
		return perm ? QCLIENT_PERM : QCLIENT_TEMP;
	}
	set_err(qc, "unexpected reply from the queue");
	return QCLIENT_TEMP;
}

bool qclient_may_admin(const char *base_dir)
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
