/* qmgr-route.c: routing, job grouping, back-off and DSN status codes for
 * the queue manager (see qmgr-route.h). No I/O: the scheduler feeds it
 * recipients and runs the jobs it builds. */
#include "qmgr-route.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int qmgr_route(const struct qmgr_route_cfg *c, const char *rcpt, struct qmgr_dest *d)
{
	struct smtp_addr a;
	memset(d, 0, sizeof(*d));
	if (smtp_addr_parse(rcpt, strlen(rcpt), SMTP_ADDR_ALLOW_UTF8 | SMTP_ADDR_ALLOW_NODOMAIN,
	                    &a) != SMTP_PARSE_OK ||
	    a.null_path)
		return -1;
	d->local = !a.has_domain;
	for (size_t i = 0; !d->local && i < c->nmydomains; i++)
		d->local = strcasecmp(a.domain, c->mydomains[i]) == 0;
	if (!d->local) {
		memcpy(d->domain, a.domain, strlen(a.domain) + 1);
		return 0;
	}
	const char *to = a.full;
	if (strcasecmp(a.local, "postmaster") == 0 && !a.quoted && c->postmaster_user != NULL &&
	    c->postmaster_user[0] != '\0')
		to = c->postmaster_user;
	size_t len = strlen(to);
	if (len >= sizeof(d->lmtp_rcpt))
		return -1;
	memcpy(d->lmtp_rcpt, to, len + 1);
	return 0;
}

struct qmgr_job *qmgr_job_new(bool local, const char *domain)
{
	struct qmgr_job *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->local = local;
	size_t len = strlen(domain);
	if (len >= sizeof(j->domain))
		len = sizeof(j->domain) - 1;
	memcpy(j->domain, domain, len);
	j->pid = -1;
	for (size_t i = 0; i < QMGR_JOB_MSGS; i++)
		j->msgs[i].fd = -1;
	return j;
}

void qmgr_job_free(struct qmgr_job *j)
{
	free(j);
}

static bool same_dest(const struct qmgr_job *j, const struct qmgr_dest *d)
{
	return j->local == d->local && strcmp(j->domain, d->domain) == 0;
}

/* Room for recipient of msg in job j: 1 added, 0 no room. */
static int job_take(struct qmgr_job *j, void *msg, uint32_t rcpt)
{
	for (size_t i = 0; i < j->nmsg; i++) {
		if (j->msgs[i].msg != msg)
			continue;
		/* A message appears at most once per job: the relay's replies
		 * name recipients by queue id and index. */
		if (j->msgs[i].nrcpt == QMGR_JOB_RCPTS)
			return 0;
		j->msgs[i].rcpt[j->msgs[i].nrcpt++] = rcpt;
		return 1;
	}
	if (j->nmsg == (j->local ? 1u : QMGR_JOB_MSGS))
		return 0;
	struct qmgr_job_msg *m = &j->msgs[j->nmsg++];
	m->msg = msg;
	m->rcpt[0] = rcpt;
	m->nrcpt = 1;
	return 1;
}

int qmgr_plan_add(struct qmgr_plan *p, void *msg, uint32_t rcpt, const struct qmgr_dest *d,
                  unsigned running, unsigned concurrency)
{
	unsigned planned = 0;
	struct qmgr_job **tail = &p->jobs;
	for (struct qmgr_job *j = p->jobs; j != NULL; j = j->next) {
		tail = &j->next;
		if (!same_dest(j, d))
			continue;
		planned++;
		if (job_take(j, msg, rcpt) == 1)
			return 1;
	}
	if (concurrency == 0)
		concurrency = 1;
	if (running + planned >= concurrency)
		return 0;
	struct qmgr_job *j = qmgr_job_new(d->local, d->domain);
	if (j == NULL)
		return -1;
	job_take(j, msg, rcpt);
	*tail = j;
	p->njobs++;
	return 1;
}

void qmgr_plan_free(struct qmgr_plan *p)
{
	while (p->jobs != NULL) {
		struct qmgr_job *j = p->jobs;
		p->jobs = j->next;
		qmgr_job_free(j);
	}
	p->njobs = 0;
}

int64_t qmgr_backoff(uint64_t min_ms, uint64_t max_ms, uint32_t attempts)
{
	uint64_t ms = min_ms > 0 ? min_ms : 1000;
	if (max_ms < ms)
		max_ms = ms;
	for (uint32_t i = 1; i < attempts && ms < max_ms; i++)
		ms = ms > max_ms / 2 ? max_ms : ms * 2;
	if (ms > max_ms)
		ms = max_ms;
	int64_t s = (int64_t)((ms + 999) / 1000);
	return s > 0 ? s : 1;
}

bool qmgr_expired(int64_t arrival, int64_t now, uint64_t lifetime_ms)
{
	return now - arrival >= (int64_t)(lifetime_ms / 1000);
}

/* Length of a status code "d.ddd.ddd" at p (class 2, 4 or 5), or 0. */
static size_t status_len(const char *p)
{
	size_t i = 0;
	if (p[0] != '2' && p[0] != '4' && p[0] != '5')
		return 0;
	if (p[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		size_t digits = 0;
		while (isdigit((unsigned char)p[i]) && digits < 3) {
			i++;
			digits++;
		}
		if (digits == 0)
			return 0;
		if (part == 0) {
			if (p[i] != '.')
				return 0;
			i++;
		}
	}
	if (isdigit((unsigned char)p[i]))
		return 0;
	return i;
}

void qmgr_dsn_status(const char *reply, char klass, char *out, size_t outlen)
{
	const char *p = reply != NULL ? reply : "";
	/* loft-relay reports a remote reply as "host[addr] said: 550 5.1.1
	 * text" (docs/relay.md): the code follows that prefix. */
	const char *said = strstr(p, "] said: ");
	if (said != NULL)
		p = said + strlen("] said: ");
	/* "550 5.1.1 text" or "550-5.1.1 text": skip the basic code. */
	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && (p[3] == ' ' || p[3] == '-'))
		p += 4;
	size_t n = status_len(p);
	if (n > 0 && n < outlen && p[0] == klass) {
		memcpy(out, p, n);
		out[n] = '\0';
		return;
	}
	if (outlen >= 6) {
		out[0] = klass;
		memcpy(out + 1, ".0.0", 5);
	} else if (outlen > 0) {
		out[0] = '\0';
	}
}
