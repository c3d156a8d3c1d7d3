/* qmgr-server.c: the QUEUE protocol server of loft-queue (docs/queue-
 * protocol.md) on the "queue" listener (smtpd, guarded by the socket's
 * owner) and the "pickup" listener (any local user: the peer's uid from
 * SO_PEERCRED is recorded as the client address, and only uid 0 may use the
 * administration verbs). Lines are parsed by qmgr-proto.c; this file keeps
 * each connection's state (version, envelope, body), writes the message
 * with queue_writer_* and answers OK only after the commit is durable.
 * Replies are buffered and written as the peer reads them; a connection
 * with unread replies is not read from, so no client can stall the loop.
 * Each listener has its own connection limit, pickup one per uid as well
 * (qmgr-admit.c; refusals in qmgr-refuse.c), and a connection silent for
 * its listener's idle timeout is closed. */
#include "qmgr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evloop.h"
#include "qmgr-proto.h"
#include "queue-committed.h"
#include "service.h"
#include "wire.h"

enum qconn_state { QC_VERSION, QC_IDLE, QC_ENVELOPE, QC_BODY, QC_CLOSING };

struct qconn {
	struct qmgr_server *srv;
	struct qconn *prev, *next;
	bool pickup, admin;
	uid_t uid;
	struct wire_conn in;
	struct event *rev, *wev, *tev;
	struct buf out;
	enum qconn_state st;
	/* the message being submitted */
	struct queue_msg m;
	size_t rcap;
	struct queue_writer w;
	uint64_t size;
	bool too_big, body_failed;
	char body_err[QUEUE_ERROR_LEN];
};

struct qlistener {
	struct qmgr_server *srv;
	int fd;
	bool pickup;
	struct event *ev;
};

struct qmgr_server {
	struct qmgr *q;
	struct qlistener ls[SERVICE_MAX_LISTENERS];
	size_t nls;
	struct qconn *conns;
	size_t nconns, npickup; /* all, and those on pickup listeners */
	struct qmgr_refuser *refuser;
};

static void conn_readable(evutil_socket_t fd, short what, void *arg);

struct qmgr_server *qmgr_server_new(struct qmgr *q)
{
	struct qmgr_server *srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return NULL;
	srv->q = q;
	srv->refuser = qmgr_refuser_new(q->base, &q->lg);
	if (srv->refuser == NULL) {
		free(srv);
		return NULL;
	}
	return srv;
}

/* -- envelope -------------------------------------------------------- */

static void envelope_clear(struct qconn *c)
{
	free(c->m.sender);
	free(c->m.helo);
	free(c->m.client_addr);
	free(c->m.auth_user);
	free(c->m.dsn_env);
	for (size_t i = 0; i < c->m.nrcpt; i++) {
		free(c->m.rcpts[i].addr);
		free(c->m.rcpts[i].dsn);
	}
	free(c->m.rcpts);
	memset(&c->m, 0, sizeof(c->m));
	c->rcap = 0;
	c->size = 0;
	c->too_big = c->body_failed = false;
}

static void conn_free(struct qconn *c)
{
	struct qmgr_server *srv = c->srv;
	if (c->st == QC_BODY)
		queue_writer_abort(&c->w); /* never acknowledged: safe to drop */
	envelope_clear(c);
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->tev != NULL)
		event_free(c->tev);
	close(c->in.fd);
	wire_conn_clear(&c->in);
	buf_free(&c->out);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	if (c->pickup)
		srv->npickup--;
	free(c);
}

/* A text field copied for the envelope; NULL when absent. */
static char *field_dup(const struct wire_field *f)
{
	return f->p != NULL && f->len > 0 ? strndup(f->p, f->len) : NULL;
}

/* -- idle timeout ------------------------------------------------------ */

static uint64_t idle_ms(const struct qconn *c)
{
	const struct qmgr_limits *l = &c->srv->q->set.limits;
	return c->pickup ? l->pickup_idle_ms : l->queue_idle_ms;
}

/* The peer did something: the idle clock starts again (0 = no timeout). */
static void conn_touch(struct qconn *c)
{
	uint64_t ms = idle_ms(c);
	if (ms == 0)
		return;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	event_add(c->tev, &tv);
}

static void conn_idle(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct qconn *c = arg;
	/* No line is sent: the protocol has no unsolicited replies, and a
	 * kept smtpd connection just reconnects. */
	log_info(&c->srv->q->lg, "%s connection (uid %u) idle for %llums: closed%s",
	         c->pickup ? "pickup" : "queue", (unsigned)c->uid, (unsigned long long)idle_ms(c),
	         c->st == QC_ENVELOPE || c->st == QC_BODY ? ", its unfinished message dropped"
	                                                  : "");
	conn_free(c);
}

/* -- replies ------------------------------------------------------------ */

/* Write what is buffered; 0 when all went, 1 when some waits, -1 dead. */
static int conn_flush(struct qconn *c)
{
	while (c->out.len > 0) {
		ssize_t w = send(c->in.fd, c->out.data, c->out.len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_del(c->rev);
			event_add(c->wev, NULL);
			return 1;
		}
		if (w <= 0)
			return -1;
		buf_consume(&c->out, (size_t)w);
		conn_touch(c); /* a peer reading its replies is not idle */
	}
	return 0;
}

static void reply(struct qconn *c, const char *a, const char *b, const char *d)
{
	const char *f[] = {a, b, d, NULL};
	if (wire_encode_strs(&c->out, f) < 0)
		c->st = QC_CLOSING;
}

static void fail_close(struct qconn *c, const char *text)
{
	reply(c, "FAIL", "perm", text);
	c->st = QC_CLOSING;
}

/* -- commands ------------------------------------------------------------ */

static void cmd_mail(struct qconn *c, const struct qproto_cmd *cmd)
{
	char local[64];
	envelope_clear(c);
	c->m.sender = strdup(cmd->addr);
	c->m.helo = field_dup(&cmd->helo);
	c->m.dsn_env = field_dup(&cmd->dsn);
	if (c->pickup) {
		/* A local user's word about its address or login counts for
		 * nothing: the kernel says who it is. */
		snprintf(local, sizeof(local), "local uid=%u", (unsigned)c->uid);
		c->m.client_addr = strdup(local);
	} else {
		c->m.client_addr = field_dup(&cmd->client_addr);
		c->m.auth_user = field_dup(&cmd->auth);
	}
	if (c->m.sender == NULL) {
		fail_close(c, "out of memory");
		return;
	}
	c->st = QC_ENVELOPE;
}

static void cmd_rcpt(struct qconn *c, const struct qproto_cmd *cmd)
{
	if (c->m.nrcpt == QUEUE_RCPT_MAX) {
		fail_close(c, "too many recipients");
		return;
	}
	if (c->m.nrcpt == c->rcap) {
		size_t cap = c->rcap ? c->rcap * 2 : 8;
		struct queue_rcpt *v = realloc(c->m.rcpts, cap * sizeof(*v));
		if (v == NULL) {
			fail_close(c, "out of memory");
			return;
		}
		c->m.rcpts = v;
		c->rcap = cap;
	}
	struct queue_rcpt *r = &c->m.rcpts[c->m.nrcpt];
	memset(r, 0, sizeof(*r));
	r->addr = strdup(cmd->addr);
	r->dsn = field_dup(&cmd->dsn);
	if (r->addr == NULL) {
		free(r->dsn);
		fail_close(c, "out of memory");
		return;
	}
	c->m.nrcpt++;
}

static void cmd_data(struct qconn *c)
{
	const char *err;
	if (c->m.nrcpt == 0) {
		fail_close(c, "no recipients");
		return;
	}
	c->m.arrival = 0;
	if (queue_writer_begin(&c->srv->q->qs, &c->m, &c->w, &err) < 0) {
		log_error(&c->srv->q->lg, "queue file: %s", err);
		reply(c, "FAIL", "temp", "4.3.0 cannot create queue file");
		envelope_clear(c);
		c->st = QC_IDLE;
		return;
	}
	reply(c, "OK", c->w.id, NULL);
	c->st = QC_BODY;
}

static void cmd_body(struct qconn *c, const struct qproto_cmd *cmd)
{
	const char *err;
	c->size += cmd->body.len;
	if (c->size > c->srv->q->set.size_limit)
		c->too_big = true;
	if (c->too_big || c->body_failed || cmd->body.len == 0)
		return;
	if (queue_writer_body(&c->w, cmd->body.p, cmd->body.len, &err) < 0) {
		snprintf(c->body_err, sizeof(c->body_err), "%s", err);
		c->body_failed = true;
	}
}

static void cmd_commit(struct qconn *c)
{
	struct qmgr *q = c->srv->q;
	const char *err;
	char id[QUEUE_ID_LEN + 1];
	memcpy(id, c->w.id, sizeof(id));
	if (c->too_big || c->body_failed) {
		queue_writer_abort(&c->w);
		if (c->too_big)
			reply(c, "FAIL", "perm", "5.3.4 message too big");
		else
			log_error(&q->lg, "%s: %s", id, c->body_err);
		if (!c->too_big)
			reply(c, "FAIL", "temp", "4.3.0 cannot write queue file");
	} else if (queue_writer_commit(&c->w, &err) < 0) {
		log_error(&q->lg, "%s: %s", id, err);
		reply(c, "FAIL", "temp", "4.3.0 cannot write queue file");
	} else {
		log_info(&q->lg, "%s: client=%s, from=<%s>, size=%llu, nrcpt=%zu (queue active)",
		         id, c->m.client_addr != NULL ? c->m.client_addr : "unknown", c->m.sender,
		         (unsigned long long)c->size, c->m.nrcpt);
		if (queue_committed_note(&q->qs, id, &err) < 0)
			log_warning(&q->lg, "%s: %s", id, err); /* only STATUS needs it */
		reply(c, "OK", id, NULL);
		qmgr_sched_add(q->sched, id);
	}
	envelope_clear(c);
	c->st = QC_IDLE;
}

/* A client whose connection broke after COMMIT asks the restarted queue
 * whether the message made it: OK means it is queued (answer 250), FAIL temp
 * that it never was (answer 451). smtpd's socket, or an administrator. */
static void cmd_status(struct qconn *c, const struct qproto_cmd *cmd)
{
	struct qmgr *q = c->srv->q;
	const char *err = NULL;
	if (c->pickup && !c->admin) {
		reply(c, "FAIL", "perm", "permission denied");
		return;
	}
	int r = queue_committed_known(&q->qs, cmd->id, &err);
	if (r < 0)
		log_error(&q->lg, "status %s: %s", cmd->id, err);
	log_info(&q->lg, "%s: status asked after a lost answer: %s", cmd->id,
	         r > 0 ? "committed" : "not committed");
	if (r > 0)
		reply(c, "OK", cmd->id, NULL);
	else
		reply(c, "FAIL", "temp",
		      r < 0 ? "4.3.0 queue status unknown" : "4.3.0 message not committed");
}

static void cmd_admin(struct qconn *c, const struct qproto_cmd *cmd)
{
	struct qmgr *q = c->srv->q;
	const char *err = NULL;
	int rc = 0;
	if (!c->admin) {
		reply(c, "FAIL", "perm", "permission denied");
		return;
	}
	switch (cmd->verb) {
	case QPROTO_LIST: {
		struct buf b;
		buf_init(&b, 0);
		rc = queue_store_list(&q->qs, &b, &err);
		if (rc == 0) {
			const char *f[] = {"LIST", b.data != NULL ? b.data : "", NULL};
			wire_encode_strs(&c->out, f);
		}
		buf_free(&b);
		break;
	}
	case QPROTO_FLUSH:
		qmgr_sched_flush(q->sched);
		break;
	case QPROTO_DELETE:
		rc = qmgr_sched_delete(q->sched, cmd->id, &err);
		break;
	case QPROTO_HOLD:
		rc = qmgr_sched_hold(q->sched, cmd->id, &err);
		break;
	case QPROTO_RELEASE:
		rc = qmgr_sched_release(q->sched, cmd->id, &err);
		break;
	default:
		break;
	}
	if (rc == 0)
		reply(c, "OK", NULL, NULL);
	else
		reply(c, "FAIL", "perm", err);
}

/* Which verbs each state takes. */
static bool verb_allowed(enum qconn_state st, enum qproto_verb v)
{
	switch (st) {
	case QC_VERSION:
		return v == QPROTO_VERSION;
	case QC_IDLE:
		return v == QPROTO_MAIL || v >= QPROTO_LIST;
	case QC_ENVELOPE:
		return v == QPROTO_RCPT || v == QPROTO_DATA || v == QPROTO_ABORT;
	case QC_BODY:
		return v == QPROTO_BODY || v == QPROTO_COMMIT || v == QPROTO_ABORT;
	default:
		return false;
	}
}

static void conn_line(struct qconn *c, const struct wire_field *f, int n)
{
	struct qproto_cmd cmd;
	const char *err;
	if (qproto_parse(f, n, &cmd, &err) < 0) {
		fail_close(c, err);
		return;
	}
	if (!verb_allowed(c->st, cmd.verb)) {
		fail_close(c, "command out of sequence");
		return;
	}
	switch (cmd.verb) {
	case QPROTO_VERSION: {
		wire_encode_version(&c->out, "QUEUE", 1, 0);
		c->st = QC_IDLE;
		break;
	}
	case QPROTO_MAIL:
		cmd_mail(c, &cmd);
		break;
	case QPROTO_RCPT:
		cmd_rcpt(c, &cmd);
		break;
	case QPROTO_DATA:
		cmd_data(c);
		break;
	case QPROTO_BODY:
		cmd_body(c, &cmd);
		break;
	case QPROTO_COMMIT:
		cmd_commit(c);
		break;
	case QPROTO_ABORT:
		if (c->st == QC_BODY)
			queue_writer_abort(&c->w);
		envelope_clear(c);
		c->st = QC_IDLE;
		reply(c, "OK", NULL, NULL);
		break;
	case QPROTO_STATUS:
		cmd_status(c, &cmd);
		break;
	default:
		cmd_admin(c, &cmd);
		break;
	}
}

/* Handle every complete line buffered, stopping while replies wait. */
static void conn_process(struct qconn *c)
{
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = 1;
	while (c->st != QC_CLOSING && c->out.len == 0 &&
	       (n = wire_conn_next(&c->in, f, WIRE_MAX_FIELDS)) > 0)
		conn_line(c, f, n);
	if (n < 0)
		fail_close(c, "malformed line");
	int r = conn_flush(c);
	if (r < 0 || (r == 0 && c->st == QC_CLOSING))
		conn_free(c);
}

static void conn_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct qconn *c = arg;
	ssize_t r = wire_conn_read(&c->in);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		/* EOF or error: a message still open is aborted by conn_free. */
		conn_free(c);
		return;
	}
	conn_touch(c);
	conn_process(c);
}

static void conn_writable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct qconn *c = arg;
	int r = conn_flush(c);
	if (r < 0 || (r == 0 && c->st == QC_CLOSING)) {
		conn_free(c);
		return;
	}
	if (r == 0) {
		event_del(c->wev);
		event_add(c->rev, NULL);
		conn_process(c); /* lines that arrived meanwhile */
	}
}

/* Under the limits? 0; else cfd is refused (answered, logged, closed), -1. */
static int admit(struct qmgr_server *srv, bool pickup, bool exempt, int cfd, uid_t uid)
{
	const struct qmgr_limits *lim = &srv->q->set.limits;
	size_t n_uid = 0;
	/* a linear count: the list is bounded by the two listener limits */
	for (const struct qconn *c = srv->conns; pickup && !exempt && c != NULL; c = c->next)
		if (c->pickup && c->uid == uid)
			n_uid++;
	size_t n_listener = pickup ? srv->npickup : srv->nconns - srv->npickup;
	enum qmgr_admit a = qmgr_admit_check(lim, pickup, exempt, n_listener, n_uid);
	if (a == QMGR_ADMIT_OK)
		return 0;
	char text[QMGR_REFUSE_TEXT], who[64];
	qmgr_admit_text(lim, a, pickup, uid, text, sizeof(text));
	snprintf(who, sizeof(who), "a %s connection from uid %u", pickup ? "pickup" : "queue",
	         (unsigned)uid);
	qmgr_refuse(srv->refuser, cfd, who, text);
	return -1;
}

static void listener_accept(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct qlistener *l = arg;
	struct qmgr_server *srv = l->srv;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		close(cfd);
		return;
	}
	/* Administration is root's; in unprivileged mode (everything runs
	 * as the invoking user) that user is the administrator. Both are
	 * free of the per-uid cap. */
	bool admin = cred.uid == 0 || (geteuid() != 0 && cred.uid == geteuid());
	if (admit(srv, l->pickup, admin, cfd, cred.uid) < 0)
		return;
	struct qconn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(cfd);
		return;
	}
	c->srv = srv;
	c->pickup = l->pickup;
	c->uid = cred.uid;
	c->admin = l->pickup && admin;
	wire_conn_init(&c->in, cfd);
	buf_init(&c->out, 0);
	c->rev = event_new(srv->q->base, cfd, EV_READ | EV_PERSIST, conn_readable, c);
	c->wev = event_new(srv->q->base, cfd, EV_WRITE | EV_PERSIST, conn_writable, c);
	c->tev = evtimer_new(srv->q->base, conn_idle, c);
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	if (c->pickup)
		srv->npickup++;
	if (c->rev == NULL || c->wev == NULL || c->tev == NULL || event_add(c->rev, NULL) < 0) {
		conn_free(c);
		return;
	}
	conn_touch(c);
}

int qmgr_server_listen(struct qmgr_server *srv, int fd, bool pickup)
{
	if (srv->nls == SERVICE_MAX_LISTENERS)
		return -1;
	struct qlistener *l = &srv->ls[srv->nls];
	l->srv = srv;
	l->fd = fd;
	l->pickup = pickup;
	evloop_set_nonblock(fd);
	evloop_set_cloexec(fd, true);
	l->ev = evloop_add_read(srv->q->base, fd, listener_accept, l);
	if (l->ev == NULL)
		return -1;
	srv->nls++;
	return 0;
}

void qmgr_server_close_listeners(struct qmgr_server *srv)
{
	for (size_t i = 0; i < srv->nls; i++) {
		event_free(srv->ls[i].ev);
		close(srv->ls[i].fd);
	}
	srv->nls = 0;
}

size_t qmgr_server_nconns(const struct qmgr_server *srv)
{
	return srv->nconns;
}

void qmgr_server_free(struct qmgr_server *srv)
{
	if (srv == NULL)
		return;
	qmgr_server_close_listeners(srv);
	while (srv->conns != NULL)
		conn_free(srv->conns);
	qmgr_refuser_free(srv->refuser);
	free(srv);
}
