/* qmgr-sched.c: the scheduler of loft-queue. It knows every message in
 * active/, deferred/ and hold/ (id, folder, when it is next due) and, when
 * one is due, loads it with its recipient states, routes the recipients
 * that are due into delivery jobs (qmgr-route.c) within the
 * per-destination concurrency, runs them (qmgr-job.c) and records the
 * results: state saved after each job, before the next attempt (docs/
 * queue.md, "at-least-once window"); failures retried with back-off until
 * queue_lifetime; permanent failures and expiries bounced (qmgr-bounce.c),
 * saved as bounced only once the DSN is in the spool. A message with
 * deferred recipients waits in deferred/; finished ones are deleted. One
 * timer, armed for the earliest due message; job completion re-runs. */
#include "qmgr.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "queue-open.h"

struct bounce_owed {
	bool owed;
	char status[16];
};

struct qmgr_entry {
	struct qmgr_entry *prev, *next;
	char id[QUEUE_ID_LEN + 1];
	enum queue_dir dir;
	int64_t due;    /* unix seconds; 0 = now; INT64_MAX = never (unloadable) */
	bool flush;     /* FLUSH/RELEASE: deferred recipients are due now */
	bool loaded;    /* m holds the message: an attempt is in progress */
	bool deleted;   /* DELETE while jobs were running */
	bool expired;   /* a bounce owed is an expiry */
	unsigned njobs; /* jobs of this attempt still running */
	uint64_t tried; /* the scheduler run that last looked at it */
	struct queue_msg m;
	struct bounce_owed *bounce; /* per recipient, while loaded */
};

struct dest_count {
	struct dest_count *next;
	bool local;
	char domain[SMTP_DOMAIN_MAX + 1];
	unsigned running;
};

struct qmgr_sched {
	struct qmgr *q;
	struct qmgr_entry *head, *tail;
	struct qmgr_job *running;
	struct dest_count *dests;
	struct event *timer;
	uint64_t runs; /* scheduler runs so far */
	bool draining;
};

static void sched_run(evutil_socket_t fd, short what, void *arg);

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static void kick(struct qmgr_sched *s)
{
	struct timeval tv = {0, 0};
	if (!s->draining)
		evtimer_add(s->timer, &tv);
}

struct qmgr_sched *qmgr_sched_new(struct qmgr *q)
{
	struct qmgr_sched *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->q = q;
	s->timer = evtimer_new(q->base, sched_run, s);
	if (s->timer == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

/* -- entries -------------------------------------------------------- */

static struct qmgr_entry *entry_find(struct qmgr_sched *s, const char *id)
{
	for (struct qmgr_entry *e = s->head; e != NULL; e = e->next) {
		if (strcmp(e->id, id) == 0)
			return e;
	}
	return NULL;
}

static struct qmgr_entry *entry_add(struct qmgr_sched *s, const char *id, enum queue_dir d)
{
	struct qmgr_entry *e = entry_find(s, id);
	if (e != NULL)
		return e;
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		log_error(&s->q->lg, "%s: out of memory", id);
		return NULL;
	}
	memcpy(e->id, id, QUEUE_ID_LEN);
	e->dir = d;
	e->prev = s->tail;
	if (s->tail != NULL)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
	return e;
}

static void entry_unload(struct qmgr_entry *e)
{
	if (e->loaded)
		queue_msg_free(&e->m);
	free(e->bounce);
	e->bounce = NULL;
	e->loaded = false;
	e->expired = false;
}

static void entry_remove(struct qmgr_sched *s, struct qmgr_entry *e)
{
	entry_unload(e);
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	free(e);
}

/* -- destinations' running job counts ------------------------------- */

static struct dest_count *dest_get(struct qmgr_sched *s, bool local, const char *domain,
                                   bool create)
{
	for (struct dest_count *d = s->dests; d != NULL; d = d->next) {
		if (d->local == local && strcmp(d->domain, domain) == 0)
			return d;
	}
	if (!create)
		return NULL;
	struct dest_count *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->local = local;
	snprintf(d->domain, sizeof(d->domain), "%s", domain);
	d->next = s->dests;
	s->dests = d;
	return d;
}

static unsigned dest_running(struct qmgr_sched *s, const struct qmgr_dest *dst)
{
	struct dest_count *d = dest_get(s, dst->local, dst->domain, false);
	return d != NULL ? d->running : 0;
}

static void dest_adjust(struct qmgr_sched *s, const struct qmgr_job *j, int delta)
{
	struct dest_count *d = dest_get(s, j->local, j->domain, true);
	if (d != NULL)
		d->running = (unsigned)((int)d->running + delta);
}

/* -- recording results ---------------------------------------------- */

static void set_error(struct queue_rcpt *r, const char *text)
{
	char clean[QUEUE_ERROR_MAX + 1];
	log_sanitise(clean, sizeof(clean), text, strlen(text));
	char *dup = strdup(clean);
	if (dup == NULL)
		return; /* keep the old text rather than lose the state */
	free(r->error);
	r->error = dup;
}

static void log_rcpt(struct qmgr_sched *s, const struct qmgr_entry *e, const struct queue_rcpt *r,
                     const char *relay, const char *status, const char *text)
{
	log_info(&s->q->lg, "%s: to=<%s>, relay=%s, delay=%lld, status=%s (%s)", e->id, r->addr,
	         relay, (long long)(now_s() - e->m.arrival), status, text);
}

/* Recipient idx of e was owed a bounce because it is too old. */
static void owe_expiry(struct qmgr_sched *s, struct qmgr_entry *e, size_t idx, const char *relay)
{
	struct queue_rcpt *r = &e->m.rcpts[idx];
	char text[QUEUE_ERROR_MAX + 1];
	snprintf(text, sizeof(text), "4.4.7 delivery time expired (%s)",
	         r->error != NULL ? r->error : "no attempt made");
	set_error(r, text);
	e->bounce[idx].owed = true;
	snprintf(e->bounce[idx].status, sizeof(e->bounce[idx].status), "4.4.7");
	e->expired = true;
	log_rcpt(s, e, r, relay, "bounced", text);
}

static void apply_result(struct qmgr_sched *s, struct qmgr_entry *e, size_t idx,
                         const struct qmgr_job *j, enum qmgr_result res, const char *text)
{
	const struct qmgr_settings *set = &s->q->set;
	struct queue_rcpt *r = &e->m.rcpts[idx];
	char relay[SMTP_DOMAIN_MAX + 16];
	int64_t now = now_s();
	snprintf(relay, sizeof(relay), j->local ? "lmtp" : "smtp:%s", j->domain);
	r->attempts++;
	r->last_attempt = now;
	set_error(r, text);
	switch (res) {
	case QMGR_OK:
		r->state = QUEUE_RCPT_DELIVERED;
		r->next_attempt = 0;
		log_rcpt(s, e, r, relay, "sent", text);
		break;
	case QMGR_TEMP:
		r->state = QUEUE_RCPT_DEFERRED;
		r->next_attempt =
		    now + qmgr_backoff(set->retry_min_ms, set->retry_max_ms, r->attempts);
		log_rcpt(s, e, r, relay, "deferred", text);
		if (qmgr_expired(e->m.arrival, now, set->lifetime_ms))
			owe_expiry(s, e, idx, relay);
		break;
	case QMGR_PERM:
		e->bounce[idx].owed = true;
		qmgr_dsn_status(text, '5', e->bounce[idx].status, sizeof(e->bounce[idx].status));
		log_rcpt(s, e, r, relay, "bounced", text);
		break;
	}
}

static void save_state(struct qmgr_sched *s, struct qmgr_entry *e)
{
	const char *err;
	if (e->deleted)
		return;
	if (queue_store_state_save(&s->q->qs, &e->m, &err) < 0)
		qmgr_fatal(s->q, "saving recipient state", err);
}

/* The whole spool file of loaded e, checked: 0, or -1 when it is damaged
 * or gone; then it is moved to corrupt/ (if still there) and e is marked
 * deleted, so nothing of it is delivered and finalize drops it. */
static int entry_body(struct qmgr_sched *s, struct qmgr_entry *e)
{
	const char *err;
	if (queue_store_load_body(&s->q->qs, &e->m, e->dir, &err) == 0)
		return 0;
	log_error(&s->q->lg, "%s: %s; moved to corrupt/", e->id, err);
	if (queue_store_move(&s->q->qs, e->id, e->dir, QUEUE_DIR_CORRUPT, &err) < 0)
		log_error(&s->q->lg, "%s: %s", e->id, err);
	e->deleted = true;
	return -1;
}

/* -- finishing an attempt ------------------------------------------- */

/* Send the DSN for e's owed bounces; then they count as bounced. */
static void settle_bounces(struct qmgr_sched *s, struct qmgr_entry *e, bool *dsn_failed)
{
	size_t n = 0;
	for (size_t i = 0; i < e->m.nrcpt; i++)
		n += e->bounce[i].owed;
	if (n == 0)
		return;
	if (e->m.sender[0] == '\0') {
		log_info(&s->q->lg, "%s: discarding double bounce", e->id);
	} else {
		struct qmgr_bounce_rcpt *b = calloc(n, sizeof(*b));
		char dsn_id[QUEUE_ID_LEN + 1];
		size_t k = 0;
		for (size_t i = 0; b != NULL && i < e->m.nrcpt; i++) {
			if (!e->bounce[i].owed)
				continue;
			b[k++] = (struct qmgr_bounce_rcpt){e->m.rcpts[i].addr, e->bounce[i].status,
			                                   e->m.rcpts[i].error, NULL};
		}
		/* The DSN quotes the header section: the body must be read. */
		if (entry_body(s, e) < 0) {
			free(b);
			return;
		}
		int rc = b != NULL ? qmgr_bounce_send(s->q, &e->m, b, n, e->expired, dsn_id) : -1;
		queue_msg_drop_body(&e->m);
		free(b);
		if (rc < 0) {
			/* Nothing saved as bounced: the recipients come round again. */
			*dsn_failed = true;
			return;
		}
		log_info(&s->q->lg, "%s: sender non-delivery notification: %s", e->id, dsn_id);
		qmgr_sched_add(s, dsn_id);
	}
	for (size_t i = 0; i < e->m.nrcpt; i++) {
		if (e->bounce[i].owed) {
			e->m.rcpts[i].state = QUEUE_RCPT_BOUNCED;
			e->bounce[i].owed = false;
		}
	}
	save_state(s, e);
}

static void finalize(struct qmgr_sched *s, struct qmgr_entry *e)
{
	const char *err;
	bool dsn_failed = false;
	int64_t now = now_s();
	if (!e->deleted)
		settle_bounces(s, e, &dsn_failed);
	if (e->deleted) {
		entry_remove(s, e);
		return;
	}
	int64_t due = INT64_MAX;
	for (size_t i = 0; i < e->m.nrcpt; i++) {
		const struct queue_rcpt *r = &e->m.rcpts[i];
		if (r->state == QUEUE_RCPT_PENDING && due > now)
			due = now;
		else if (r->state == QUEUE_RCPT_DEFERRED && r->next_attempt < due)
			due = r->next_attempt;
	}
	if (due == INT64_MAX) {
		if (queue_store_delete(&s->q->qs, e->id, &err) < 0)
			log_error(&s->q->lg, "%s: %s", e->id, err);
		else
			log_info(&s->q->lg, "%s: removed", e->id);
		entry_remove(s, e);
		kick(s);
		return;
	}
	if (dsn_failed) {
		int64_t later =
		    now + qmgr_backoff(s->q->set.retry_min_ms, s->q->set.retry_max_ms, 1);
		due = due < later ? later : due;
	}
	e->due = due;
	if (due > now && e->dir == QUEUE_DIR_ACTIVE) {
		if (queue_store_move(&s->q->qs, e->id, QUEUE_DIR_ACTIVE, QUEUE_DIR_DEFERRED, &err) <
		    0)
			log_error(&s->q->lg, "%s: %s", e->id, err);
		else
			e->dir = QUEUE_DIR_DEFERRED;
	}
	entry_unload(e);
	kick(s);
}

/* -- running jobs ----------------------------------------------------- */

static void job_result(void *arg, struct qmgr_job *j, size_t k, size_t i, enum qmgr_result r,
                       const char *text)
{
	struct qmgr_sched *s = arg;
	struct qmgr_entry *e = j->msgs[k].msg;
	apply_result(s, e, j->msgs[k].rcpt[i], j, r, text);
	/* A delivery is made durable the moment it is known, not when the job
	 * ends: a crash before that re-delivers the recipient (docs/queue.md,
	 * at-least-once), so the window must be as short as we can make it.
	 * When it was the message's last recipient, removing the message is
	 * that record (one unlink instead of a state save and then a delete). */
	if (r != QMGR_OK || e->deleted)
		return;
	bool all_done = e->njobs == 1;
	for (size_t n = 0; n < e->m.nrcpt && all_done; n++)
		all_done = e->m.rcpts[n].state == QUEUE_RCPT_DELIVERED;
	const char *err;
	if (!all_done) {
		save_state(s, e);
	} else if (queue_store_delete(&s->q->qs, e->id, &err) < 0) {
		log_error(&s->q->lg, "%s: %s", e->id, err);
		save_state(s, e);
	} else {
		log_info(&s->q->lg, "%s: removed", e->id);
		e->deleted = true; /* finalize drops the entry; nothing more is saved */
	}
}

/* The job is over (or never started): unanswered recipients are
 * deferred, states saved, messages with nothing else running finalized. */
static void job_finish(struct qmgr_sched *s, struct qmgr_job *j, const char *why)
{
	for (size_t k = 0; k < j->nmsg; k++) {
		struct qmgr_entry *e = j->msgs[k].msg;
		for (size_t i = 0; i < j->msgs[k].nrcpt; i++) {
			if (!j->msgs[k].answered[i])
				apply_result(s, e, j->msgs[k].rcpt[i], j, QMGR_TEMP, why);
		}
		save_state(s, e);
	}
	dest_adjust(s, j, -1);
	for (size_t k = 0; k < j->nmsg; k++) {
		struct qmgr_entry *e = j->msgs[k].msg;
		if (--e->njobs == 0)
			finalize(s, e);
	}
	qmgr_job_free(j);
	kick(s);
}

static void job_done(void *arg, struct qmgr_job *j)
{
	struct qmgr_sched *s = arg;
	for (struct qmgr_job **p = &s->running; *p != NULL; p = &(*p)->next) {
		if (*p == j) {
			*p = j->next;
			break;
		}
	}
	job_finish(s, j, "4.3.0 delivery agent failed");
}

static void launch(struct qmgr_sched *s, struct qmgr_job *j)
{
	const struct queue_msg *msgs[QMGR_JOB_MSGS];
	const char *err = NULL;
	bool ok = true;
	for (size_t k = 0; k < j->nmsg; k++) {
		struct qmgr_entry *e = j->msgs[k].msg;
		msgs[k] = &e->m;
		if (!j->local && ok) {
			j->msgs[k].fd = queue_store_open_msg(&s->q->qs, e->id, &err);
			ok = j->msgs[k].fd >= 0;
			if (!ok)
				log_error(&s->q->lg, "%s", err);
		}
	}
	/* The LMTP child sends the body from memory: read and check it now
	 * (the relay checks the file it is handed itself). */
	if (j->local && entry_body(s, j->msgs[0].msg) < 0)
		ok = false;
	dest_adjust(s, j, +1);
	int rc = ok ? qmgr_job_launch(s->q, j, msgs, job_result, job_done, s) : -1;
	/* The child has its own copy now. */
	if (j->local)
		queue_msg_drop_body(&((struct qmgr_entry *)j->msgs[0].msg)->m);
	if (rc == 0) {
		j->started = now_s();
		j->next = s->running;
		s->running = j;
		return;
	}
	qmgr_job_release(j);
	job_finish(s, j, "4.3.0 cannot start delivery");
}

/* -- deciding what to attempt ----------------------------------------- */

/* Load e and put its due recipients into plan. */
static void try_start(struct qmgr_sched *s, struct qmgr_entry *e, int64_t now,
                      struct qmgr_plan *plan)
{
	const struct qmgr_settings *set = &s->q->set;
	const char *err;
	enum queue_dir d;
	if (queue_store_load(&s->q->qs, e->id, &e->m, &d, &err) < 0) {
		log_error(&s->q->lg, "%s: %s", e->id, err);
		e->due = INT64_MAX; /* left alone until the next start */
		return;
	}
	e->loaded = true;
	e->dir = d;
	e->tried = s->runs;
	e->bounce = calloc(e->m.nrcpt, sizeof(*e->bounce));
	if (e->bounce == NULL) {
		entry_unload(e);
		return;
	}
	size_t planned = 0, owed = 0;
	for (size_t i = 0; i < e->m.nrcpt; i++) {
		struct queue_rcpt *r = &e->m.rcpts[i];
		struct qmgr_dest dst;
		if (r->state == QUEUE_RCPT_DELIVERED || r->state == QUEUE_RCPT_BOUNCED)
			continue;
		if (r->state == QUEUE_RCPT_DEFERRED &&
		    qmgr_expired(e->m.arrival, now, set->lifetime_ms)) {
			owe_expiry(s, e, i, "none");
			owed++;
			continue;
		}
		if (r->state == QUEUE_RCPT_DEFERRED && r->next_attempt > now && !e->flush)
			continue;
		if (qmgr_route(&set->route, r->addr, &dst) < 0) {
			set_error(r, "5.1.3 bad recipient address");
			e->bounce[i].owed = true;
			snprintf(e->bounce[i].status, sizeof(e->bounce[i].status), "5.1.3");
			owed++;
			continue;
		}
		int rc = qmgr_plan_add(plan, e, (uint32_t)i, &dst, dest_running(s, &dst),
		                       set->concurrency);
		planned += rc == 1;
	}
	e->flush = false;
	if (planned == 0 && owed == 0) {
		/* Nothing due after all, or every destination busy (a finishing
		 * job re-runs the scheduler), or nothing left to do at all (a
		 * crash before the delete: finalize, after the plan, deletes). */
		int64_t due = INT64_MAX;
		for (size_t i = 0; i < e->m.nrcpt; i++) {
			const struct queue_rcpt *r = &e->m.rcpts[i];
			if (r->state == QUEUE_RCPT_PENDING)
				due = now;
			else if (r->state == QUEUE_RCPT_DEFERRED && r->next_attempt < due)
				due = r->next_attempt > now ? r->next_attempt : now;
		}
		if (due != INT64_MAX) {
			e->due = due;
			entry_unload(e);
		}
		return;
	}
	if (planned > 0 && e->dir == QUEUE_DIR_DEFERRED) {
		if (queue_store_move(&s->q->qs, e->id, QUEUE_DIR_DEFERRED, QUEUE_DIR_ACTIVE, &err) <
		    0)
			log_error(&s->q->lg, "%s: %s", e->id, err);
		else
			e->dir = QUEUE_DIR_ACTIVE;
	}
}

static void arm_timer(struct qmgr_sched *s)
{
	struct timeval now;
	int64_t first = INT64_MAX;
	gettimeofday(&now, NULL);
	for (struct qmgr_entry *e = s->head; e != NULL; e = e->next) {
		if (e->loaded || e->dir == QUEUE_DIR_HOLD)
			continue;
		/* Due but left out of this run: waiting for a destination slot;
		 * the job that frees it re-runs the scheduler. */
		if (e->due <= (int64_t)now.tv_sec && e->tried == s->runs)
			continue;
		if (e->due < first)
			first = e->due;
	}
	if (first == INT64_MAX)
		return;
	int64_t ms = first * 1000 - ((int64_t)now.tv_sec * 1000 + now.tv_usec / 1000);
	if (ms < 0)
		ms = 0;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(s->timer, &tv);
}

static void sched_run(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct qmgr_sched *s = arg;
	struct qmgr_plan plan = {NULL, 0};
	int64_t now = now_s();
	if (s->draining)
		return;
	s->runs++;
	for (struct qmgr_entry *e = s->head; e != NULL; e = e->next) {
		if (!e->loaded && e->dir != QUEUE_DIR_HOLD && e->due <= now)
			try_start(s, e, now, &plan);
	}
	/* Count every job first: a job failing at launch must not finalize a
	 * message another job of this plan still carries. */
	for (struct qmgr_job *j = plan.jobs; j != NULL; j = j->next) {
		for (size_t k = 0; k < j->nmsg; k++)
			((struct qmgr_entry *)j->msgs[k].msg)->njobs++;
	}
	while (plan.jobs != NULL) {
		struct qmgr_job *j = plan.jobs;
		plan.jobs = j->next;
		j->next = NULL;
		launch(s, j);
	}
	/* Messages loaded with only bounces to send and no job. */
	for (struct qmgr_entry *e = s->head, *next; e != NULL; e = next) {
		next = e->next;
		if (e->loaded && e->njobs == 0)
			finalize(s, e);
	}
	arm_timer(s);
}

/* -- interface ---------------------------------------------------------- */

int qmgr_sched_load(struct qmgr_sched *s)
{
	static const enum queue_dir dirs[] = {QUEUE_DIR_ACTIVE, QUEUE_DIR_DEFERRED, QUEUE_DIR_HOLD};
	for (size_t k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
		char **ids;
		size_t n;
		const char *err;
		if (queue_store_ids(&s->q->qs, dirs[k], &ids, &n, &err) < 0) {
			log_error(&s->q->lg, "%s", err);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			entry_add(s, ids[i], dirs[k]);
		queue_ids_free(ids, n);
	}
	kick(s);
	return 0;
}

void qmgr_sched_add(struct qmgr_sched *s, const char *id)
{
	struct qmgr_entry *e = entry_add(s, id, QUEUE_DIR_ACTIVE);
	if (e != NULL)
		e->due = 0;
	kick(s);
}

void qmgr_sched_flush(struct qmgr_sched *s)
{
	for (struct qmgr_entry *e = s->head; e != NULL; e = e->next) {
		if (e->dir != QUEUE_DIR_HOLD && !e->loaded) {
			e->flush = true;
			e->due = 0;
		}
	}
	kick(s);
}

static struct qmgr_entry *admin_find(struct qmgr_sched *s, const char *id, enum queue_dir *d,
                                     const char **error_r)
{
	struct qmgr_entry *e = entry_find(s, id);
	if (e == NULL || e->deleted || queue_store_find(&s->q->qs, id, d) < 0 ||
	    *d == QUEUE_DIR_CORRUPT) {
		*error_r = "no such message";
		return NULL;
	}
	return e;
}

int qmgr_sched_hold(struct qmgr_sched *s, const char *id, const char **error_r)
{
	enum queue_dir d;
	struct qmgr_entry *e = admin_find(s, id, &d, error_r);
	if (e == NULL)
		return -1;
	if (d != QUEUE_DIR_HOLD && queue_store_move(&s->q->qs, id, d, QUEUE_DIR_HOLD, error_r) < 0)
		return -1;
	e->dir = QUEUE_DIR_HOLD;
	log_info(&s->q->lg, "%s: held by the administrator", id);
	return 0;
}

int qmgr_sched_release(struct qmgr_sched *s, const char *id, const char **error_r)
{
	enum queue_dir d;
	struct qmgr_entry *e = admin_find(s, id, &d, error_r);
	if (e == NULL)
		return -1;
	if (d == QUEUE_DIR_HOLD) {
		if (queue_store_move(&s->q->qs, id, d, QUEUE_DIR_ACTIVE, error_r) < 0)
			return -1;
		e->dir = QUEUE_DIR_ACTIVE;
		log_info(&s->q->lg, "%s: released by the administrator", id);
	}
	e->flush = true;
	e->due = 0;
	kick(s);
	return 0;
}

int qmgr_sched_delete(struct qmgr_sched *s, const char *id, const char **error_r)
{
	enum queue_dir d;
	struct qmgr_entry *e = admin_find(s, id, &d, error_r);
	if (e == NULL)
		return -1;
	if (queue_store_delete(&s->q->qs, id, error_r) < 0)
		return -1;
	log_info(&s->q->lg, "%s: removed by the administrator", id);
	if (e->loaded)
		e->deleted = true; /* its jobs finish; nothing more is saved */
	else
		entry_remove(s, e);
	return 0;
}

void qmgr_sched_drain(struct qmgr_sched *s)
{
	s->draining = true;
	evtimer_del(s->timer);
}

bool qmgr_sched_idle(const struct qmgr_sched *s)
{
	return s->running == NULL;
}

void qmgr_sched_free(struct qmgr_sched *s)
{
	if (s == NULL)
		return;
	while (s->running != NULL) {
		struct qmgr_job *j = s->running;
		s->running = j->next;
		/* Killed mid-delivery, a recipient is simply tried again (its
		 * state was never saved as delivered). */
		if (j->pid > 0)
			kill(j->pid, SIGTERM);
		qmgr_job_release(j);
		qmgr_job_free(j);
	}
	while (s->head != NULL)
		entry_remove(s, s->head);
	while (s->dests != NULL) {
		struct dest_count *d = s->dests;
		s->dests = d->next;
		free(d);
	}
	event_free(s->timer);
	free(s);
}
