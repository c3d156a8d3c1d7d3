/* test-qmgr-index.c: the scheduler's id hash table and due-time heap
 * (smtpd/qmgr/qmgr-index.c): 100,000 entries found by id and popped in due
 * order (ties in insertion order), keys changed and entries removed from
 * the middle with the heap order intact, removal from the table taking the
 * entry out of the heap too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmgr-index.h"

#define N 100000

static struct qmgr_index_node *make_nodes(size_t n)
{
	struct qmgr_index_node *v = calloc(n, sizeof(*v));
	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		snprintf(v[i].id, sizeof(v[i].id), "%024zx", i * 7919 + 1);
	return v;
}

/* Pop everything: due times never go down, ties come in insertion order. */
static size_t drain_checked(struct qmgr_index *ix)
{
	int64_t last_due = INT64_MIN;
	uint64_t last_seq = 0;
	size_t n = 0;
	struct qmgr_index_node *t;
	while ((t = qmgr_heap_top(ix)) != NULL) {
		assert_true(t->due >= last_due);
		if (t->due == last_due)
			assert_true(t->seq > last_seq);
		last_due = t->due;
		last_seq = t->seq;
		qmgr_heap_remove(ix, t);
		assert_int_equal(t->heap_idx, QMGR_NOT_IN_HEAP);
		n++;
	}
	return n;
}

static void test_hash(void **state)
{
	(void)state;
	struct qmgr_index ix;
	struct qmgr_index_node *v = make_nodes(N);
	qmgr_index_init(&ix);
	assert_null(qmgr_index_find(&ix, v[0].id));
	for (size_t i = 0; i < N; i++)
		assert_int_equal(qmgr_index_add(&ix, &v[i]), 0);
	assert_int_equal(ix.count, N);
	for (size_t i = 0; i < N; i++)
		assert_ptr_equal(qmgr_index_find(&ix, v[i].id), &v[i]);
	assert_null(qmgr_index_find(&ix, "ffffffffffffffffffffffff"));
	for (size_t i = 0; i < N; i += 2)
		qmgr_index_remove(&ix, &v[i]);
	assert_int_equal(ix.count, N / 2);
	for (size_t i = 0; i < N; i++)
		assert_ptr_equal(qmgr_index_find(&ix, v[i].id), i % 2 ? &v[i] : NULL);
	qmgr_index_free(&ix);
	free(v);
}

static void test_heap_order(void **state)
{
	(void)state;
	struct qmgr_index ix;
	struct qmgr_index_node *v = make_nodes(N);
	qmgr_index_init(&ix);
	srand(11);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(qmgr_index_add(&ix, &v[i]), 0);
		/* few distinct keys, so ties are common */
		assert_int_equal(qmgr_heap_set(&ix, &v[i], rand() % 1000), 0);
	}
	assert_int_equal(ix.heap_len, N);
	/* change keys and remove from the middle */
	for (size_t i = 0; i < N; i += 3)
		assert_int_equal(qmgr_heap_set(&ix, &v[i], rand() % 1000), 0);
	for (size_t i = 1; i < N; i += 5)
		qmgr_heap_remove(&ix, &v[i]);
	qmgr_heap_remove(&ix, &v[1]); /* twice: harmless */
	/* removing from the table takes it out of the heap too */
	qmgr_index_remove(&ix, &v[2]);
	assert_int_equal(v[2].heap_idx, QMGR_NOT_IN_HEAP);
	assert_int_equal(drain_checked(&ix), N - N / 5 - 1);
	assert_null(qmgr_heap_top(&ix));
	qmgr_index_free(&ix);
	free(v);
}

static void test_heap_top(void **state)
{
	(void)state;
	struct qmgr_index ix;
	struct qmgr_index_node *v = make_nodes(3);
	qmgr_index_init(&ix);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(qmgr_index_add(&ix, &v[i]), 0);
	assert_int_equal(qmgr_heap_set(&ix, &v[0], 50), 0);
	assert_int_equal(qmgr_heap_set(&ix, &v[1], 10), 0);
	assert_int_equal(qmgr_heap_set(&ix, &v[2], 10), 0);
	assert_ptr_equal(qmgr_heap_top(&ix), &v[1]); /* earlier of the tie */
	assert_int_equal(qmgr_heap_set(&ix, &v[0], 0), 0);
	assert_ptr_equal(qmgr_heap_top(&ix), &v[0]);
	assert_int_equal(qmgr_heap_set(&ix, &v[0], 99), 0);
	assert_ptr_equal(qmgr_heap_top(&ix), &v[1]);
	qmgr_heap_remove(&ix, &v[1]);
	assert_ptr_equal(qmgr_heap_top(&ix), &v[2]);
	assert_int_equal(ix.heap_len, 2);
	qmgr_index_free(&ix);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash),
	    cmocka_unit_test(test_heap_order),
	    cmocka_unit_test(test_heap_top),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
