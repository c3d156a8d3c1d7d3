/* qmgr-sched.c: the scheduler of loft-queue. It knows every message in
 * active/, deferred/ and hold/ (id, folder, when it is next due: an id hash
 * table and a due-time heap, qmgr-index.c) and, when one is due, loads it
 * with its recipient states (once: the envelope stays cached, up to
 * QMGR_CACHE_MAX of them, since only this process changes it), routes the
 * recipients
 * that are due into delivery jobs (qmgr-route.c) within the
 * per-destination concurrency, runs them (qmgr-job.c) and records the
 * results: state saved after each job, before the next attempt (docs/
 * queue.md, "at-least-once window"); failures retried with back-off until
 * queue_lifetime; permanent failures and expiries bounced (qmgr-bounce.c),
 * saved as bounced only once the DSN is in the spool. A message with
 * deferred recipients waits in deferred/; finished ones are deleted. One
 * timer, armed for the earliest due message. A message due while its
 * destination has no free slot waits in that destination's list and is
 * handed back when one of its jobs ends, so a backlog for one destination
 * is never walked on behalf of another (docs/queue.md, "Scheduling"). */
#include "qmgr.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "qmgr-entry.h"
#include "queue-open.h"

/* Messages one scheduler run takes up before it yields to the event loop
 * (and so to smtpd committing mail), e.g. while learning a large spool. */
#define QMGR_RUN_MAX 500

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
	log_info(&s->q->lg, "%s: to=<%s>, relay=%s, delay=%lld, status=%s (%s)", e->ix.id, r->addr,
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
	log_error(&s->q->lg, "%s: %s; moved to corrupt/", e->ix.id, err);
	if (queue_store_move(&s->q->qs, e->ix.id, e->dir, QUEUE_DIR_CORRUPT, &err) < 0)
		log_error(&s->q->lg, "%s: %s", e->ix.id, err);
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
		log_info(&s->q->lg, "%s: discarding double bounce", e->ix.id);
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
		log_info(&s->q->lg, "%s: sender non-delivery notification: %s", e->ix.id, dsn_id);
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
		qmgr_entry_remove(s, e);
		kick(s);
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
		if (queue_store_delete(&s->q->qs, e->ix.id, &err) < 0)
			log_error(&s->q->lg, "%s: %s", e->ix.id, err);
		else
			log_info(&s->q->lg, "%s: removed", e->ix.id);
		qmgr_entry_remove(s, e);
		kick(s);
		return;
	}
	if (dsn_failed) {
		int64_t later =
		    now + qmgr_backoff(s->q->set.retry_min_ms, s->q->set.retry_max_ms, 1);
		due = due < later ? later : due;
	}
	if (due > now && e->dir == QUEUE_DIR_ACTIVE) {
		if (queue_store_move(&s->q->qs, e->ix.id, QUEUE_DIR_ACTIVE, QUEUE_DIR_DEFERRED,
		                     &err) < 0)
			log_error(&s->q->lg, "%s: %s", e->ix.id, err);
		else
			e->dir = QUEUE_DIR_DEFERRED;
	}
	qmgr_entry_unload(s, e);
	qmgr_entry_idle(s, e, due);
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
	} else if (queue_store_delete(&s->q->qs, e->ix.id, &err) < 0) {
		log_error(&s->q->lg, "%s: %s", e->ix.id, err);
		save_state(s, e);
	} else {
		log_info(&s->q->lg, "%s: removed", e->ix.id);
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
	qmgr_dest_adjust(s, j, -1);
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
			j->msgs[k].fd = queue_store_open_msg(&s->q->qs, e->ix.id, &err);
			ok = j->msgs[k].fd >= 0;
			if (!ok)
				log_error(&s->q->lg, "%s", err);
		}
	}
	/* The LMTP child sends the body from memory: read and check it now
	 * (the relay checks the file it is handed itself). */
	if (j->local && entry_body(s, j->msgs[0].msg) < 0)
		ok = false;
	qmgr_dest_adjust(s, j, +1);
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

/* The envelope of e from the cache, or read (envelope and states only)
 * into it: 0, or -1 when it cannot be read (left alone until the next
 * start). */
static int entry_load(struct qmgr_sched *s, struct qmgr_entry *e)
{
	const char *err;
	enum queue_dir d;
	if (e->cached)
		return 0;
	if (queue_store_load(&s->q->qs, e->ix.id, &e->m, &d, &err) < 0) {
		log_error(&s->q->lg, "%s: %s", e->ix.id, err);
		qmgr_entry_idle(s, e, INT64_MAX);
		return -1;
	}
	queue_msg_drop_body(&e->m); /* read along with a small envelope */
	e->cached = true;
	s->ncached++;
	e->dir = d;
	return 0;
}

/* When e's recipients were all refused a slot: wait at the destination
 * that refused the first of them (the envelope is kept while the cache has
 * room). Otherwise put it back in the heap for its next due time; when
 * nothing is left to do at all (a crash before the delete), it stays
 * loaded and finalize, after the plan, deletes it. */
static void not_started(struct qmgr_sched *s, struct qmgr_entry *e, struct dest_count *full,
                        int64_t now)
{
	if (full != NULL) {
		qmgr_entry_unload(s, e);
		qmgr_wl_append(&full->wait, e);
		return;
	}
	int64_t due = INT64_MAX;
	for (size_t i = 0; i < e->m.nrcpt; i++) {
		const struct queue_rcpt *r = &e->m.rcpts[i];
		if (r->state == QUEUE_RCPT_PENDING)
			due = now;
		else if (r->state == QUEUE_RCPT_DEFERRED && r->next_attempt < due)
			due = r->next_attempt > now ? r->next_attempt : now;
	}
	if (due != INT64_MAX) {
		qmgr_entry_unload(s, e);
		qmgr_entry_idle(s, e, due);
	}
}

/* Put e's due recipients into plan (e is out of the heap and wait lists). */
static void try_start(struct qmgr_sched *s, struct qmgr_entry *e, int64_t now,
                      struct qmgr_plan *plan)
{
	const struct qmgr_settings *set = &s->q->set;
	const char *err;
	struct dest_count *full = NULL;
	if (entry_load(s, e) < 0)
		return;
	e->bounce = calloc(e->m.nrcpt, sizeof(*e->bounce));
	if (e->bounce == NULL) {
		qmgr_entry_idle(s, e, now + 1);
		return;
	}
	e->loaded = true;
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
		int rc = qmgr_plan_add(plan, e, (uint32_t)i, &dst, qmgr_dest_running(s, &dst),
		                       set->concurrency);
		planned += rc == 1;
		if (rc == 0 && full == NULL)
			full = qmgr_dest_get(s, dst.local, dst.domain, true);
	}
	if (planned == 0 && owed == 0) {
		/* FLUSH stays in force for a message still waiting for a slot. */
		not_started(s, e, full, now);
		return;
	}
	e->flush = false;
	if (planned > 0 && e->dir == QUEUE_DIR_DEFERRED) {
		if (queue_store_move(&s->q->qs, e->ix.id, QUEUE_DIR_DEFERRED, QUEUE_DIR_ACTIVE,
		                     &err) < 0)
			log_error(&s->q->lg, "%s: %s", e->ix.id, err);
		else
			e->dir = QUEUE_DIR_ACTIVE;
	}
}

static void arm_timer(struct qmgr_sched *s)
{
	struct timeval now;
	struct qmgr_index_node *top = qmgr_heap_top(&s->ix);
	if (s->ready.head != NULL) {
		kick(s);
		return;
	}
	if (top == NULL)
		return;
	gettimeofday(&now, NULL);
	int64_t ms = top->due * 1000 - ((int64_t)now.tv_sec * 1000 + now.tv_usec / 1000);
	if (ms < 0)
		ms = 0;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(s->timer, &tv);
}

/* The next message to take up in this run: one handed back by a finishing
 * job first, then the heap's earliest if it is due. */
static struct qmgr_entry *next_due(struct qmgr_sched *s, int64_t now)
{
	struct qmgr_entry *e = s->ready.head;
	if (e != NULL) {
		qmgr_wl_remove(e);
		return e;
	}
	e = qmgr_entry_of(qmgr_heap_top(&s->ix));
	if (e == NULL || e->ix.due > now)
		return NULL;
	qmgr_heap_remove(&s->ix, &e->ix);
	return e;
}

static void sched_run(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct qmgr_sched *s = arg;
	struct qmgr_plan plan = {NULL, 0};
	int64_t now = now_s();
	/* Ids, not pointers: a job failing at launch may finalize (and free)
	 * an entry before the last loop below. */
	char taken[QMGR_RUN_MAX][QUEUE_ID_LEN + 1];
	size_t ntaken = 0;
	struct qmgr_entry *e;
	if (s->draining)
		return;
	s->runs++;
	for (size_t tries = 0; tries < QMGR_RUN_MAX && (e = next_due(s, now)) != NULL; tries++) {
		if (e->run != s->runs) {
			e->run = s->runs;
			memcpy(taken[ntaken++], e->ix.id, QUEUE_ID_LEN + 1);
		}
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
	for (size_t i = 0; i < ntaken; i++) {
		e = qmgr_entry_find(s, taken[i]);
		if (e != NULL && e->loaded && e->njobs == 0)
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
		/* Due at 1, just after brand-new mail (0): a large spool learnt
		 * at start-up does not hold up what arrives meanwhile. The
		 * first look reads each envelope and finds its real due time. */
		for (size_t i = 0; i < n; i++) {
			struct qmgr_entry *e = qmgr_entry_add(s, ids[i], dirs[k]);
			if (e != NULL && dirs[k] != QUEUE_DIR_HOLD)
				qmgr_entry_idle(s, e, 1);
		}
		queue_ids_free(ids, n);
	}
	kick(s);
	return 0;
}

void qmgr_sched_add(struct qmgr_sched *s, const char *id)
{
	struct qmgr_entry *e = qmgr_entry_add(s, id, QUEUE_DIR_ACTIVE);
	if (e != NULL && !e->loaded && e->wl == NULL)
		qmgr_entry_idle(s, e, 0);
	kick(s);
}

void qmgr_sched_flush(struct qmgr_sched *s)
{
	for (size_t b = 0; b < s->ix.nbuckets; b++) {
		for (struct qmgr_index_node *n = s->ix.buckets[b]; n != NULL; n = n->hnext) {
			struct qmgr_entry *e = qmgr_entry_of(n);
			if (e->dir == QUEUE_DIR_HOLD || e->loaded)
				continue;
			e->flush = true;
			if (e->wl == NULL && e->due != INT64_MAX)
				qmgr_entry_idle(s, e, 0);
		}
	}
	kick(s);
}

static struct qmgr_entry *admin_find(struct qmgr_sched *s, const char *id, enum queue_dir *d,
                                     const char **error_r)
{
	struct qmgr_entry *e = qmgr_entry_find(s, id);
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
	/* Out of the heap and any wait list; an attempt in progress ends. */
	qmgr_wl_remove(e);
	qmgr_heap_remove(&s->ix, &e->ix);
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
	if (!e->loaded && e->wl == NULL)
		qmgr_entry_idle(s, e, 0);
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
		qmgr_entry_remove(s, e);
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
	for (size_t b = 0; b < s->ix.nbuckets; b++) {
		while (s->ix.buckets[b] != NULL)
			qmgr_entry_remove(s, qmgr_entry_of(s->ix.buckets[b]));
	}
	qmgr_index_free(&s->ix);
	while (s->dests != NULL) {
		struct dest_count *d = s->dests;
		s->dests = d->next;
		free(d);
	}
	event_free(s->timer);
	free(s);
}
