/* mailstore-dispatch.c: the root dispatcher of loft-mailstore (libevent).
 * Login daemons connect to `handoff`, handshake, then send SESSION lines with
 * a client descriptor attached. Each session gets a forked worker
 * (mailstore-worker.c) that redeems the token itself, so the dispatcher never
 * blocks on auth; the worker's one-line report over a socket decides whether the
 * login daemon hears OK or FAIL. After OK the dispatcher answers the worker GO,
 * or LIMIT when mail_max_userip_connections is reached (mailstore-userip.h). */
#include "mailstore-dispatch.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "evloop.h"
#include "handoff.h"
#include "lmtp.h"
#include "log.h"
#include "mailstore-userip.h"
#include "mailstore-worker.h"
#include "sandbox.h"
#include "wire.h"

#define DISPATCH_MAX_PENDING 64 /* unanswered SESSIONs per connection */

struct dispatch;

struct ho_conn {
	struct dispatch *d;
	struct wire_conn wc;
	struct event *ev;
	bool handshaken;
	bool closing;     /* read side done; freed once no report is pending */
	unsigned pending; /* workers forked for it that have not reported yet */
	struct ho_conn *next;
};

struct worker {
	struct dispatch *d;
	pid_t pid;
	int report_fd;
	struct event *ev;
	struct ho_conn *conn; /* NULL once answered or when the conn went away */
	uint32_t id;
	bool reported, exited;
	bool started; /* reported OK: the session is running */
	char proto[8], session[64], rip[64], user[256];
	/* counted for mail_max_userip_connections once started; key.user is
	 * the user auth named (owned), never the login daemon's claim */
	struct userip key;
	struct buf report;
	struct worker *next;
};

struct dispatch {
	struct event_base *base;
	const struct config *cfg;
	const struct loft_log *log;
	int listen_fd;
	struct event *ev_listen;
	struct event *ev_sig[4];
	struct ho_conn *conns;
	struct worker *workers;
	size_t nworkers;
	struct lmtp_server *lmtp;
	uint64_t userip_limit;        /* mail_max_userip_connections; 0 = none */
	unsigned v6_prefix;           /* login_ipv6_prefix */
	struct sandbox_filter filter; /* the workers' seccomp filter, compiled once */
	bool quitting;
	bool freeing;
};

static void conn_release(struct ho_conn *c);

static void dispatch_check_done(struct dispatch *d)
{
	if (d->freeing || !d->quitting || d->nworkers > 0 || d->conns != NULL)
		return;
	if (d->lmtp != NULL && lmtp_server_active(d->lmtp) > 0)
		return;
	log_info(d->log, "no sessions left; exiting");
	event_base_loopbreak(d->base);
}

static void conn_send(struct ho_conn *c, const char *const *strs)
{
	struct buf b;
	buf_init(&b, WIRE_MAX_LINE);
	if (wire_encode_strs(&b, strs) == 0 && wire_send(c->wc.fd, b.data, b.len, NULL, 0) < 0)
		c->closing = true; /* peer gone; the read side sees it too */
	buf_free(&b);
}

static void conn_answer(struct ho_conn *c, uint32_t id, const char *reason)
{
	char idstr[16], rs[600];
	snprintf(idstr, sizeof(idstr), "%u", (unsigned)id);
	snprintf(rs, sizeof(rs), "reason=%s", reason != NULL ? reason : "");
	const char *strs[] = {reason == NULL ? "OK" : "FAIL", idstr, reason == NULL ? NULL : rs,
	                      NULL};
	conn_send(c, strs);
}

static void worker_free(struct worker *w)
{
	struct dispatch *d = w->d;
	for (struct worker **pp = &d->workers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	d->nworkers--;
	free(w->key.user);
	buf_free(&w->report);
	free(w);
	dispatch_check_done(d);
}

/* A worker that reported OK as user: may its session run, or is that user
 * at its limit of sessions of this protocol from this address? The worker
 * hears GO or LIMIT (and then tells the client itself). */
static void worker_admit(struct worker *w, const char *user)
{
	struct dispatch *d = w->d;
	w->key.user = strdup(user);
	size_t running = 0;
	for (struct worker *o = d->workers; o != NULL; o = o->next)
		if (o != w && !o->exited && userip_same(&o->key, &w->key))
			running++;
	bool over = w->key.user == NULL || userip_over(running, d->userip_limit);
	if (over && w->key.user != NULL) {
		log_msg(d->log, LOG_WARNING, w->session,
		        "%s session of user=<%s> from %s refused: maximum number of connections "
		        "from user+IP exceeded (mail_max_userip_connections=%llu)",
		        w->proto, user, w->rip, (unsigned long long)d->userip_limit);
		free(w->key.user);
		w->key.user = NULL; /* not counted: it ends at once */
	}
	const char *verdict = over ? "LIMIT\n" : "GO\n";
	/* A few bytes into an empty socket buffer: never blocks. A worker that
	 * died meanwhile is reaped as usual. */
	(void)send(w->report_fd, verdict, strlen(verdict), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The worker's report decides the answer to the login daemon. */
static void worker_finish_report(struct worker *w, const char *reason, const char *user)
{
	struct dispatch *d = w->d;
	w->reported = true;
	w->started = reason == NULL;
	if (w->ev != NULL)
		event_free(w->ev);
	w->ev = NULL;
	if (reason == NULL)
		worker_admit(w, user);
	close(w->report_fd);
	w->report_fd = -1;
	if (reason != NULL)
		log_msg(d->log, LOG_WARNING, w->session,
		        "handoff refused: %s (proto=%s user=%s rip=%s)", reason, w->proto, w->user,
		        w->rip);
	struct ho_conn *c = w->conn;
	w->conn = NULL;
	if (c != NULL) {
		if (!c->closing)
			conn_answer(c, w->id, reason);
		c->pending--;
		if (c->closing && c->pending == 0)
			conn_release(c);
	}
	if (w->exited)
		worker_free(w);
}

static void worker_report_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct worker *w = arg;
	char chunk[512];
	ssize_t r = read(fd, chunk, sizeof(chunk));
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r > 0 && buf_append(&w->report, chunk, (size_t)r) == 0 &&
	    memchr(w->report.data, '\n', w->report.len) == NULL)
		return;
	const char *reason = "worker ended before the session started", *user = NULL;
	struct wire_field f[4];
	int n = -1;
	char *lf = w->report.len > 0 ? memchr(w->report.data, '\n', w->report.len) : NULL;
	if (lf != NULL) {
		*lf = '\0'; /* wire_decode ends the last field only when it shrank */
		n = wire_decode(w->report.data, (size_t)(lf - w->report.data), f, 4);
	}
	if (n == 2 && wire_field_eq(&f[0], "OK") && f[1].len > 5 &&
	    strncmp(f[1].p, "user=", 5) == 0)
		reason = NULL, user = f[1].p + 5;
	else if (n >= 2 && wire_field_eq(&f[0], "FAIL") && f[1].len > 7)
		reason = f[1].p + 7; /* after "reason=" */
	worker_finish_report(w, reason, user);
}

/* Fork the worker for one decoded SESSION; the client fd is the child's from
 * now on. -1 with *reason_r when no worker could be started. */
static int dispatch_fork(struct ho_conn *c, const struct handoff_req *req, int client_fd,
                         const char **reason_r)
{
	struct dispatch *d = c->d;
	int pfd[2];
	struct worker *w = calloc(1, sizeof(*w));
	/* A socket, not a pipe: after OK the worker waits for GO or LIMIT. */
	if (w == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pfd) < 0) {
		free(w);
		return *reason_r = "out of resources", -1;
	}
	/* Watched before the fork, so a worker is never left unobserved. */
	w->ev = evloop_add_read(d->base, pfd[0], worker_report_cb, w);
	pid_t pid = w->ev != NULL ? fork() : -1;
	if (pid < 0) {
		if (w->ev != NULL)
			event_free(w->ev);
		close(pfd[0]);
		close(pfd[1]);
		free(w);
		return *reason_r = "cannot start a worker", -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		struct worker_job job = {.cfg = d->cfg,
		                         .log = d->log,
		                         .client_fd = client_fd,
		                         .report_fd = pfd[1],
		                         .req = req,
		                         .filter = &d->filter};
		worker_main(&job);
	}
	close(pfd[1]);
	w->d = d;
	w->pid = pid;
	w->report_fd = pfd[0];
	w->conn = c;
	w->id = req->id;
	buf_init(&w->report, 4096);
	snprintf(w->proto, sizeof(w->proto), "%s", req->proto);
	snprintf(w->session, sizeof(w->session), "%s", req->session);
	snprintf(w->rip, sizeof(w->rip), "%s", req->rip);
	snprintf(w->user, sizeof(w->user), "%s", req->user);
	userip_init(&w->key, req->proto, req->rip, d->v6_prefix);
	w->next = d->workers;
	d->workers = w;
	d->nworkers++;
	c->pending++;
	log_msg(d->log, LOG_DEBUG, req->session,
	        "worker %d started for a %s handoff (user=%s claimed)", (int)pid, req->proto,
	        req->user);
	return 0;
}

/* One SESSION line. Returns -1 when the connection must be dropped. */
static int conn_session(struct ho_conn *c, const struct wire_field *f, int n)
{
	struct dispatch *d = c->d;
	struct handoff_req req;
	const char *err;
	int client_fd = wire_conn_take_fd(&c->wc);
	int dec = handoff_decode(f, n, &req, &err);
	if (client_fd < 0 || (dec < 0 && req.id == 0)) {
		/* Without its descriptor (or an id) later lines cannot be paired. */
		log_warning(d->log, "handoff: %s; dropping the connection",
		            client_fd < 0 ? "SESSION without a descriptor" : err);
		if (client_fd >= 0)
			close(client_fd);
		return -1;
	}
	if (dec == 0 && worker_find_proto(req.proto) == NULL)
		dec = -1, err = "unknown protocol";
	if (dec == 0 && d->quitting)
		dec = -1, err = "shutting down";
	if (dec == 0 && c->pending >= DISPATCH_MAX_PENDING)
		dec = -1, err = "too many sessions pending";
	if (dec == 0 && dispatch_fork(c, &req, client_fd, &err) == 0) {
		close(client_fd);
		return 0;
	}
	close(client_fd);
	log_msg(d->log, LOG_WARNING, req.session[0] ? req.session : NULL,
	        "handoff refused: %s (proto=%s user=%s rip=%s)", err, req.proto, req.user, req.rip);
	conn_answer(c, req.id, err);
	return 0;
}

static void conn_release(struct ho_conn *c)
{
	struct dispatch *d = c->d;
	for (struct ho_conn **pp = &d->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->ev != NULL)
		event_free(c->ev);
	close(c->wc.fd);
	wire_conn_clear(&c->wc);
	free(c);
	dispatch_check_done(d);
}

/* Stop reading; the connection lives on until its workers have reported. */
static void conn_close(struct ho_conn *c)
{
	c->closing = true;
	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	shutdown(c->wc.fd, SHUT_RDWR);
	if (c->pending == 0)
		conn_release(c);
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ho_conn *c = arg;
	ssize_t r = wire_conn_read(&c->wc);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		if (r < 0)
			log_warning(c->d->log, "handoff connection: %s", strerror(errno));
		conn_close(c);
		return;
	}
	struct wire_field f[WIRE_MAX_FIELDS];
	int n;
	while (!c->closing && (n = wire_conn_next(&c->wc, f, WIRE_MAX_FIELDS)) != 0) {
		const char *why = NULL;
		if (n < 0)
			why = "malformed line";
		else if (!c->handshaken && wire_check_version(f, n, "handoff", 1) < 0)
			why = "bad VERSION line";
		else if (!c->handshaken)
			c->handshaken = true;
		else if (!wire_field_eq(&f[0], "SESSION"))
			why = "unknown request";
		else if (conn_session(c, f, n) < 0)
			why = ""; /* conn_session logged why */
		if (why != NULL) {
			if (why[0] != '\0')
				log_warning(c->d->log, "handoff: %s; dropping the connection", why);
			conn_close(c);
			return;
		}
	}
}

static void dispatch_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct dispatch *d = arg;
	for (;;) {
		int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warning(d->log, "handoff accept: %s", strerror(errno));
			return;
		}
		struct ho_conn *c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(s);
			continue;
		}
		c->d = d;
		wire_conn_init(&c->wc, s);
		c->next = d->conns;
		d->conns = c;
		struct buf b;
		buf_init(&b, 128);
		int r = wire_encode_version(&b, "handoff", 1, 0);
		if (r == 0)
			r = wire_send(s, b.data, b.len, NULL, 0);
		buf_free(&b);
		if (r < 0 || (c->ev = evloop_add_read(d->base, s, conn_read_cb, c)) == NULL)
			conn_close(c);
	}
}

static struct worker *dispatch_find_worker(struct dispatch *d, pid_t pid)
{
	for (struct worker *w = d->workers; w != NULL; w = w->next)
		if (w->pid == pid)
			return w;
	return NULL;
}

static void dispatch_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct dispatch *d = arg;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (d->lmtp != NULL && lmtp_server_child_exited(d->lmtp, pid, status))
			continue;
		struct worker *w = dispatch_find_worker(d, pid);
		if (w == NULL)
			continue;
		if (WIFSIGNALED(status))
			log_msg(d->log, LOG_WARNING, w->session, "worker %d killed by signal %d",
			        (int)pid, WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0 && w->started)
			log_msg(d->log, LOG_NOTICE, w->session,
			        "worker %d: session ended with status %d", (int)pid,
			        WEXITSTATUS(status));
		w->exited = true;
		if (w->reported)
			worker_free(w);
	}
	dispatch_check_done(d);
}

static void dispatch_sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct dispatch *d = arg;
	log_info(d->log, "signal %d: stopping now", (int)sig);
	for (struct worker *w = d->workers; w != NULL; w = w->next)
		if (!w->exited)
			kill(w->pid, SIGTERM);
	event_base_loopbreak(d->base);
}

static void dispatch_sigquit_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct dispatch *d = arg;
	if (d->quitting)
		return;
	log_info(d->log, "SIGQUIT: no new sessions; exiting when the open ones end");
	d->quitting = true;
	if (d->ev_listen != NULL) {
		event_free(d->ev_listen);
		d->ev_listen = NULL;
		close(d->listen_fd);
		d->listen_fd = -1;
	}
	if (d->lmtp != NULL)
		lmtp_server_close_listeners(d->lmtp);
	/* Idle login connections go now; busy ones once their workers report. */
	struct ho_conn *next;
	for (struct ho_conn *c = d->conns; c != NULL; c = next) {
		next = c->next;
		if (!c->closing)
			conn_close(c);
	}
	dispatch_check_done(d);
}

struct dispatch *dispatch_new(struct event_base *base, const struct config *cfg,
                              const struct loft_log *log)
{
	struct dispatch *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->base = base;
	d->cfg = cfg;
	d->log = log;
	d->listen_fd = -1;
	d->userip_limit = config_uint(cfg, "mail_max_userip_connections");
	uint64_t pfx = config_uint(cfg, "login_ipv6_prefix");
	d->v6_prefix = pfx > 128 ? 128 : (unsigned)pfx;
	const char *se = NULL;
	if (sandbox_prepare(sandbox_kind_for(cfg, SANDBOX_MAILBOX), &d->filter, &se) < 0) {
		log_msg(log, LOG_ERR, NULL, "%s", se);
		free(d);
		return NULL;
	}
	/* the build freed ~2,500 blocks: give the pages back before workers
	 * inherit (and write into) them */
	(void)malloc_trim(0);
	d->ev_sig[0] = evloop_add_signal(base, SIGCHLD, dispatch_sigchld_cb, d);
	d->ev_sig[1] = evloop_add_signal(base, SIGTERM, dispatch_sigterm_cb, d);
	d->ev_sig[2] = evloop_add_signal(base, SIGINT, dispatch_sigterm_cb, d);
	d->ev_sig[3] = evloop_add_signal(base, SIGQUIT, dispatch_sigquit_cb, d);
	for (int i = 0; i < 4; i++)
		if (d->ev_sig[i] == NULL) {
			dispatch_free(d);
			return NULL;
		}
	return d;
}

int dispatch_listen(struct dispatch *d, int fd)
{
	if (d->ev_listen != NULL || evloop_set_nonblock(fd) < 0 || evloop_set_cloexec(fd, true) < 0)
		return -1;
	d->ev_listen = evloop_add_read(d->base, fd, dispatch_accept_cb, d);
	if (d->ev_listen == NULL)
		return -1;
	d->listen_fd = fd;
	return 0;
}

void dispatch_set_lmtp(struct dispatch *d, struct lmtp_server *lmtp)
{
	d->lmtp = lmtp;
}

size_t dispatch_workers(const struct dispatch *d)
{
	return d->nworkers;
}

void dispatch_free(struct dispatch *d)
{
	if (d == NULL)
		return;
	d->freeing = true; /* no exit checks from the releases below */
	d->lmtp = NULL;
	while (d->conns != NULL) {
		d->conns->pending = 0;
		d->conns->closing = true;
		conn_release(d->conns);
	}
	while (d->workers != NULL) {
		struct worker *w = d->workers;
		if (w->ev != NULL) {
			event_free(w->ev);
			close(w->report_fd);
		}
		d->workers = w->next;
		free(w->key.user);
		buf_free(&w->report);
		free(w);
	}
	if (d->ev_listen != NULL) {
		event_free(d->ev_listen);
		close(d->listen_fd);
	}
	for (int i = 0; i < 4; i++)
		if (d->ev_sig[i] != NULL)
			event_free(d->ev_sig[i]);
	sandbox_filter_free(&d->filter);
	free(d);
}
