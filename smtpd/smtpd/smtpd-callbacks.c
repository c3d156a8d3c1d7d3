/* smtpd-callbacks.c: the smtp_session callbacks of a connection child.
 * Recipient checks ask loft-auth (LOOKUP) at once; the queue callbacks speak
 * the QUEUE protocol at once; AUTH and STARTTLS are only recorded as pending
 * work, which smtpd-conn.c carries out after smtp_session_input returns, so
 * the session is never re-entered from inside its own callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtpd-private.h"

bool smtpd_conn_secured(const struct smtpd_conn *c)
{
	return c->io.ssl != NULL || (c->loopback && c->ctx->set.loopback_secure);
}

static enum smtp_rcpt_result cb_rcpt_check(void *ctx, const struct smtp_addr *rcpt)
{
	struct smtpd_conn *c = ctx;
	/* as LMTP delivery does: the full address first, then the local part */
	int rc = smtpd_auth_lookup(&c->auth, rcpt->full);
	if (rc == 0 && rcpt->has_domain)
		rc = smtpd_auth_lookup(&c->auth, rcpt->local);
	if (rc < 0)
		log_warning(&c->ctx->log, "recipient lookup of <%s> failed: loft-auth unreachable",
		            rcpt->full);
	return rc > 0 ? SMTP_RCPT_OK : rc == 0 ? SMTP_RCPT_UNKNOWN : SMTP_RCPT_TEMPFAIL;
}

static int cb_auth_start(void *ctx, const char *mech, const char *initial)
{
	struct smtpd_conn *c = ctx;
	snprintf(c->mech, sizeof(c->mech), "%s", mech);
	c->auth_has_data = initial != NULL;
	snprintf(c->auth_data, sizeof(c->auth_data), "%s", initial != NULL ? initial : "");
	c->pending = SMTPD_P_AUTH_START;
	return 0;
}

static int cb_auth_continue(void *ctx, const char *line, size_t len)
{
	struct smtpd_conn *c = ctx;
	if (len == 1 && line[0] == '*') {
		/* the session already answered 501; auth forgets the exchange */
		smtpd_auth_cancel(&c->auth);
		return 0;
	}
	if (len >= sizeof(c->auth_data))
		len = sizeof(c->auth_data) - 1;
	memcpy(c->auth_data, line, len);
	c->auth_data[len] = '\0';
	c->auth_has_data = true;
	c->pending = SMTPD_P_AUTH_CONT;
	return 0;
}

static void cb_starttls(void *ctx)
{
	struct smtpd_conn *c = ctx;
	c->pending = SMTPD_P_STARTTLS;
}

static bool is_local_domain(const struct smtpd_settings *set, const char *domain)
{
	for (size_t i = 0; i < set->n_mydomains; i++)
		if (strcasecmp(domain, set->mydomains[i]) == 0)
			return true;
	return false;
}

/* postmaster (bare or at a local domain) goes to postmaster_user
 * (RFC 5321 4.5.1); everything else is passed on as the client wrote it.
 * Returns a malloc'd address or NULL when no mapping applies. */
static char *map_postmaster(const struct smtpd_settings *set, const struct smtp_addr *a)
{
	if (strcasecmp(a->local, "postmaster") != 0 ||
	    (a->has_domain && !is_local_domain(set, a->domain)))
		return NULL;
	const char *pm = set->postmaster_user;
	const char *dom = a->has_domain          ? a->domain
	                  : set->n_mydomains > 0 ? set->mydomains[0]
	                                         : set->hostname;
	size_t len = strlen(pm) + strlen(dom) + 2;
	char *out = malloc(len);
	if (out != NULL) {
		if (strchr(pm, '@') != NULL)
			snprintf(out, len, "%s", pm);
		else
			snprintf(out, len, "%s@%s", pm, dom);
	}
	return out;
}

static enum smtp_queue_result cb_queue_begin(void *ctx, const struct smtp_txn *txn, char *qid,
                                             size_t qid_size)
{
	struct smtpd_conn *c = ctx;
	const char **rcpts = calloc(txn->n_rcpts + 1, sizeof(char *));
	char **mapped = calloc(txn->n_rcpts + 1, sizeof(char *));
	enum smtp_queue_result r = SMTP_QUEUE_TEMP;
	if (rcpts == NULL || mapped == NULL)
		goto out;
	size_t n = 0;
	for (size_t i = 0; i < txn->n_rcpts; i++) {
		mapped[i] = map_postmaster(&c->ctx->set, &txn->rcpts[i].to);
		const char *to = mapped[i] != NULL ? mapped[i] : txn->rcpts[i].to.full;
		/* one copy per recipient (<postmaster> and postmaster@dom are one) */
		bool dup = false;
		for (size_t k = 0; k < n && !dup; k++)
			dup = strcmp(rcpts[k], to) == 0;
		if (!dup)
			rcpts[n++] = to;
	}
	struct smtpd_queue_msg m = {
	    .sender = txn->mail.from.full,
	    .rcpts = rcpts,
	    .n_rcpts = n,
	    .addr = c->ip,
	    .auth = txn->auth_user,
	};
	r = smtpd_queue_begin(&c->queue, &m, qid, qid_size);
	if (r == SMTP_QUEUE_OK) {
		snprintf(c->qid, sizeof(c->qid), "%s", qid);
		snprintf(c->from, sizeof(c->from), "%s", txn->mail.from.full);
		c->nrcpt = n;
		c->size = 0;
		log_info(&c->ctx->log, "%s: client=unknown[%s]%s%s", c->qid, c->ip,
		         txn->auth_user != NULL ? ", sasl_username=" : "",
		         txn->auth_user != NULL ? txn->auth_user : "");
	} else {
		log_warning(&c->ctx->log, "cannot open a queue file: queue: %s",
		            smtpd_queue_error(&c->queue));
	}
out:
	for (size_t i = 0; mapped != NULL && i < txn->n_rcpts; i++)
		free(mapped[i]);
	free(mapped);
	free(rcpts);
	return r;
}

static enum smtp_queue_result cb_queue_write(void *ctx, const char *p, size_t len)
{
	struct smtpd_conn *c = ctx;
	c->size += len;
	enum smtp_queue_result r = smtpd_queue_write(&c->queue, p, len);
	if (r != SMTP_QUEUE_OK)
		log_warning(&c->ctx->log, "%s: queue: %s", c->qid, smtpd_queue_error(&c->queue));
	return r;
}

static enum smtp_queue_result cb_queue_commit(void *ctx)
{
	struct smtpd_conn *c = ctx;
	enum smtp_queue_result r = smtpd_queue_commit(&c->queue);
	if (r == SMTP_QUEUE_OK)
		log_info(&c->ctx->log, "%s: queued as %s from=<%s> nrcpt=%zu size=%llu", c->qid,
		         c->qid, c->from, c->nrcpt, (unsigned long long)c->size);
	else
		log_warning(&c->ctx->log, "%s: queue: %s", c->qid, smtpd_queue_error(&c->queue));
	return r;
}

static void cb_queue_abort(void *ctx)
{
	struct smtpd_conn *c = ctx;
	smtpd_queue_abort(&c->queue);
	log_info(&c->ctx->log, "%s: message dropped", c->qid);
}

static void cb_queue_reason(void *ctx, const char **status_r, const char **text_r)
{
	struct smtpd_conn *c = ctx;
	smtpd_queue_reason(&c->queue, status_r, text_r);
}

void smtpd_callbacks_init(struct smtpd_conn *c)
{
	c->cb.rcpt_check = cb_rcpt_check;
	c->cb.auth_start = cb_auth_start;
	c->cb.auth_continue = cb_auth_continue;
	c->cb.starttls = cb_starttls;
	c->cb.queue_begin = cb_queue_begin;
	c->cb.queue_write = cb_queue_write;
	c->cb.queue_commit = cb_queue_commit;
	c->cb.queue_abort = cb_queue_abort;
	c->cb.queue_reason = cb_queue_reason;
}
