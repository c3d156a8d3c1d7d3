/* relay-deliver.c: loft-relay's delivery policy for one job. Find the route,
 * then try its hosts and their addresses in order until no recipient is
 * pending: a connection failure, a non-2xx greeting or a 4xx EHLO moves on to
 * the next address; a TLS handshake failure retries the same address without
 * TLS (opportunistic STARTTLS). On a working session every message is sent in
 * turn (RSET after an unfinished transaction); a reply to RCPT or to the
 * final dot is final for this attempt. Recipients still pending when the
 * hosts run out get TEMP with the last error. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "relay-client.h"
#include "relay-self.h"
#include "relay.h"

struct session {
	struct relay_conn c;
	const struct relay_opts *o;
	const struct loft_log *lg;
	struct relay_reply caps; /* EHLO reply (keywords) */
	bool esmtp;
	bool tls;
};

void relay_textf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

enum start_result {
	START_OK = 0,
	START_FAIL = -1,     /* try the next address */
	START_TLS_FAIL = -2, /* retry this address without TLS */
	START_LOOP = -3,     /* the server is us: stop, the mail bounces */
};

const char *relay_status_name(enum relay_status s)
{
	switch (s) {
	case RELAY_OK:
		return "ok";
	case RELAY_TEMP:
		return "temp";
	case RELAY_PERM:
		return "perm";
	default:
		return "pending";
	}
}

void relay_result_set(struct relay_result *r, enum relay_status st, const char *fmt, ...)
{
	if (r->st != RELAY_PENDING)
		return;
	char tmp[RELAY_TEXT_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	log_sanitise(r->text, sizeof(r->text), tmp, strlen(tmp));
	r->st = st;
}

void relay_job_fail_pending(struct relay_job *job, enum relay_status st, const char *text)
{
	for (size_t m = 0; m < job->nmsg; m++)
		for (size_t i = 0; i < job->msg[m].nrcpt; i++)
			relay_result_set(&job->msg[m].res[i], st, "%s", text);
}

size_t relay_job_pending(const struct relay_job *job)
{
	size_t n = 0;
	for (size_t m = 0; m < job->nmsg; m++)
		for (size_t i = 0; i < job->msg[m].nrcpt; i++)
			n += job->msg[m].res[i].st == RELAY_PENDING;
	return n;
}

static enum relay_status reply_status(const struct relay_reply *r)
{
	if (r->code >= 200 && r->code < 300)
		return RELAY_OK;
	return r->code >= 500 ? RELAY_PERM : RELAY_TEMP;
}

/* Greeting, EHLO (HELO on 5xx), STARTTLS when offered, EHLO again. */
static enum start_result session_start(struct session *s, const struct relay_host *h, size_t ai,
                                       bool use_tls, char *err, size_t errlen)
{
	struct relay_reply r;
	struct relay_conn *c = &s->c;
	if (relay_conn_open(c, h, ai, s->o->timeout_ms) < 0 || relay_conn_reply(c, &r) < 0)
		goto io_fail;
	if (r.code != 220) {
		relay_textf(err, errlen, "%s said: %s (greeting)", c->peer, r.text);
		return START_FAIL;
	}
	if (relay_conn_cmd(c, &s->caps, "EHLO %s", s->o->hostname) < 0)
		goto io_fail;
	s->esmtp = s->caps.code / 100 == 2;
	if (s->esmtp && relay_ehlo_is_me(s->caps.text, s->o->hostname)) {
		relay_textf(err, errlen, "%s replied to EHLO with my own hostname %s", c->peer,
		            s->o->hostname);
		return START_LOOP;
	}
	if (s->caps.code / 100 == 5) {
		if (relay_conn_cmd(c, &r, "HELO %s", s->o->hostname) < 0)
			goto io_fail;
		memset(&s->caps, 0, sizeof(s->caps));
		s->caps.code = r.code;
		memcpy(s->caps.text, r.text, sizeof(r.text));
	}
	if (s->caps.code / 100 != 2) {
		relay_textf(err, errlen, "%s said: %s (EHLO)", c->peer, s->caps.text);
		return START_FAIL;
	}
	if (!s->esmtp || !s->caps.starttls || !use_tls || s->o->tls == NULL)
		return START_OK;
	if (relay_conn_cmd(c, &r, "STARTTLS") < 0)
		goto io_fail;
	if (r.code != 220) {
		log_info(s->lg, "%s refused STARTTLS (%s): continuing without TLS", c->peer,
		         r.text);
		return START_OK;
	}
	if (relay_conn_starttls(c, s->o->tls, h->name, s->o->tls_verify) < 0) {
		log_warning(s->lg, "%s", c->err);
		relay_textf(err, errlen, "%s", c->err);
		return START_TLS_FAIL;
	}
	s->tls = true;
	if (relay_conn_cmd(c, &s->caps, "EHLO %s", s->o->hostname) < 0)
		goto io_fail;
	if (s->caps.code / 100 != 2) {
		relay_textf(err, errlen, "%s said: %s (EHLO after STARTTLS)", c->peer,
		            s->caps.text);
		return START_FAIL;
	}
	return START_OK;
io_fail:
	relay_textf(err, errlen, "%s", c->err);
	return START_FAIL;
}

/* RSET after an unfinished transaction: -1 when the connection is gone. */
static int session_rset(struct session *s)
{
	struct relay_reply r;
	return relay_conn_cmd(&s->c, &r, "RSET") < 0 || r.code / 100 != 2 ? -1 : 0;
}

/* Set every accepted (pending) recipient of m from reply r. */
static void set_accepted(struct session *s, struct relay_msg *m, const bool *acc,
                         const struct relay_reply *r)
{
	enum relay_status st = reply_status(r);
	for (size_t i = 0; i < m->nrcpt; i++)
		if (acc[i])
			relay_result_set(&m->res[i], st, "%s said: %s", s->c.peer, r->text);
}

/* RCPT TO for each pending recipient: acc[i] set when accepted. -1 = I/O. */
static int send_rcpts(struct session *s, struct relay_msg *m, bool *acc, size_t *nacc)
{
	struct relay_reply r;
	for (size_t i = 0; i < m->nrcpt; i++) {
		acc[i] = false;
		if (m->res[i].st != RELAY_PENDING)
			continue;
		if (relay_conn_cmd(&s->c, &r, "RCPT TO:<%s>", m->rcpts[i]) < 0)
			return -1;
		if (r.code / 100 == 2) {
			acc[i] = true;
			(*nacc)++;
		} else {
			relay_result_set(&m->res[i], reply_status(&r), "%s said: %s", s->c.peer,
			                 r.text);
		}
	}
	return 0;
}

/* One message's transaction. 0 = connection still usable, -1 = gone. */
static int send_msg(struct session *s, struct relay_msg *m)
{
	struct relay_reply r;
	size_t npend = 0;
	for (size_t i = 0; i < m->nrcpt; i++)
		npend += m->res[i].st == RELAY_PENDING;
	if (npend == 0 || !m->decoded)
		return 0;
	size_t size = m->qm.body_len;
	if (s->caps.has_size && s->caps.size_max > 0 && size > s->caps.size_max) {
		for (size_t i = 0; i < m->nrcpt; i++)
			relay_result_set(&m->res[i], RELAY_PERM,
			                 "5.3.4 message size %zu exceeds the limit of %s (%llu)",
			                 size, s->c.peer, (unsigned long long)s->caps.size_max);
		return 0;
	}
	char size_p[40] = "";
	if (s->caps.has_size)
		snprintf(size_p, sizeof(size_p), " SIZE=%zu", size);
	bool eight = m->eightbit && s->caps.eightbitmime;
	if (relay_conn_cmd(&s->c, &r, "MAIL FROM:<%s>%s%s", m->sender, size_p,
	                   eight ? " BODY=8BITMIME" : "") < 0)
		return -1;
	if (r.code / 100 != 2) {
		for (size_t i = 0; i < m->nrcpt; i++)
			relay_result_set(&m->res[i], reply_status(&r), "%s said: %s (MAIL FROM)",
			                 s->c.peer, r.text);
		return session_rset(s);
	}
	bool *accepted = calloc(m->nrcpt, sizeof(bool));
	if (accepted == NULL)
		return -1;
	size_t nacc = 0;
	int rc = -1;
	if (send_rcpts(s, m, accepted, &nacc) < 0)
		goto out;
	if (nacc == 0) {
		rc = session_rset(s);
		goto out;
	}
	if (relay_conn_cmd(&s->c, &r, "DATA") < 0)
		goto out;
	if (r.code != 354) {
		if (r.code / 100 == 2)
			r.code = 451; /* nonsense: never count it as delivered */
		set_accepted(s, m, accepted, &r);
		rc = session_rset(s);
		goto out;
	}
	if (relay_conn_data(&s->c, m->spool, m->spool_len, &m->qm) < 0)
		goto out; /* not complete: the accepted ones stay pending */
	if (relay_conn_reply(&s->c, &r) < 0) {
		/* It may have been delivered: temp (a possible duplicate later)
		 * rather than trying the next host right away. */
		for (size_t i = 0; i < m->nrcpt; i++)
			if (accepted[i])
				relay_result_set(&m->res[i], RELAY_TEMP, "%s (after end of data)",
				                 s->c.err);
		goto out;
	}
	set_accepted(s, m, accepted, &r);
	rc = 0;
out:
	free(accepted);
	return rc;
}

/* Every message over one session; QUIT when it stayed usable. */
static void session_run(struct session *s, struct relay_job *job, char *err, size_t errlen)
{
	for (size_t i = 0; i < job->nmsg; i++) {
		if (send_msg(s, &job->msg[i]) < 0) {
			relay_textf(err, errlen, "%s", s->c.err);
			return;
		}
	}
	struct relay_reply r;
	relay_conn_cmd(&s->c, &r, "QUIT"); /* its answer changes nothing */
}

void relay_job_deliver(const struct relay_opts *o, struct relay_job *job, const struct loft_log *lg)
{
	struct relay_route *rt = calloc(1, sizeof(*rt));
	char err[RELAY_TEXT_MAX];
	enum relay_status st;
	if (rt == NULL) {
		relay_job_fail_pending(job, RELAY_TEMP, "4.3.0 out of memory");
		return;
	}
	if (relay_route_find(o, job->domain, rt, &st, err, sizeof(err)) < 0) {
		log_info(lg, "route to %s: %s", job->domain, err);
		relay_job_fail_pending(job, st, err);
		free(rt);
		return;
	}
	if (relay_route_drop_self(rt, o->self, relay_addr_is_local, job->domain, err, sizeof(err)) <
	    0) {
		log_warning(lg, "%s", err);
		relay_job_fail_pending(job, RELAY_PERM, err);
		free(rt);
		return;
	}
	relay_textf(err, sizeof(err), "4.4.1 no host to try for %s", job->domain);
	for (size_t h = 0; h < rt->nhost && relay_job_pending(job) > 0; h++) {
		for (size_t a = 0; a < rt->host[h].naddr && relay_job_pending(job) > 0; a++) {
			bool use_tls = o->tls != NULL;
			for (;;) {
				struct session s = {.o = o, .lg = lg};
				enum start_result r =
				    session_start(&s, &rt->host[h], a, use_tls, err, sizeof(err));
				if (r == START_OK) {
					log_debug(lg, "connected to %s%s", s.c.peer,
					          s.tls ? " (TLS)" : "");
					session_run(&s, job, err, sizeof(err));
				} else if (r == START_LOOP) {
					log_warning(lg, "%s", err);
					relay_textf(err, sizeof(err),
					            "5.4.6 mail for %s loops back to myself",
					            job->domain);
					relay_job_fail_pending(job, RELAY_PERM, err);
				} else {
					log_info(lg, "%s", err);
				}
				relay_conn_close(&s.c);
				if (r != START_TLS_FAIL || !use_tls)
					break;
				use_tls = false; /* opportunistic: try again in plaintext */
			}
		}
	}
	relay_job_fail_pending(job, RELAY_TEMP, err);
	free(rt);
}
