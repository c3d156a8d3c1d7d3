/* qmgr-index.c: the scheduler's id hash table and due-time min-heap (see
 * qmgr-index.h). No I/O. */
#include "qmgr-index.h"

#include <stdlib.h>
#include <string.h>

void qmgr_index_init(struct qmgr_index *ix)
{
	memset(ix, 0, sizeof(*ix));
}

void qmgr_index_free(struct qmgr_index *ix)
{
	free(ix->buckets);
	free(ix->heap);
	memset(ix, 0, sizeof(*ix));
}

/* FNV-1a: ids are already random in their low digits; this just mixes. */
static size_t hash_id(const char *id)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; id[i] != '\0'; i++) {
		h ^= (unsigned char)id[i];
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 32));
}

static int grow_buckets(struct qmgr_index *ix)
{
	size_t nb = ix->nbuckets == 0 ? 256 : ix->nbuckets * 2;
	struct qmgr_index_node **b = calloc(nb, sizeof(*b));
	if (b == NULL)
		return -1;
	for (size_t i = 0; i < ix->nbuckets; i++) {
		struct qmgr_index_node *n = ix->buckets[i], *next;
		for (; n != NULL; n = next) {
			next = n->hnext;
			size_t k = hash_id(n->id) & (nb - 1);
			n->hnext = b[k];
			b[k] = n;
		}
	}
	free(ix->buckets);
	ix->buckets = b;
	ix->nbuckets = nb;
	return 0;
}

int qmgr_index_add(struct qmgr_index *ix, struct qmgr_index_node *n)
{
	if (ix->count >= ix->nbuckets && grow_buckets(ix) < 0)
		return -1;
	size_t k = hash_id(n->id) & (ix->nbuckets - 1);
	n->hnext = ix->buckets[k];
	ix->buckets[k] = n;
	n->heap_idx = QMGR_NOT_IN_HEAP;
	ix->count++;
	return 0;
}

struct qmgr_index_node *qmgr_index_find(const struct qmgr_index *ix, const char *id)
{
	if (ix->nbuckets == 0)
		return NULL;
	struct qmgr_index_node *n = ix->buckets[hash_id(id) & (ix->nbuckets - 1)];
	while (n != NULL && strcmp(n->id, id) != 0)
		n = n->hnext;
	return n;
}

void qmgr_index_remove(struct qmgr_index *ix, struct qmgr_index_node *n)
{
	qmgr_heap_remove(ix, n);
	if (ix->nbuckets == 0)
		return;
	struct qmgr_index_node **p = &ix->buckets[hash_id(n->id) & (ix->nbuckets - 1)];
	for (; *p != NULL; p = &(*p)->hnext) {
		if (*p == n) {
			*p = n->hnext;
			n->hnext = NULL;
			ix->count--;
			return;
		}
	}
}

static int before(const struct qmgr_index_node *a, const struct qmgr_index_node *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void place(struct qmgr_index *ix, size_t i, struct qmgr_index_node *n)
{
	ix->heap[i] = n;
	n->heap_idx = i;
}

static void sift_up(struct qmgr_index *ix, size_t i)
{
	struct qmgr_index_node *n = ix->heap[i];
	while (i > 0 && before(n, ix->heap[(i - 1) / 2])) {
		place(ix, i, ix->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(ix, i, n);
}

static void sift_down(struct qmgr_index *ix, size_t i)
{
	struct qmgr_index_node *n = ix->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= ix->heap_len)
			break;
		if (c + 1 < ix->heap_len && before(ix->heap[c + 1], ix->heap[c]))
			c++;
		if (!before(ix->heap[c], n))
			break;
		place(ix, i, ix->heap[c]);
		i = c;
	}
	place(ix, i, n);
}

int qmgr_heap_set(struct qmgr_index *ix, struct qmgr_index_node *n, int64_t due)
{
	qmgr_heap_remove(ix, n);
	if (ix->heap_len == ix->heap_cap) {
		size_t cap = ix->heap_cap == 0 ? 256 : ix->heap_cap * 2;
		struct qmgr_index_node **h = realloc(ix->heap, cap * sizeof(*h));
		if (h == NULL)
			return -1;
		ix->heap = h;
		ix->heap_cap = cap;
	}
	n->due = due;
	n->seq = ix->seq++;
	place(ix, ix->heap_len++, n);
	sift_up(ix, n->heap_idx);
	return 0;
}

void qmgr_heap_remove(struct qmgr_index *ix, struct qmgr_index_node *n)
{
	size_t i = n->heap_idx;
	if (i == QMGR_NOT_IN_HEAP || i >= ix->heap_len || ix->heap[i] != n)
		return;
	n->heap_idx = QMGR_NOT_IN_HEAP;
	struct qmgr_index_node *last = ix->heap[--ix->heap_len];
	if (i == ix->heap_len)
		return;
	place(ix, i, last);
	sift_down(ix, i);
	sift_up(ix, last->heap_idx);
}

struct qmgr_index_node *qmgr_heap_top(const struct qmgr_index *ix)
{
	return ix->heap_len > 0 ? ix->heap[0] : NULL;
}
