/* test-maildir-sync.c: loftmaildir UIDs, flags and the index cache on real
 * files: UIDs strictly increase and are never reused (also across reopen),
 * UIDVALIDITY is stable, flags/keywords round trip, new/ -> cur/ keeps UIDs,
 * \Recent goes to exactly one session, a stale table survives another
 * process's renames, flag changes merge with other processes' (also inside
 * one batch lock, without per-message stats), the cache is rebuilt identically after deletion or
 * corruption, and a warm open of 20,000 messages does no readdir or stat. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "maildir.h"
#include "test-rmtree.h"

struct fx {
	char dir[64];
	char root[128];
	struct maildir_store st;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *err = NULL;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/loft-maildir-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->root, sizeof(fx->root), "%s/Maildir", fx->dir);
	if (maildir_store_init(&fx->st, fx->root, '/', "h", &err) < 0 ||
	    maildir_folder_create(&fx->st, "INBOX", &err) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	maildir_store_deinit(&fx->st);
	test_rmtree(fx->dir);
	free(fx);
	return 0;
}

static char *deliver(struct fx *fx, const char *text)
{
	const char *err;
	char *base = NULL;
	assert_int_equal(maildir_deliver(&fx->st, "INBOX", text, strlen(text), &base, &err), 0);
	return base;
}

static struct maildir_mailbox *open_box(struct fx *fx, unsigned flags)
{
	const char *err = NULL;
	struct maildir_mailbox *box = NULL;
	int r = maildir_mailbox_open(&fx->st, "INBOX", flags, &box, &err);
	if (r < 0)
		fail_msg("open: %s", err);
	return box;
}

static void sync_ok(struct maildir_mailbox *box)
{
	const char *err = NULL;
	if (maildir_mailbox_sync(box, &err) < 0)
		fail_msg("sync: %s", err);
}

/* Age the folder's directories so their stamps are trusted. */
static void age_dirs(struct fx *fx)
{
	struct timeval tv[2] = {{.tv_sec = time(NULL) - 3600}, {.tv_sec = time(NULL) - 3600}};
	char p[512];
	snprintf(p, sizeof(p), "%s/new", fx->root);
	assert_int_equal(utimes(p, tv), 0);
	snprintf(p, sizeof(p), "%s/cur", fx->root);
	assert_int_equal(utimes(p, tv), 0);
}

static void test_uids_never_reused(void **state)
{
	struct fx *fx = *state;
	const char *err;
	char *b[6];
	for (int i = 0; i < 3; i++)
		b[i] = deliver(fx, "m\n");
	struct maildir_mailbox *box = open_box(fx, MAILDIR_OPEN_SESSION);
	uint32_t uidvalidity = box->uidvalidity;
	assert_true(uidvalidity != 0);
	assert_int_equal(box->count, 3);
	for (int i = 0; i < 3; i++)
		assert_non_null(maildir_mailbox_find_base(box, b[i]));
	for (size_t i = 0; i < box->count; i++)
		assert_int_equal(box->msgs[i].uid, i + 1);
	/* expunge the highest: its UID stays used */
	assert_int_equal(maildir_msg_expunge(box, 3, &err), 0);
	assert_int_equal(maildir_msg_expunge(box, 3, &err), 1);
	assert_int_equal(box->count, 2);
	b[3] = deliver(fx, "n\n");
	sync_ok(box);
	assert_int_equal(maildir_mailbox_find_base(box, b[3])->uid, 4);
	assert_null(maildir_mailbox_find_uid(box, 3));
	maildir_mailbox_close(box);

	/* reopen: same UIDVALIDITY, the expunged UID stays gone */
	box = open_box(fx, MAILDIR_OPEN_SESSION);
	assert_int_equal(box->uidvalidity, uidvalidity);
	assert_int_equal(box->uidnext, 5);
	uint32_t all[2] = {1, 4};
	assert_int_equal(maildir_mailbox_expunge(box, all, 2, &err), 2);
	assert_int_equal(box->count, 1);
	maildir_mailbox_close(box);
	b[4] = deliver(fx, "o\n");
	b[5] = deliver(fx, "p\n");
	box = open_box(fx, 0);
	assert_int_equal(box->uidvalidity, uidvalidity);
	assert_int_equal(box->count, 3);
	assert_int_equal(box->msgs[0].uid, 2);
	assert_int_equal(maildir_mailbox_find_base(box, b[4])->uid, 5);
	assert_int_equal(maildir_mailbox_find_base(box, b[5])->uid, 6);
	assert_int_equal(box->uidnext, 7);
	maildir_mailbox_close(box);
	for (int i = 0; i < 6; i++)
		free(b[i]);
}

static void test_uidlist_lost(void **state)
{
	struct fx *fx = *state;
	char *b1 = deliver(fx, "a\n"), *b2 = deliver(fx, "b\n");
	struct maildir_mailbox *box = open_box(fx, MAILDIR_OPEN_SESSION);
	uint32_t old = box->uidvalidity;
	maildir_mailbox_close(box);
	char p[512];
	snprintf(p, sizeof(p), "%s/loft-uidlist", fx->root);
	FILE *f = fopen(p, "w");
	fputs("garbage\n", f);
	fclose(f);
	/* a new UIDVALIDITY (even within the same second) and fresh UIDs;
	 * names the uidlist cannot hold are not messages */
	static const char *const odd[] = {"has space", "new\nline", ".dot"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/cur/%s", fx->root, odd[i]);
		f = fopen(p, "w");
		fclose(f);
	}
	box = open_box(fx, 0);
	assert_true(box->uidvalidity > old);
	assert_int_equal(box->count, 2);
	assert_int_equal(box->uidnext, 3);
	assert_non_null(maildir_mailbox_find_base(box, b1));
	assert_non_null(maildir_mailbox_find_base(box, b2));
	uint32_t now = box->uidvalidity;
	maildir_mailbox_close(box);
	box = open_box(fx, 0);
	assert_int_equal(box->uidvalidity, now);
	assert_int_equal(box->count, 2);
	maildir_mailbox_close(box);
	free(b1);
	free(b2);
}

static void test_new_to_cur_keeps_uid(void **state)
{
	struct fx *fx = *state;
	char *b1 = deliver(fx, "a\n"), *b2 = deliver(fx, "b\n");
	/* a delivery-style open leaves new/ alone */
	struct maildir_mailbox *lmtp = open_box(fx, 0);
	assert_int_equal(maildir_mailbox_find_base(lmtp, b1)->uid, 1);
	assert_true(maildir_mailbox_find_base(lmtp, b2)->in_new);
	struct maildir_mailbox *box = open_box(fx, MAILDIR_OPEN_SESSION);
	struct maildir_msg *m = maildir_mailbox_find_base(box, b2);
	assert_int_equal(m->uid, 2);
	assert_false(m->in_new);
	char want[300], p[600];
	snprintf(want, sizeof(want), "%s:2,", b2);
	assert_string_equal(m->fname, want);
	snprintf(p, sizeof(p), "%s/cur/%s", fx->root, want);
	struct stat sb;
	assert_int_equal(stat(p, &sb), 0);
	/* the other process sees the move without new UIDs */
	sync_ok(lmtp);
	assert_int_equal(lmtp->count, 2);
	assert_int_equal(maildir_mailbox_find_base(lmtp, b2)->uid, 2);
	assert_false(maildir_mailbox_find_base(lmtp, b2)->in_new);
	assert_int_equal(lmtp->uidnext, 3);
	maildir_mailbox_close(lmtp);
	maildir_mailbox_close(box);
	free(b1);
	free(b2);
}

static void test_flags_keywords(void **state)
{
	struct fx *fx = *state;
	const char *err;
	char *b1 = deliver(fx, "a\n"), *b2 = deliver(fx, "b\n");
	struct maildir_mailbox *box = open_box(fx, MAILDIR_OPEN_SESSION);
	assert_int_equal(maildir_keyword_index(box, "$Junk", 1, &err), 0);
	assert_int_equal(maildir_keyword_index(box, "work", 1, &err), 1);
	assert_int_equal(maildir_keyword_index(box, "WORK", 0, &err), 1);
	assert_int_equal(maildir_keyword_index(box, "other", 0, &err), -1);
	assert_int_equal(maildir_keyword_index(box, "bad word", 1, &err), -1);
	assert_int_equal(
	    maildir_msg_set_flags(box, 1, MAILDIR_FLAG_SEEN | MAILDIR_FLAG_REPLIED, 1u << 1, &err),
	    0);
	assert_int_equal(
	    maildir_msg_set_flags(box, 2, MAILDIR_FLAG_TRASHED | MAILDIR_FLAG_DRAFT, 3, &err), 0);
	assert_int_equal(maildir_msg_set_flags(box, 99, MAILDIR_FLAG_SEEN, 0, &err), 1);
	maildir_mailbox_close(box);

	box = open_box(fx, MAILDIR_OPEN_SESSION);
	struct maildir_msg *m1 = maildir_mailbox_find_uid(box, 1);
	struct maildir_msg *m2 = maildir_mailbox_find_uid(box, 2);
	assert_string_equal(m1->base, b1);
	assert_int_equal(m1->flags, MAILDIR_FLAG_SEEN | MAILDIR_FLAG_REPLIED);
	assert_int_equal(m1->keywords, 2);
	assert_int_equal(m2->flags, MAILDIR_FLAG_TRASHED | MAILDIR_FLAG_DRAFT);
	assert_int_equal(m2->keywords, 3);
	char want[300];
	snprintf(want, sizeof(want), "%s:2,RSb", b1);
	assert_string_equal(m1->fname, want);
	assert_string_equal(maildir_keyword_name(box, 0), "$Junk");
	assert_string_equal(maildir_keyword_name(box, 1), "work");
	assert_null(maildir_keyword_name(box, 2));
	/* clearing works too */
	assert_int_equal(maildir_msg_set_flags(box, 1, 0, 0, &err), 0);
	maildir_mailbox_close(box);
	box = open_box(fx, 0);
	assert_int_equal(maildir_mailbox_find_uid(box, 1)->flags, 0);
	assert_int_equal(maildir_mailbox_find_uid(box, 1)->keywords, 0);
	maildir_mailbox_close(box);
	free(b1);
	free(b2);
}

static void test_stale_table_renames(void **state)
{
	struct fx *fx = *state;
	const char *err;
	free(deliver(fx, "a\n"));
	free(deliver(fx, "b\n"));
	struct maildir_mailbox *a = open_box(fx, MAILDIR_OPEN_SESSION);
	struct maildir_mailbox *b = open_box(fx, MAILDIR_OPEN_SESSION);
	/* a renames behind b's back; b's open and rename hit ENOENT and recover */
	assert_int_equal(maildir_msg_set_flags(a, 1, MAILDIR_FLAG_SEEN, 0, &err), 0);
	int fd = -1;
	char content[8] = {0};
	assert_int_equal(maildir_msg_open(b, 1, &fd, &err), 0);
	assert_int_equal(read(fd, content, sizeof(content)), 2);
	assert_string_equal(content, "a\n");
	close(fd);
	assert_int_equal(maildir_mailbox_find_uid(b, 1)->flags, MAILDIR_FLAG_SEEN);
	assert_int_equal(maildir_msg_set_flags(b, 1, MAILDIR_FLAG_FLAGGED, 0, &err), 0);
	assert_int_equal(maildir_mailbox_find_uid(b, 1)->flags, MAILDIR_FLAG_FLAGGED);
	/* b expunges what a still lists */
	assert_int_equal(maildir_msg_expunge(b, 2, &err), 0);
	assert_int_equal(maildir_msg_set_flags(a, 2, MAILDIR_FLAG_SEEN, 0, &err), 1);
	assert_int_equal(maildir_msg_open(a, 2, &fd, &err), 1);
	assert_int_equal(maildir_msg_expunge(a, 2, &err), 1);
	/* a renamed file is expunged under its new name */
	assert_int_equal(maildir_msg_expunge(a, 1, &err), 0);
	sync_ok(b);
	assert_int_equal(b->count, 0);
	assert_int_equal(b->uidnext, 3);
	maildir_mailbox_close(a);
	maildir_mailbox_close(b);
}

static int count_recent(struct maildir_mailbox *box)
{
	int n = 0;
	for (size_t i = 0; i < box->count; i++)
		n += box->msgs[i].recent;
	return n;
}

static void test_recent_once(void **state)
{
	struct fx *fx = *state;
	const char *err;
	for (int i = 0; i < 3; i++)
		free(deliver(fx, "r\n"));
	/* a delivery-side sync takes nothing */
	struct maildir_mailbox *lmtp = open_box(fx, 0);
	assert_int_equal(count_recent(lmtp), 0);
	struct maildir_mailbox *a = open_box(fx, MAILDIR_OPEN_SESSION);
	struct maildir_mailbox *b = open_box(fx, MAILDIR_OPEN_SESSION);
	assert_int_equal(count_recent(a), 3);
	assert_int_equal(count_recent(b), 0);
	for (int i = 0; i < 2; i++)
		free(deliver(fx, "s\n"));
	sync_ok(lmtp);
	assert_int_equal(maildir_mailbox_sync(b, &err), 2);
	assert_int_equal(maildir_mailbox_sync(a, &err), 0);
	assert_int_equal(count_recent(a), 3);
	assert_int_equal(count_recent(b), 2);
	assert_true(maildir_mailbox_find_uid(b, 4)->recent);
	assert_false(maildir_mailbox_find_uid(b, 1)->recent);
	maildir_mailbox_close(a);
	maildir_mailbox_close(b);
	/* a later session gets none of them */
	struct maildir_mailbox *c = open_box(fx, MAILDIR_OPEN_SESSION);
	assert_int_equal(count_recent(c), 0);
	maildir_mailbox_close(c);
	maildir_mailbox_close(lmtp);
}

/* A canonical text of everything the table says, for comparisons. */
static char *snapshot(struct maildir_mailbox *box)
{
	size_t cap = 64 + box->count * 400, n = 0;
	char *s = malloc(cap);
	n += (size_t)snprintf(s + n, cap - n, "%u %u %zu\n", box->uidvalidity, box->uidnext,
	                      box->count);
	for (size_t i = 0; i < box->count; i++) {
		const struct maildir_msg *m = &box->msgs[i];
		n += (size_t)snprintf(s + n, cap - n, "%u %s %s %d %u %u %llu %llu %lld\n", m->uid,
		                      m->base, m->fname, m->in_new, m->flags, m->keywords,
		                      (unsigned long long)m->size, (unsigned long long)m->vsize,
		                      (long long)m->date);
	}
	return s;
}

static void damage_index(struct fx *fx, int how)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/loft-index", fx->root);
	struct stat sb;
	assert_int_equal(stat(p, &sb), 0);
	if (how == 0) {
		assert_int_equal(unlink(p), 0);
	} else if (how == 1) {
		assert_int_equal(truncate(p, sb.st_size / 2), 0);
	} else {
		int fd = open(p, O_WRONLY);
		assert_true(fd >= 0);
		unsigned char junk[64];
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)(rand() & 0xff);
		off_t at = how == 2 ? 0 : sb.st_size / 3;
		assert_int_equal(pwrite(fd, junk, how == 2 ? sizeof(junk) : 1, at),
		                 how == 2 ? (ssize_t)sizeof(junk) : 1);
		close(fd);
	}
}

static void test_index_rebuild(void **state)
{
	struct fx *fx = *state;
	const char *err;
	for (int i = 0; i < 40; i++)
		free(deliver(fx, i % 2 ? "lf\nonly\n" : "crlf\r\n"));
	struct maildir_mailbox *box = open_box(fx, MAILDIR_OPEN_SESSION);
	for (uint32_t uid = 1; uid <= 40; uid += 3)
		assert_int_equal(maildir_msg_set_flags(box, uid, MAILDIR_FLAG_SEEN, 1, &err), 0);
	uint32_t gone[] = {2, 7, 40};
	assert_int_equal(maildir_mailbox_expunge(box, gone, 3, &err), 3);
	maildir_mailbox_close(box);
	for (int i = 0; i < 5; i++)
		free(deliver(fx, "late\n"));
	age_dirs(fx);
	/* the reference: a sync from scratch */
	box = open_box(fx, 0);
	sync_ok(box);
	char *fresh = snapshot(box);
	maildir_mailbox_close(box);
	srand(7);
	for (int how = 0; how < 4; how++) {
		damage_index(fx, how);
		box = open_box(fx, 0);
		assert_int_equal(box->stats.index_loads, 0);
		assert_int_equal(box->stats.index_rebuilds, 1);
		char *again = snapshot(box);
		assert_string_equal(again, fresh);
		free(again);
		maildir_mailbox_close(box);
		/* and the rewritten cache is accepted next time */
		box = open_box(fx, 0);
		assert_int_equal(box->stats.index_loads, 1);
		assert_int_equal(box->stats.readdirs, 0);
		again = snapshot(box);
		assert_string_equal(again, fresh);
		free(again);
		maildir_mailbox_close(box);
	}
	free(fresh);
}

static void test_warm_open_20k(void **state)
{
	struct fx *fx = *state;
	const int n = 20000;
	char p[512];
	/* files as deliveries would have named them, made directly for speed */
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/cur/1700000000.M%dP1Q%d.h,S=%d,W=%d:2,%s", fx->root, i,
		         i, 10 + i % 7, 12 + i % 7, i % 3 ? "S" : "");
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	age_dirs(fx);
	struct maildir_mailbox *box = open_box(fx, MAILDIR_OPEN_SESSION);
	assert_int_equal(box->count, n);
	assert_int_equal(box->stats.readdirs, 2);
	char *cold = snapshot(box);
	maildir_mailbox_close(box);

	box = open_box(fx, MAILDIR_OPEN_SESSION);
	assert_int_equal(box->stats.index_loads, 1);
	assert_int_equal(box->stats.readdirs, 0);
	assert_int_equal(box->stats.file_stats, 0);
	assert_int_equal(box->stats.uidlist_reads, 0);
	assert_int_equal(box->count, n);
	char *warm = snapshot(box);
	assert_string_equal(warm, cold);
	assert_int_equal(box->msgs[n - 1].uid, n);
	unsigned long long total = 0;
	for (int i = 0; i < n; i++)
		total += box->msgs[i].size;
	assert_true(total > 10ULL * n);
	/* one new delivery: new/ is read again, one stat, cur/ untouched */
	free(deliver(fx, "one more\n"));
	snprintf(p, sizeof(p), "%s/new", fx->root);
	struct timeval tv[2] = {{.tv_sec = time(NULL) - 60}, {.tv_sec = time(NULL) - 60}};
	assert_int_equal(utimes(p, tv), 0);
	box->open_flags = 0;
	sync_ok(box);
	assert_int_equal(box->stats.readdirs, 1);
	assert_int_equal(box->stats.file_stats, 1);
	assert_int_equal(box->count, n + 1);
	assert_int_equal(box->msgs[n].uid, n + 1);
	maildir_mailbox_close(box);
	free(cold);
	free(warm);
}

static unsigned flags_of(struct maildir_mailbox *box, uint32_t uid)
{
	const struct maildir_msg *m = maildir_mailbox_find_uid(box, uid);
	assert_non_null(m);
	return m->flags;
}

/* Rename a message's file the way a non-Loft tool would: no lock. */
static void foreign_rename(struct fx *fx, struct maildir_mailbox *box, uint32_t uid,
                           const char *info)
{
	const struct maildir_msg *m = maildir_mailbox_find_uid(box, uid);
	char from[600], to[600];
	snprintf(from, sizeof(from), "%s/cur/%s", fx->root, m->fname);
	snprintf(to, sizeof(to), "%s/cur/%s:2,%s", fx->root, m->base, info);
	assert_int_equal(rename(from, to), 0);
}

/* Two sessions' +FLAGS and -FLAGS on one message both survive: a change
 * applies to the flags the file has, not to a session's cached copy. */
static void test_update_flags_merge(void **state)
{
	struct fx *fx = *state;
	const char *err;
	free(deliver(fx, "a\n"));
	free(deliver(fx, "b\n"));
	struct maildir_mailbox *a = open_box(fx, MAILDIR_OPEN_SESSION);
	assert_int_equal(maildir_msg_set_flags(a, 1, MAILDIR_FLAG_SEEN, 0, &err), 0);
	struct maildir_mailbox *b = open_box(fx, MAILDIR_OPEN_SESSION);
	const struct maildir_flag_update add_r = {.add = MAILDIR_FLAG_REPLIED};
	const struct maildir_flag_update del_s = {.remove = MAILDIR_FLAG_SEEN};
	assert_int_equal(maildir_msg_update_flags(a, 1, &add_r, &err), 0);
	assert_int_equal(flags_of(b, 1), MAILDIR_FLAG_SEEN); /* b's copy is stale */
	assert_int_equal(maildir_msg_update_flags(b, 1, &del_s, &err), 0);
	assert_int_equal(flags_of(b, 1), MAILDIR_FLAG_REPLIED);
	sync_ok(a);
	assert_int_equal(flags_of(a, 1), MAILDIR_FLAG_REPLIED);

	/* stale copy says "nothing to do", the file says otherwise */
	const struct maildir_flag_update add_s = {.add = MAILDIR_FLAG_SEEN};
	assert_int_equal(maildir_msg_update_flags(a, 1, &add_s, &err), 0);
	assert_int_equal(flags_of(b, 1), MAILDIR_FLAG_REPLIED);
	assert_int_equal(maildir_msg_update_flags(b, 1, &del_s, &err), 0);
	assert_int_equal(flags_of(b, 1), MAILDIR_FLAG_REPLIED);

	/* keywords merge the same way, and the batch lock syncs first */
	const struct maildir_flag_update kw0 = {.kw_add = 1};
	const struct maildir_flag_update add_f = {.add = MAILDIR_FLAG_FLAGGED};
	assert_int_equal(maildir_keyword_index(a, "one", 1, &err), 0);
	assert_int_equal(maildir_msg_update_flags(a, 2, &kw0, &err), 0);
	assert_true(maildir_mailbox_lock(b, &err) >= 0);
	assert_int_equal(maildir_mailbox_find_uid(b, 2)->keywords, 1);
	assert_int_equal(maildir_msg_update_flags(b, 2, &add_f, &err), 0);
	/* a foreign rename inside our batch: found again, change reapplied */
	foreign_rename(fx, b, 1, "RT");
	assert_int_equal(maildir_msg_update_flags(b, 1, &add_f, &err), 0);
	maildir_mailbox_unlock(b);
	assert_int_equal(b->lock_depth, 0);
	assert_int_equal(flags_of(b, 1),
	                 MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_REPLIED | MAILDIR_FLAG_TRASHED);
	maildir_mailbox_close(b);
	b = open_box(fx, 0);
	assert_int_equal(flags_of(b, 1),
	                 MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_REPLIED | MAILDIR_FLAG_TRASHED);
	assert_int_equal(flags_of(b, 2), MAILDIR_FLAG_FLAGGED);
	assert_int_equal(maildir_mailbox_find_uid(b, 2)->keywords, 1);
	/* expunged meanwhile: 1 */
	assert_int_equal(maildir_msg_expunge(b, 2, &err), 0);
	assert_int_equal(maildir_msg_update_flags(a, 2, &add_f, &err), 1);
	maildir_mailbox_close(a);
	maildir_mailbox_close(b);
}

/* STORE 1:* stays cheap: one lock and one sync, then no readdir or stat
 * per message, also for messages that need no change. */
static void test_update_flags_batch(void **state)
{
	struct fx *fx = *state;
	const char *err;
	for (int i = 0; i < 50; i++)
		free(deliver(fx, "m\n"));
	struct maildir_mailbox *box = open_box(fx, MAILDIR_OPEN_SESSION);
	for (uint32_t uid = 1; uid <= 50; uid += 2)
		assert_int_equal(maildir_msg_set_flags(box, uid, MAILDIR_FLAG_SEEN, 0, &err), 0);
	assert_true(maildir_mailbox_lock(box, &err) >= 0);
	struct maildir_stats before = box->stats;
	const struct maildir_flag_update add_s = {.add = MAILDIR_FLAG_SEEN};
	for (uint32_t uid = 1; uid <= 50; uid++)
		assert_int_equal(maildir_msg_update_flags(box, uid, &add_s, &err), 0);
	assert_int_equal(box->stats.readdirs, before.readdirs);
	assert_int_equal(box->stats.file_stats, before.file_stats);
	assert_int_equal(box->stats.uidlist_reads, before.uidlist_reads);
	maildir_mailbox_unlock(box);
	for (uint32_t uid = 1; uid <= 50; uid++)
		assert_int_equal(flags_of(box, uid), MAILDIR_FLAG_SEEN);
	maildir_mailbox_close(box);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_uids_never_reused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uidlist_lost, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_to_cur_keeps_uid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flags_keywords, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_table_renames, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recent_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_rebuild, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_warm_open_20k, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_flags_merge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_flags_batch, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
