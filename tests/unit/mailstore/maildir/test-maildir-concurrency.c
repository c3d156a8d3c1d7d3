/* test-maildir-concurrency.c: several processes share one Maildir folder.
 * Two deliverers each deliver N messages (N = 1000, or LOFT_MAILDIR_CONC_N,
 * which the sanitizer build may use to go lower), syncing after each; a third
 * syncs, sets flags and expunges meanwhile. Every process logs each (UID,
 * base name) pair it sees; afterwards no message is lost or doubled, one base
 * name has one UID everywhere, no UID names two messages, UIDNEXT > max UID.
 * Runs in LOFT_MAILDIR_CONC_DIR if set, else /dev/shm when present (fsync
 * there is free; locking and renames behave the same), else TMPDIR or /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maildir.h"
#include "test-rmtree.h"

#define MAX_UID 100000

struct fx {
	char dir[128];
	char root[192];
	int n;
};

/* What one process has seen: uid -> base, logged when first seen. */
struct seen {
	char **by_uid;
	FILE *log;
};

static void seen_record(struct seen *s, struct maildir_mailbox *box)
{
	for (size_t i = 0; i < box->count; i++) {
		const struct maildir_msg *m = &box->msgs[i];
		if (m->uid >= MAX_UID) {
			fprintf(s->log, "BAD uid %u\n", m->uid);
			continue;
		}
		if (s->by_uid[m->uid] != NULL && strcmp(s->by_uid[m->uid], m->base) == 0)
			continue;
		/* new, or a different name for a known UID (the checker fails) */
		free(s->by_uid[m->uid]);
		s->by_uid[m->uid] = strdup(m->base);
		fprintf(s->log, "S %u %s\n", m->uid, m->base);
	}
}

static FILE *open_log(struct fx *fx, const char *name)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/%s", fx->dir, name);
	return fopen(p, "w");
}

/* The children exit through the test, so they free what they own. */
static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < MAX_UID; i++)
		free(s->by_uid[i]);
	free(s->by_uid);
	fclose(s->log);
}

static int child_deliver(struct fx *fx, int id)
{
	struct maildir_store st;
	const char *err;
	char name[32];
	snprintf(name, sizeof(name), "log-d%d", id);
	struct seen s = {calloc(MAX_UID, sizeof(char *)), open_log(fx, name)};
	if (s.log == NULL || maildir_store_init(&st, fx->root, '/', "conc", &err) < 0)
		return 2;
	struct maildir_mailbox *box;
	if (maildir_mailbox_open(&st, "INBOX", 0, &box, &err) < 0) {
		fprintf(s.log, "ERR open %s\n", err);
		return 3;
	}
	for (int i = 0; i < fx->n; i++) {
		char msg[128], *base = NULL;
		int len =
		    snprintf(msg, sizeof(msg), "From: d%d\nSubject: %d\n\nbody %d\n", id, i, i);
		if (maildir_deliver(&st, "INBOX", msg, (size_t)len, &base, &err) < 0) {
			fprintf(s.log, "ERR deliver %s\n", err);
			return 4;
		}
		fprintf(s.log, "D %s\n", base);
		if (maildir_mailbox_sync(box, &err) < 0) {
			fprintf(s.log, "ERR sync %s\n", err);
			return 5;
		}
		seen_record(&s, box);
		free(base);
	}
	maildir_mailbox_close(box);
	maildir_store_deinit(&st);
	seen_free(&s);
	return 0;
}

static int child_meddle(struct fx *fx, int done_fd)
{
	struct maildir_store st;
	const char *err;
	struct seen s = {calloc(MAX_UID, sizeof(char *)), open_log(fx, "log-m")};
	if (s.log == NULL || maildir_store_init(&st, fx->root, '/', "conc", &err) < 0)
		return 2;
	struct maildir_mailbox *box;
	if (maildir_mailbox_open(&st, "INBOX", MAILDIR_OPEN_SESSION, &box, &err) < 0)
		return 3;
	int kw = maildir_keyword_index(box, "seen-by-test", 1, &err);
	unsigned rnd = 12345;
	for (unsigned iter = 0;; iter++) {
		char c;
		ssize_t r = read(done_fd, &c, 1);
		int finished = r == 0;
		if (maildir_mailbox_sync(box, &err) < 0) {
			fprintf(s.log, "ERR sync %s\n", err);
			return 5;
		}
		seen_record(&s, box);
		if (finished)
			break;
		if (box->count == 0) {
			usleep(1000);
			continue;
		}
		rnd = rnd * 1103515245 + 12345;
		struct maildir_msg *m = &box->msgs[(rnd >> 8) % box->count];
		uint32_t uid = m->uid;
		char *base = strdup(m->base);
		if (iter % 4 == 3) {
			int e = maildir_msg_expunge(box, uid, &err);
			if (e < 0)
				fprintf(s.log, "ERR expunge %s\n", err);
			else if (e == 0)
				fprintf(s.log, "X %u %s\n", uid, base);
		} else if (maildir_msg_set_flags(box, uid, MAILDIR_FLAG_SEEN | (iter & 1),
		                                 kw >= 0 ? 1u << kw : 0, &err) < 0) {
			fprintf(s.log, "ERR flags %s\n", err);
		}
		free(base);
		usleep(500);
	}
	maildir_mailbox_close(box);
	maildir_store_deinit(&st);
	seen_free(&s);
	return 0;
}

/* ---- the checker ---- */

struct pairs {
	char **by_uid; /* uid -> base from every log */
	int conflicts;
	char **delivered;
	size_t ndelivered;
	char **expunged; /* uid -> base */
	size_t nexpunged;
	uint32_t max_uid;
	int errors;
};

static void read_log(struct fx *fx, const char *name, struct pairs *pr)
{
	char p[300], line[512];
	snprintf(p, sizeof(p), "%s/%s", fx->dir, name);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		unsigned uid;
		char base[300];
		if (line[0] == 'D' && sscanf(line, "D %299s", base) == 1) {
			pr->delivered[pr->ndelivered++] = strdup(base);
		} else if ((line[0] == 'S' || line[0] == 'X') &&
		           sscanf(line + 2, "%u %299s", &uid, base) == 2 && uid < MAX_UID) {
			if (uid > pr->max_uid)
				pr->max_uid = uid;
			if (pr->by_uid[uid] == NULL)
				pr->by_uid[uid] = strdup(base);
			else if (strcmp(pr->by_uid[uid], base) != 0)
				pr->conflicts++;
			if (line[0] == 'X') {
				if (pr->expunged[uid] != NULL)
					pr->conflicts++; /* expunged twice */
				pr->expunged[uid] = strdup(base);
				pr->nexpunged++;
			}
		} else {
			print_error("%s: %s\n", name, line);
			pr->errors++;
		}
	}
	fclose(f);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check(struct fx *fx)
{
	struct pairs pr = {.by_uid = calloc(MAX_UID, sizeof(char *)),
	                   .delivered = calloc((size_t)fx->n * 2 + 1, sizeof(char *)),
	                   .expunged = calloc(MAX_UID, sizeof(char *))};
	read_log(fx, "log-d0", &pr);
	read_log(fx, "log-d1", &pr);
	read_log(fx, "log-m", &pr);
	assert_int_equal(pr.errors, 0);
	assert_int_equal(pr.conflicts, 0);
	assert_int_equal(pr.ndelivered, (size_t)fx->n * 2);

	/* no base name under two UIDs */
	size_t nuid = 0;
	char **bases = calloc(MAX_UID, sizeof(char *));
	for (uint32_t u = 0; u < MAX_UID; u++)
		if (pr.by_uid[u] != NULL)
			bases[nuid++] = pr.by_uid[u];
	qsort(bases, nuid, sizeof(*bases), str_cmp);
	for (size_t i = 1; i < nuid; i++)
		assert_string_not_equal(bases[i - 1], bases[i]);

	/* the final state, seen by a fresh process */
	struct maildir_store st;
	struct maildir_mailbox *box;
	const char *err;
	assert_int_equal(maildir_store_init(&st, fx->root, '/', "check", &err), 0);
	assert_int_equal(maildir_mailbox_open(&st, "INBOX", 0, &box, &err), 0);
	assert_true(box->uidnext > pr.max_uid);
	assert_int_equal(box->count + pr.nexpunged, (size_t)fx->n * 2);
	for (size_t i = 0; i < box->count; i++) {
		struct maildir_msg *m = &box->msgs[i];
		assert_true(m->uid < box->uidnext);
		assert_null(pr.expunged[m->uid]);
		if (pr.by_uid[m->uid] != NULL)
			assert_string_equal(pr.by_uid[m->uid], m->base);
	}
	/* every delivered message: present once, or expunged */
	qsort(pr.delivered, pr.ndelivered, sizeof(char *), str_cmp);
	for (size_t i = 0; i < pr.ndelivered; i++) {
		if (i > 0)
			assert_string_not_equal(pr.delivered[i - 1], pr.delivered[i]);
		struct maildir_msg *m = maildir_mailbox_find_base(box, pr.delivered[i]);
		int was_expunged = 0;
		for (uint32_t u = 1; u <= pr.max_uid && !was_expunged; u++)
			was_expunged =
			    pr.expunged[u] != NULL && strcmp(pr.expunged[u], pr.delivered[i]) == 0;
		assert_true((m != NULL) != was_expunged);
	}
	print_message("delivered %zu, expunged %zu, left %zu, uidnext %u\n", pr.ndelivered,
	              pr.nexpunged, box->count, box->uidnext);
	maildir_mailbox_close(box);
	maildir_store_deinit(&st);
	for (uint32_t u = 0; u < MAX_UID; u++) {
		free(pr.by_uid[u]);
		free(pr.expunged[u]);
	}
	for (size_t i = 0; i < pr.ndelivered; i++)
		free(pr.delivered[i]);
	free(pr.by_uid);
	free(pr.expunged);
	free(pr.delivered);
	free(bases);
}

static void test_concurrent(void **state)
{
	struct fx *fx = *state;
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(fcntl(pfd[0], F_SETFL, O_NONBLOCK), 0);
	pid_t meddler = fork();
	assert_true(meddler >= 0);
	if (meddler == 0) {
		close(pfd[1]);
		_exit(child_meddle(fx, pfd[0]));
	}
	close(pfd[0]);
	pid_t d[2];
	for (int i = 0; i < 2; i++) {
		d[i] = fork();
		assert_true(d[i] >= 0);
		if (d[i] == 0) {
			close(pfd[1]);
			_exit(child_deliver(fx, i));
		}
	}
	int status;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(waitpid(d[i], &status, 0), d[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	close(pfd[1]); /* tells the meddler to do a last sync and stop */
	assert_int_equal(waitpid(meddler, &status, 0), meddler);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	check(fx);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct stat sb;
	const char *base = getenv("LOFT_MAILDIR_CONC_DIR");
	if (base == NULL && stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode))
		base = "/dev/shm";
	if (base == NULL)
		base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	snprintf(fx->dir, sizeof(fx->dir), "%s/loft-maildir-XXXXXX", base);
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->root, sizeof(fx->root), "%s/Maildir", fx->dir);
	const char *env = getenv("LOFT_MAILDIR_CONC_N");
	fx->n = env != NULL && atoi(env) > 0 ? atoi(env) : 1000;
	struct maildir_store st;
	const char *err;
	if (maildir_store_init(&st, fx->root, '/', "conc", &err) < 0 ||
	    maildir_folder_create(&st, "INBOX", &err) < 0)
		return -1;
	maildir_store_deinit(&st);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	test_rmtree(fx->dir);
	free(fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
