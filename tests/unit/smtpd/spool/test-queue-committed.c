/* test-queue-committed.c: the committed-ids journal (smtpd/spool/
 * queue-committed.c) on real files: a committed and delivered message stays
 * known, one never committed is not, start-up recovery journals what it
 * finds in active/, the journal rotates and the old generation still
 * answers, and the pure scanner matches whole lines only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue-committed.h"
#include "queue-store.h"
#include "test-rmtree.h"

struct fx {
	char dir[128];
	struct queue_store qs;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	const char *e;
	snprintf(f->dir, sizeof(f->dir), "%s/loft-committed-XXXXXX", base != NULL ? base : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(queue_store_open(&f->qs, f->dir, &e), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	queue_store_close(&f->qs);
	test_rmtree(f->dir);
	free(f);
	return 0;
}

/* Begin a message; commit it when commit is set. Its id into id_r. */
static void put(struct queue_store *qs, bool commit, char id_r[QUEUE_ID_LEN + 1])
{
	struct queue_rcpt r = {.addr = "bob@example.org"};
	struct queue_msg m = {.sender = "a@example.org", .rcpts = &r, .nrcpt = 1};
	struct queue_writer w;
	const char *e;
	assert_int_equal(queue_writer_begin(qs, &m, &w, &e), 0);
	assert_int_equal(queue_writer_body(&w, "x\r\n", 3, &e), 0);
	memcpy(id_r, m.id, QUEUE_ID_LEN + 1);
	if (commit)
		assert_int_equal(queue_writer_commit(&w, &e), 0);
	else
		queue_writer_abort(&w);
}

static void test_known_after_delivery(void **state)
{
	struct fx *f = *state;
	const char *e = NULL;
	char id[QUEUE_ID_LEN + 1], never[QUEUE_ID_LEN + 1];
	put(&f->qs, true, id);
	put(&f->qs, false, never);
	/* in active/: known even before the journal has it */
	assert_int_equal(queue_committed_known(&f->qs, id, &e), 1);
	assert_int_equal(queue_committed_note(&f->qs, id, &e), 0);
	assert_int_equal(queue_store_delete(&f->qs, id, &e), 0);
	/* delivered and gone: the journal still says it was committed */
	assert_int_equal(queue_committed_known(&f->qs, id, &e), 1);
	assert_int_equal(queue_committed_known(&f->qs, never, &e), 0);
	assert_int_equal(queue_committed_known(&f->qs, "05f1a2b3c4d5e60001abcdef", &e), 0);
}

static void test_recovery_journals_active(void **state)
{
	struct fx *f = *state;
	const char *e = NULL;
	char id[QUEUE_ID_LEN + 1];
	/* committed, then the queue died before it could note or answer */
	put(&f->qs, true, id);
	queue_store_close(&f->qs);
	assert_int_equal(queue_store_open(&f->qs, f->dir, &e), 0);
	struct queue_recover_stats st;
	assert_int_equal(queue_store_recover(&f->qs, &st, &e), 0);
	assert_int_equal(st.ok, 1);
	/* the restarted queue delivers and removes it at once ... */
	assert_int_equal(queue_store_delete(&f->qs, id, &e), 0);
	/* ... and STATUS still says it was committed */
	assert_int_equal(queue_committed_known(&f->qs, id, &e), 1);
}

static void test_rotation(void **state)
{
	struct fx *f = *state;
	const char *e = NULL;
	char first[QUEUE_ID_LEN + 1];
	char id[QUEUE_ID_LEN + 1];
	snprintf(first, sizeof(first), "%s", "05f1a2b3c4d5e60001000000");
	assert_int_equal(queue_committed_note(&f->qs, first, &e), 0);
	size_t lines = QUEUE_COMMITTED_ROTATE / (QUEUE_ID_LEN + 1) + 2;
	for (size_t i = 1; i <= lines; i++) {
		snprintf(id, sizeof(id), "05f1a2b3c4d5e6%010zx", i);
		assert_int_equal(queue_committed_note(&f->qs, id, &e), 0);
	}
	char path[256];
	struct stat st;
	snprintf(path, sizeof(path), "%s/queue/committed.old", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_size >= QUEUE_COMMITTED_ROTATE);
	snprintf(path, sizeof(path), "%s/queue/committed", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_size < QUEUE_COMMITTED_ROTATE);
	/* the first id is in the old generation, the last in the new one */
	assert_int_equal(queue_committed_known(&f->qs, first, &e), 1);
	assert_int_equal(queue_committed_known(&f->qs, id, &e), 1);
	/* a second rotation drops the first generation */
	for (size_t i = 1; i <= lines; i++) {
		snprintf(id, sizeof(id), "05f1a2b3c4d5e7%010zx", i);
		assert_int_equal(queue_committed_note(&f->qs, id, &e), 0);
	}
	assert_int_equal(queue_committed_known(&f->qs, first, &e), 0);
}

static void test_bad_id_refused(void **state)
{
	struct fx *f = *state;
	const char *e = NULL;
	assert_int_equal(queue_committed_note(&f->qs, "short", &e), -1);
	assert_non_null(e);
}

static void test_scan(void **state)
{
	(void)state;
	const char j[] = "aaaa\nbbbb\nbb\ncccc";
	assert_true(queue_committed_scan(j, sizeof(j) - 1, "aaaa"));
	assert_true(queue_committed_scan(j, sizeof(j) - 1, "bb"));
	assert_true(queue_committed_scan(j, sizeof(j) - 1, "bbbb"));
	assert_false(queue_committed_scan(j, sizeof(j) - 1, "b"));
	assert_false(queue_committed_scan(j, sizeof(j) - 1, "aaa"));
	assert_false(queue_committed_scan(j, sizeof(j) - 1, "cccc")); /* torn last line */
	assert_false(queue_committed_scan(j, sizeof(j) - 1, ""));
	assert_false(queue_committed_scan("", 0, "aaaa"));
	const char nul[] = "aa\0a\naaaa\n";
	assert_true(queue_committed_scan(nul, sizeof(nul) - 1, "aaaa"));
	assert_false(queue_committed_scan(nul, sizeof(nul) - 1, "aa"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_known_after_delivery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recovery_journals_active, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_id_refused, setup, teardown),
	    cmocka_unit_test(test_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
