/* qmgr-entry.h: the scheduler's bookkeeping, shared by qmgr-sched.c (what
 * to attempt, results) and qmgr-entry.c (where each message waits): the
 * message entries with their id index and due-time heap, the wait lists of
 * messages due while their destination has no free slot, the envelope
 * cache, and the running job count per destination. */
#ifndef LOFT_QMGR_ENTRY_H
#define LOFT_QMGR_ENTRY_H

#include "qmgr-index.h"
#include "qmgr.h"

/* Envelopes kept in memory for messages between attempts; more are read
 * again (envelope only) when they come due. About 1 KB each. */
#define QMGR_CACHE_MAX 20000

struct bounce_owed {
	bool owed;
	char status[16];
};

struct wait_list {
	struct qmgr_entry *head, *tail;
};

/* A message is in exactly one place: the heap (waiting for its due time),
 * a wait list (due, waiting for a destination slot, or handed back and
 * ready to try), an attempt (loaded: jobs planned or running), or nowhere
 * (on hold, or unloadable until the next start). */
struct qmgr_entry {
	struct qmgr_index_node ix; /* id, hash chain, heap position */
	struct qmgr_entry *wprev, *wnext;
	struct wait_list *wl; /* the wait list it is in, or NULL */
	enum queue_dir dir;
	int64_t due;    /* unix seconds; 0 = now; INT64_MAX = never (unloadable) */
	bool flush;     /* FLUSH/RELEASE: deferred recipients are due now */
	bool cached;    /* m holds the envelope and states */
	bool loaded;    /* an attempt is in progress (m is cached) */
	bool deleted;   /* DELETE while jobs were running */
	bool expired;   /* a bounce owed is an expiry */
	unsigned njobs; /* jobs of this attempt still running */
	uint64_t run;   /* the scheduler run that last took it up */
	struct queue_msg m;
	struct bounce_owed *bounce; /* per recipient, while loaded */
};

struct dest_count {
	struct dest_count *next;
	bool local;
	char domain[SMTP_DOMAIN_MAX + 1];
	unsigned running;
	struct wait_list wait; /* due messages refused a slot, oldest first */
};

struct qmgr_sched {
	struct qmgr *q;
	struct qmgr_index ix;
	struct wait_list ready; /* handed back by a finishing job: try first */
	size_t ncached;
	struct qmgr_job *running;
	struct dest_count *dests;
	struct event *timer;
	uint64_t runs; /* scheduler runs so far */
	bool draining;
};

/* The entry holding index node n (NULL for NULL). */
struct qmgr_entry *qmgr_entry_of(struct qmgr_index_node *n);
/* The entry of queue id id, or NULL. */
struct qmgr_entry *qmgr_entry_find(struct qmgr_sched *s, const char *id);
/* Append e (in no list) to wl / take e out of its list (if any). */
void qmgr_wl_append(struct wait_list *wl, struct qmgr_entry *e);
void qmgr_wl_remove(struct qmgr_entry *e);
/* The entry of id, made (in folder d, in no list) when new; NULL out of memory. */
struct qmgr_entry *qmgr_entry_add(struct qmgr_sched *s, const char *id, enum queue_dir d);
/* Free e's cached envelope. */
void qmgr_entry_forget(struct qmgr_sched *s, struct qmgr_entry *e);
/* Between attempts: wait in the heap until due (not on hold, never when
 * due is INT64_MAX). */
void qmgr_entry_idle(struct qmgr_sched *s, struct qmgr_entry *e, int64_t due);
/* End an attempt: keep the envelope while the cache has room; never the body. */
void qmgr_entry_unload(struct qmgr_sched *s, struct qmgr_entry *e);
/* Take e out of everything and free it. */
void qmgr_entry_remove(struct qmgr_sched *s, struct qmgr_entry *e);
/* The destination's counter (made when create); NULL when absent or no memory. */
struct dest_count *qmgr_dest_get(struct qmgr_sched *s, bool local, const char *domain, bool create);
/* Jobs running for dst. */
unsigned qmgr_dest_running(struct qmgr_sched *s, const struct qmgr_dest *dst);
/* Count j's destination one more or one less running job; a freed slot
 * hands as many waiting messages as one job takes to s->ready. */
void qmgr_dest_adjust(struct qmgr_sched *s, const struct qmgr_job *j, int delta);

#endif
