/* auth-server.c: connections and request dispatch of loft-auth. Replies are
 * buffered per connection and written without blocking. A failed login is
 * answered at once with delay=<ms> when the client said client-delay (it
 * then holds its own user for that long, and the request slot here is free
 * again), else only when its throttle timer fires; either way the main
 * process never sleeps. A protocol error drops only the connection that
 * made it. */
#include "auth-server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "addr-key.h"
#include "auth-db.h"
#include "auth-throttle.h"
#include "evloop.h"
#include "uid-range.h"
#include "wire.h"

#define THROTTLE_ENTRIES 4096
#define TOKEN_MAX        65536
#define FAIL_TEXT        "authentication failed"

struct auth_listen {
	struct auth_server *srv;
	int fd;
	enum auth_listener kind;
	struct event *ev;
};

struct auth_server {
	struct event_base *base;
	const struct auth_settings *set;
	const struct loft_log *lg;
	struct auth_pool *pool;
	struct auth_db db;
	struct auth_tokens tokens;
	struct auth_throttle throttle;
	struct auth_listen listeners[8];
	size_t nlisteners;
	struct auth_conn *conns;
	size_t nreqs;
	bool draining;
};

enum req_state { REQ_SASL, REQ_PAM, REQ_DELAY };

struct auth_req {
	struct auth_conn *conn;
	struct auth_req *next;
	unsigned id;
	enum req_state state;
	struct sasl_state sasl;
	char service[32], rip[64];
	bool client_delay;
	char user[SASL_MAX_USER + 1]; /* canonical name once known */
	struct event *timer;
	uint64_t pam_handle;
};

struct auth_conn {
	struct auth_server *srv;
	struct auth_conn *prev, *next;
	enum auth_listener kind;
	int fd;
	struct wire_conn in;
	struct buf out;
	struct event *rev, *wev;
	bool handshake, closing, dead;
	struct auth_req *reqs;
	unsigned nreqs;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- output ---- */

static void conn_flush(struct auth_conn *c)
{
	while (c->out.len > 0 && !c->dead) {
		ssize_t n = write(c->fd, c->out.data, c->out.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(c->wev, NULL);
			return;
		}
		if (n < 0) {
			c->dead = true;
			return;
		}
		buf_consume(&c->out, (size_t)n);
	}
	event_del(c->wev);
	if (c->closing)
		c->dead = true;
}

static void conn_send(struct auth_conn *c, const char *const *fields)
{
	if (c->dead)
		return;
	if (wire_encode_strs(&c->out, fields) < 0) {
		c->dead = true; /* the client does not read its replies */
		return;
	}
	conn_flush(c);
}

static void send_fail(struct auth_conn *c, unsigned id, const char *reason, bool temp)
{
	char ids[16], rs[96];
	snprintf(ids, sizeof(ids), "%u", id);
	snprintf(rs, sizeof(rs), "reason=%s", reason);
	const char *f[] = {"FAIL", ids, rs, temp ? "temp" : NULL, NULL};
	conn_send(c, f);
}

/* A failure the client delays itself: the hint says for how long. */
static void send_fail_delay(struct auth_conn *c, unsigned id, uint64_t delay_ms)
{
	char ids[16], ds[32];
	snprintf(ids, sizeof(ids), "%u", id);
	snprintf(ds, sizeof(ds), "delay=%llu", (unsigned long long)delay_ms);
	const char *f[] = {"FAIL", ids, "reason=" FAIL_TEXT, ds, NULL};
	conn_send(c, f);
}

/* ---- requests ---- */

static struct auth_req *req_find(struct auth_conn *c, unsigned id)
{
	for (struct auth_req *r = c->reqs; r != NULL; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

static void server_check_drained(struct auth_server *srv)
{
	if (srv->draining && srv->nreqs == 0)
		event_base_loopexit(srv->base, NULL);
}

static void req_free(struct auth_req *r)
{
	struct auth_conn *c = r->conn;
	for (struct auth_req **pp = &c->reqs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	c->nreqs--;
	c->srv->nreqs--;
	if (r->state == REQ_PAM && c->srv->pool != NULL)
		auth_pool_cancel(c->srv->pool, r->pam_handle);
	if (r->timer != NULL)
		event_free(r->timer);
	sasl_clear(&r->sasl);
	free(r);
	server_check_drained(c->srv);
}

static void conn_free(struct auth_conn *c);

/* After an asynchronous reply: free a connection whose write failed. */
static void conn_settle(struct auth_conn *c)
{
	if (c->dead)
		conn_free(c);
}

static void req_fail_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct auth_req *r = arg;
	struct auth_conn *c = r->conn;
	send_fail(c, r->id, FAIL_TEXT, false);
	req_free(r);
	conn_settle(c);
}

/* A failed login: answered after the throttle delay for its address (an
 * IPv6 address counts by its login_ipv6_prefix network), with the same text
 * whatever the cause; by the client when it said client-delay. */
static void req_fail(struct auth_req *r, const char *why)
{
	struct auth_server *srv = r->conn->srv;
	char key[ADDR_KEY_MAX];
	(void)addr_key(r->rip, strlen(r->rip), srv->set->ipv6_prefix, key);
	uint64_t delay = auth_throttle_fail(&srv->throttle, key, now_ms());
	log_info(srv->lg, "auth failed: service=%s user=<%s> rip=%s: %s (answer in %llu ms)",
	         r->service, r->user, r->rip, why, (unsigned long long)delay);
	sasl_clear(&r->sasl);
	if (r->client_delay) {
		send_fail_delay(r->conn, r->id, delay);
		req_free(r);
		return;
	}
	r->state = REQ_DELAY;
	r->timer = evloop_add_timer(srv->base, delay, req_fail_timer_cb, r);
	if (r->timer == NULL) {
		send_fail(r->conn, r->id, FAIL_TEXT, false);
		req_free(r);
	}
}

static void req_tempfail(struct auth_req *r, const char *why)
{
	log_error(r->conn->srv->lg, "auth temporary failure: service=%s user=<%s>: %s", r->service,
	          r->user, why);
	send_fail(r->conn, r->id, "temporary failure", true);
	req_free(r);
}

/* Credentials are good: look the user up, issue a token, answer OK. */
static void req_success(struct auth_req *r, const struct auth_user_info *pam_info)
{
	struct auth_server *srv = r->conn->srv;
	struct auth_user_info info;
	int rc =
	    auth_db_lookup(&srv->db, pam_info != NULL ? pam_info->user : r->user, pam_info, &info);
	if (rc == 0) {
		req_fail(r, "authenticated but not found in userdb");
		return;
	}
	char token[AUTH_TOKEN_HEX + 1];
	if (rc < 0 || auth_tokens_issue(&srv->tokens, r->service, &info, now_ms(), token) < 0) {
		if (rc > 0)
			auth_user_info_free(&info);
		req_tempfail(r, rc < 0 ? "userdb lookup failed" : "cannot issue a token");
		return;
	}
	log_info(srv->lg, "auth ok: service=%s user=<%s> rip=%s", r->service, info.user, r->rip);
	char ids[16];
	snprintf(ids, sizeof(ids), "%u", r->id);
	struct buf u, t;
	buf_init(&u, 0);
	buf_init(&t, 0);
	buf_printf(&u, "user=%s", info.user);
	buf_printf(&t, "token=%s", token);
	const char *f[] = {"OK", ids, u.data, t.data, NULL};
	if (u.data != NULL && t.data != NULL)
		conn_send(r->conn, f);
	OPENSSL_cleanse(token, sizeof(token));
	if (t.data != NULL)
		OPENSSL_cleanse(t.data, t.len);
	buf_free(&u);
	buf_free(&t);
	auth_user_info_free(&info);
	req_free(r);
}

static void req_pam_cb(void *ctx, enum auth_pam_result res, const struct auth_user_info *info)
{
	struct auth_req *r = ctx;
	struct auth_conn *c = r->conn;
	r->state = REQ_SASL; /* no longer in the pool: nothing to cancel */
	if (res == AUTH_PAM_OK)
		req_success(r, info);
	else if (res == AUTH_PAM_FAIL)
		req_fail(r, "PAM refused");
	else
		req_tempfail(r, "PAM worker failed");
	conn_settle(c);
}

/* Canonical name of a client-given name into dst; 0 or -1. */
static int canon_name(struct auth_server *srv, const char *p, size_t len, char *dst, size_t dstlen)
{
	struct buf b;
	const char *err;
	buf_init(&b, SASL_MAX_USER);
	int rc = auth_username_format(srv->set->username_format, p, len, srv->set->default_domain,
	                              &b, &err);
	if (rc == 0 && b.len < dstlen)
		memcpy(dst, b.data, b.len + 1);
	else
		rc = -1;
	buf_free(&b);
	return rc;
}

static void req_verify(struct auth_req *r)
{
	struct auth_server *srv = r->conn->srv;
	struct sasl_state *s = &r->sasl;
	if (canon_name(srv, s->user.data, s->user.len, r->user, sizeof(r->user)) < 0) {
		req_fail(r, "invalid user name");
		return;
	}
	if (s->authzid.len > 0) {
		char authz[SASL_MAX_USER + 1];
		if (canon_name(srv, s->authzid.data, s->authzid.len, authz, sizeof(authz)) < 0 ||
		    strcmp(authz, r->user) != 0) {
			req_fail(r, "authorization identity differs from the user");
			return;
		}
	}
	if (srv->set->passdb == AUTH_DB_FILE) {
		int rc = auth_db_verify(&srv->db, r->user, s->pass.data, s->pass.len);
		sasl_clear(s);
		if (rc > 0)
			req_success(r, NULL);
		else if (rc == 0)
			req_fail(r, "unknown user or wrong password");
		else
			req_tempfail(r, "passdb unreadable");
		return;
	}
	if (auth_pool_full(srv->pool)) {
		sasl_clear(s);
		req_tempfail(r, "PAM queue full (auth_worker_max_queue)");
		return;
	}
	r->state = REQ_PAM;
	r->pam_handle =
	    auth_pool_submit(srv->pool, r->user, s->pass.data, s->pass.len, r->rip, req_pam_cb, r);
	sasl_clear(s);
	if (r->pam_handle == 0) {
		r->state = REQ_SASL;
		req_tempfail(r, "out of memory");
	}
}

static void req_step(struct auth_req *r, enum sasl_status st, struct buf *chal, const char *err)
{
	if (st == SASL_CONTINUE) {
		char ids[16];
		snprintf(ids, sizeof(ids), "%u", r->id);
		const char *f[] = {"CONT", ids, chal->data != NULL ? chal->data : "", NULL};
		conn_send(r->conn, f);
	} else if (st == SASL_DONE) {
		req_verify(r);
	} else {
		req_fail(r, err);
	}
}

/* ---- commands ---- */

static bool mech_enabled(const struct auth_settings *set, enum sasl_mech m)
{
	return m == SASL_MECH_PLAIN ? set->mech_plain : set->mech_login;
}

static int cmd_auth(struct auth_conn *c, const struct auth_cmd *cmd)
{
	struct auth_server *srv = c->srv;
	if (req_find(c, cmd->id) != NULL || c->nreqs >= AUTH_MAX_REQS_PER_CONN)
		return -1;
	if (!mech_enabled(srv->set, cmd->mech)) {
		send_fail(c, cmd->id, "unsupported mechanism", false);
		return 0;
	}
	/* `secured` is the login daemon's word about the client's transport
	 * (TLS or trusted loopback); it never vouches for an identity. */
	if (sasl_mech_plaintext(cmd->mech) && srv->set->disable_plaintext && !cmd->secured) {
		send_fail(c, cmd->id, "plaintext authentication disallowed", false);
		return 0;
	}
	struct auth_req *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	r->conn = c;
	r->id = cmd->id;
	r->state = REQ_SASL;
	memcpy(r->service, cmd->service, sizeof(r->service));
	memcpy(r->rip, cmd->rip, sizeof(r->rip));
	r->client_delay = cmd->client_delay;
	sasl_init(&r->sasl, cmd->mech);
	r->next = c->reqs;
	c->reqs = r;
	c->nreqs++;
	srv->nreqs++;
	struct buf chal;
	const char *err = NULL;
	buf_init(&chal, 1024);
	enum sasl_status st =
	    sasl_start(&r->sasl, cmd->has_resp ? (cmd->resp ? cmd->resp : "") : NULL, cmd->resp_len,
	               &chal, &err);
	req_step(r, st, &chal, err);
	buf_free(&chal);
	return 0;
}

static int cmd_cont(struct auth_conn *c, const struct auth_cmd *cmd)
{
	struct auth_req *r = req_find(c, cmd->id);
	if (r == NULL || r->state != REQ_SASL)
		return -1;
	struct buf chal;
	const char *err = NULL;
	buf_init(&chal, 1024);
	enum sasl_status st = sasl_continue(&r->sasl, cmd->resp, cmd->resp_len, &chal, &err);
	req_step(r, st, &chal, err);
	buf_free(&chal);
	return 0;
}

/* Append "key=value" and a NUL to b; returns the field's offset. */
static size_t add_kv(struct buf *b, const char *key, const char *value)
{
	size_t off = b->len;
	if (buf_printf(b, "%s=%s", key, value) < 0 || buf_append(b, "", 1) < 0)
		b->max = 1; /* mark failure: later appends fail too */
	return off;
}

static void send_user_info(struct auth_conn *c, const char *verb, unsigned id,
                           const struct auth_user_info *info)
{
	char ids[16], uid[16], gid[16];
	snprintf(ids, sizeof(ids), "%u", id);
	snprintf(uid, sizeof(uid), "%lu", (unsigned long)info->uid);
	snprintf(gid, sizeof(gid), "%lu", (unsigned long)info->gid);
	struct buf b;
	buf_init(&b, 0);
	size_t o[5] = {add_kv(&b, "user", info->user), add_kv(&b, "uid", uid),
	               add_kv(&b, "gid", gid), add_kv(&b, "home", info->home),
	               add_kv(&b, "mail", info->mail)};
	if (b.max != 1 && b.data != NULL) {
		const char *f[] = {verb,          ids,           b.data + o[0], b.data + o[1],
		                   b.data + o[2], b.data + o[3], b.data + o[4], NULL};
		conn_send(c, f);
	} else {
		send_fail(c, id, "temporary failure", true);
	}
	buf_free(&b);
}

static int cmd_user(struct auth_conn *c, const struct auth_cmd *cmd)
{
	char ids[16], user[SASL_MAX_USER + 1];
	snprintf(ids, sizeof(ids), "%u", cmd->id);
	struct auth_user_info info;
	int rc = 0;
	if (canon_name(c->srv, cmd->name, strlen(cmd->name), user, sizeof(user)) == 0)
		rc = auth_db_lookup(&c->srv->db, user, NULL, &info);
	if (rc == 0) {
		const char *f[] = {"NOTFOUND", ids, NULL};
		conn_send(c, f);
	} else if (rc < 0) {
		send_fail(c, cmd->id, "temporary failure", true);
	} else {
		send_user_info(c, "USER", cmd->id, &info);
		auth_user_info_free(&info);
	}
	return 0;
}

/* LOOKUP: does the user exist? The answer carries nothing else, so the
 * unprivileged smtpd learns no uid, home or mail location. A system
 * account or root's group (uid-range.h) is NOTFOUND: its mail could only
 * be refused at delivery, so smtpd refuses it at RCPT (550 5.1.1).
 * postmaster never gets here: smtpd accepts it without a lookup. */
static int cmd_lookup(struct auth_conn *c, const struct auth_cmd *cmd)
{
	char ids[16], user[SASL_MAX_USER + 1];
	snprintf(ids, sizeof(ids), "%u", cmd->id);
	struct auth_user_info info;
	int rc = 0;
	if (canon_name(c->srv, cmd->name, strlen(cmd->name), user, sizeof(user)) == 0)
		rc = auth_db_lookup(&c->srv->db, user, NULL, &info);
	const struct auth_settings *set = c->srv->set;
	const char *why = NULL;
	if (rc > 0 && set->uid_rule &&
	    uid_range_check(info.uid, info.gid, set->first_valid_uid, set->last_valid_uid, &why) <
	        0) {
		log_info(c->srv->lg, "LOOKUP %s (uid %lu, gid %lu): %s; answered NOTFOUND", user,
		         (unsigned long)info.uid, (unsigned long)info.gid, why);
		auth_user_info_free(&info);
		rc = 0;
	}
	const char *f[] = {rc > 0 ? "OK" : rc == 0 ? "NOTFOUND" : "FAIL", ids, NULL};
	if (rc > 0)
		auth_user_info_free(&info);
	conn_send(c, f);
	return 0;
}

static int cmd_redeem(struct auth_conn *c, const struct auth_cmd *cmd)
{
	struct auth_user_info info;
	if (auth_tokens_redeem(&c->srv->tokens, cmd->token, strlen(cmd->token), cmd->service,
	                       now_ms(), &info) < 0) {
		log_info(c->srv->lg, "token redemption refused: service=%s", cmd->service);
		send_fail(c, cmd->id, "invalid token", false);
		return 0;
	}
	send_user_info(c, "OK", cmd->id, &info);
	auth_user_info_free(&info);
	return 0;
}

static int cmd_cancel(struct auth_conn *c, const struct auth_cmd *cmd)
{
	struct auth_req *r = req_find(c, cmd->id);
	if (r != NULL && r->state != REQ_DELAY)
		req_free(r); /* a pending failure still waits out its delay */
	return 0;
}

/* One decoded line. 0 to go on, -1 to drop the connection. */
static int conn_line(struct auth_conn *c, const struct wire_field *f, int n)
{
	struct auth_cmd cmd;
	const char *err = NULL;
	if (auth_proto_parse(f, n, &cmd, &err) < 0) {
		log_warning(c->srv->lg, "client protocol error: %s", err);
		return -1;
	}
	if (!c->handshake) {
		if (cmd.verb != AUTH_VERB_VERSION || cmd.major != AUTH_PROTO_MAJOR) {
			log_warning(c->srv->lg, "client did not start with VERSION auth %d",
			            AUTH_PROTO_MAJOR);
			return -1;
		}
		c->handshake = true;
		return 0;
	}
	if (!auth_proto_allowed(c->kind, cmd.verb)) {
		/* A login or smtp process asking for lookups or tokens is
		 * compromised or broken: answer, then hang up on it. */
		log_warning(c->srv->lg, "%s refused on this auth socket; disconnecting",
		            cmd.verb == AUTH_VERB_USER     ? "USER"
		            : cmd.verb == AUTH_VERB_LOOKUP ? "LOOKUP"
		                                           : "REDEEM");
		send_fail(c, cmd.id, "not allowed on this socket", false);
		c->closing = true;
		conn_flush(c);
		return 0;
	}
	switch (cmd.verb) {
	case AUTH_VERB_AUTH:
		return cmd_auth(c, &cmd);
	case AUTH_VERB_CONT:
		return cmd_cont(c, &cmd);
	case AUTH_VERB_CANCEL:
		return cmd_cancel(c, &cmd);
	case AUTH_VERB_USER:
		return cmd_user(c, &cmd);
	case AUTH_VERB_REDEEM:
		return cmd_redeem(c, &cmd);
	case AUTH_VERB_LOOKUP:
		return cmd_lookup(c, &cmd);
	default:
		return -1; /* a second VERSION */
	}
}

/* ---- connections ---- */

static void conn_free(struct auth_conn *c)
{
	struct auth_server *srv = c->srv;
	while (c->reqs != NULL)
		req_free(c->reqs);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	event_free(c->rev);
	event_free(c->wev);
	if (c->in.in.data != NULL)
		OPENSSL_cleanse(c->in.in.data, c->in.in.cap);
	wire_conn_clear(&c->in);
	buf_free(&c->out);
	close(c->fd);
	free(c);
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct auth_conn *c = arg;
	ssize_t r = wire_conn_read(&c->in);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		if (r < 0)
			log_warning(c->srv->lg, "client connection: %s", strerror(errno));
		conn_free(c);
		return;
	}
	struct wire_field f[WIRE_MAX_FIELDS];
	int n;
	while (!c->closing && !c->dead && (n = wire_conn_next(&c->in, f, WIRE_MAX_FIELDS)) != 0) {
		if (n < 0) {
			log_warning(c->srv->lg, "client sent a malformed or oversized line");
			conn_free(c);
			return;
		}
		if (conn_line(c, f, n) < 0) {
			conn_free(c);
			return;
		}
	}
	if (c->closing)
		event_del(c->rev);
	conn_settle(c);
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct auth_conn *c = arg;
	conn_flush(c);
	conn_settle(c);
}

/* Greeting: our VERSION, the mechanisms, DONE. */
static void conn_greet(struct auth_conn *c)
{
	const struct auth_settings *set = c->srv->set;
	if (wire_encode_version(&c->out, "auth", AUTH_PROTO_MAJOR, AUTH_PROTO_MINOR) < 0) {
		c->dead = true;
		return;
	}
	for (int m = SASL_MECH_PLAIN; m <= SASL_MECH_LOGIN; m++) {
		if (!mech_enabled(set, (enum sasl_mech)m))
			continue;
		const char *f[] = {"MECH", sasl_mech_name((enum sasl_mech)m), "plaintext", NULL};
		conn_send(c, f);
	}
	const char *done[] = {"DONE", NULL};
	conn_send(c, done);
}

static void listen_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct auth_listen *l = arg;
	struct auth_server *srv = l->srv;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_error(srv->lg, "accept: %s", strerror(errno));
		return;
	}
	struct auth_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(cfd);
		return;
	}
	c->srv = srv;
	c->kind = l->kind;
	c->fd = cfd;
	wire_conn_init(&c->in, cfd);
	buf_init(&c->out, AUTH_OUT_MAX);
	c->rev = event_new(srv->base, cfd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->wev = event_new(srv->base, cfd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	if (c->rev == NULL || c->wev == NULL || event_add(c->rev, NULL) < 0) {
		c->dead = true;
	} else {
		conn_greet(c);
	}
	conn_settle(c);
}

/* ---- server ---- */

struct auth_server *auth_server_new(struct event_base *base, const struct auth_settings *set,
                                    const struct loft_log *lg, struct auth_pool *pool, char *err,
                                    size_t errlen)
{
	struct auth_server *srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->base = base;
	srv->set = set;
	srv->lg = lg;
	srv->pool = pool;
	auth_db_init(&srv->db, set, lg);
	auth_tokens_init(&srv->tokens, set->token_lifetime_ms, TOKEN_MAX);
	if (auth_throttle_init(&srv->throttle, set->failure_delay_ms, set->failure_delay_max_ms,
	                       THROTTLE_ENTRIES) < 0) {
		snprintf(err, errlen, "out of memory");
		auth_server_free(srv);
		return NULL;
	}
	if (set->passdb == AUTH_DB_PAM && pool == NULL) {
		snprintf(err, errlen, "passdb pam needs the worker pool");
		auth_server_free(srv);
		return NULL;
	}
	if (auth_db_preload(&srv->db, err, errlen) < 0) {
		auth_server_free(srv);
		return NULL;
	}
	return srv;
}

int auth_server_listen(struct auth_server *srv, int fd, enum auth_listener kind, char *err,
                       size_t errlen)
{
	if (srv->nlisteners == sizeof(srv->listeners) / sizeof(srv->listeners[0])) {
		snprintf(err, errlen, "too many listeners");
		return -1;
	}
	struct auth_listen *l = &srv->listeners[srv->nlisteners];
	l->srv = srv;
	l->fd = fd;
	l->kind = kind;
	if (evloop_set_nonblock(fd) < 0 || evloop_set_cloexec(fd, true) < 0) {
		snprintf(err, errlen, "listener fd %d: %s", fd, strerror(errno));
		return -1;
	}
	l->ev = evloop_add_read(srv->base, fd, listen_cb, l);
	if (l->ev == NULL) {
		snprintf(err, errlen, "cannot watch listener fd %d", fd);
		return -1;
	}
	srv->nlisteners++;
	return 0;
}

static void close_listeners(struct auth_server *srv)
{
	for (size_t i = 0; i < srv->nlisteners; i++) {
		event_free(srv->listeners[i].ev);
		close(srv->listeners[i].fd);
	}
	srv->nlisteners = 0;
}

void auth_server_drain(struct auth_server *srv)
{
	close_listeners(srv);
	srv->draining = true;
	server_check_drained(srv);
}

void auth_server_free(struct auth_server *srv)
{
	if (srv == NULL)
		return;
	srv->draining = false;
	while (srv->conns != NULL)
		conn_free(srv->conns);
	close_listeners(srv);
	auth_db_free(&srv->db);
	auth_tokens_free(&srv->tokens);
	auth_throttle_free(&srv->throttle);
	free(srv);
}
