/* qmgr-entry.c: where each of the scheduler's messages waits (see
 * qmgr-entry.h): the id index and due-time heap, destination wait lists,
 * the envelope cache and the running job count per destination. */
#include "qmgr-entry.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- entries -------------------------------------------------------- */

struct qmgr_entry *qmgr_entry_of(struct qmgr_index_node *n)
{
	return n == NULL ? NULL
	                 : (struct qmgr_entry *)((char *)n - offsetof(struct qmgr_entry, ix));
}

struct qmgr_entry *qmgr_entry_find(struct qmgr_sched *s, const char *id)
{
	return qmgr_entry_of(qmgr_index_find(&s->ix, id));
}

void qmgr_wl_append(struct wait_list *wl, struct qmgr_entry *e)
{
	e->wl = wl;
	e->wnext = NULL;
	e->wprev = wl->tail;
	if (wl->tail != NULL)
		wl->tail->wnext = e;
	else
		wl->head = e;
	wl->tail = e;
}

void qmgr_wl_remove(struct qmgr_entry *e)
{
	struct wait_list *wl = e->wl;
	if (wl == NULL)
		return;
	if (e->wprev != NULL)
		e->wprev->wnext = e->wnext;
	else
		wl->head = e->wnext;
	if (e->wnext != NULL)
		e->wnext->wprev = e->wprev;
	else
		wl->tail = e->wprev;
	e->wl = NULL;
	e->wprev = e->wnext = NULL;
}

struct qmgr_entry *qmgr_entry_add(struct qmgr_sched *s, const char *id, enum queue_dir d)
{
	struct qmgr_entry *e = qmgr_entry_find(s, id);
	if (e != NULL)
		return e;
	e = calloc(1, sizeof(*e));
	if (e == NULL || (memcpy(e->ix.id, id, QUEUE_ID_LEN), qmgr_index_add(&s->ix, &e->ix)) < 0) {
		log_error(&s->q->lg, "%s: out of memory", id);
		free(e);
		return NULL;
	}
	e->dir = d;
	return e;
}

void qmgr_entry_forget(struct qmgr_sched *s, struct qmgr_entry *e)
{
	if (!e->cached)
		return;
	queue_msg_free(&e->m);
	e->cached = false;
	s->ncached--;
}

/* Between attempts, wait in the heap until due (not on hold, not when it
 * can never be loaded). */
void qmgr_entry_idle(struct qmgr_sched *s, struct qmgr_entry *e, int64_t due)
{
	e->due = due;
	if (e->dir == QUEUE_DIR_HOLD || due == INT64_MAX) {
		qmgr_heap_remove(&s->ix, &e->ix);
		return;
	}
	if (qmgr_heap_set(&s->ix, &e->ix, due) < 0)
		qmgr_fatal(s->q, "scheduling", "out of memory");
}

/* The attempt is over: keep the envelope for the next one while there is
 * room in the cache; the body is never kept. */
void qmgr_entry_unload(struct qmgr_sched *s, struct qmgr_entry *e)
{
	free(e->bounce);
	e->bounce = NULL;
	e->loaded = false;
	e->expired = false;
	if (e->cached)
		queue_msg_drop_body(&e->m);
	if (s->ncached > QMGR_CACHE_MAX)
		qmgr_entry_forget(s, e);
}

void qmgr_entry_remove(struct qmgr_sched *s, struct qmgr_entry *e)
{
	qmgr_wl_remove(e);
	qmgr_index_remove(&s->ix, &e->ix);
	qmgr_entry_forget(s, e);
	free(e->bounce);
	free(e);
}

/* -- destinations' running job counts ------------------------------- */

struct dest_count *qmgr_dest_get(struct qmgr_sched *s, bool local, const char *domain, bool create)
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

unsigned qmgr_dest_running(struct qmgr_sched *s, const struct qmgr_dest *dst)
{
	struct dest_count *d = qmgr_dest_get(s, dst->local, dst->domain, false);
	return d != NULL ? d->running : 0;
}

void qmgr_dest_adjust(struct qmgr_sched *s, const struct qmgr_job *j, int delta)
{
	struct dest_count *d = qmgr_dest_get(s, j->local, j->domain, true);
	if (d == NULL)
		return;
	d->running = (unsigned)((int)d->running + delta);
	if (delta >= 0)
		return;
	/* A slot is free: hand back as many waiting messages as one job
	 * takes, oldest first, to be tried before anything else. */
	for (size_t n = j->local ? 1 : QMGR_JOB_MSGS; n > 0 && d->wait.head != NULL; n--) {
		struct qmgr_entry *e = d->wait.head;
		qmgr_wl_remove(e);
		qmgr_wl_append(&s->ready, e);
	}
}
