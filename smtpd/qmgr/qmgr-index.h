/* qmgr-index.h: the scheduler's two indexes over its messages, kept apart
 * from its I/O so they are unit-tested: a hash table from queue id to entry
 * and a min-heap of entries by due time. Both are intrusive (the links live
 * in the entry), so neither allocates per message beyond growing an array;
 * every operation is O(1) or O(log n), so a large deferred backlog costs
 * new mail nothing per message it does not touch. */
#ifndef LOFT_QMGR_INDEX_H
#define LOFT_QMGR_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "queue-id.h"

/* Embedded in each entry. */
struct qmgr_index_node {
	char id[QUEUE_ID_LEN + 1];
	struct qmgr_index_node *hnext; /* hash chain */
	int64_t due;                   /* heap key: unix seconds */
	uint64_t seq;                  /* tie-break: order of insertion */
	size_t heap_idx;               /* position in the heap, QMGR_NOT_IN_HEAP when out */
};

#define QMGR_NOT_IN_HEAP SIZE_MAX

struct qmgr_index {
	struct qmgr_index_node **buckets;
	size_t nbuckets, count; /* nbuckets: a power of two */
	struct qmgr_index_node **heap;
	size_t heap_len, heap_cap;
	uint64_t seq;
};

void qmgr_index_init(struct qmgr_index *ix);
/* Frees the arrays, not the nodes. */
void qmgr_index_free(struct qmgr_index *ix);

/* Hash table: add n (its id set, not present yet): 0, or -1 out of memory. */
int qmgr_index_add(struct qmgr_index *ix, struct qmgr_index_node *n);
struct qmgr_index_node *qmgr_index_find(const struct qmgr_index *ix, const char *id);
/* Take n out of the table and, if it is there, the heap. */
void qmgr_index_remove(struct qmgr_index *ix, struct qmgr_index_node *n);

/* Heap: put n in with key due (moved if already there); 0 or -1 (memory). */
int qmgr_heap_set(struct qmgr_index *ix, struct qmgr_index_node *n, int64_t due);
void qmgr_heap_remove(struct qmgr_index *ix, struct qmgr_index_node *n);
/* The node due first (earliest due, then earliest set), or NULL. */
struct qmgr_index_node *qmgr_heap_top(const struct qmgr_index *ix);

#endif
