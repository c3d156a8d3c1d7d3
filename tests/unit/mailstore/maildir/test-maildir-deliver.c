/* test-maildir-deliver.c: loftmaildir delivery and save on real files: byte-
 * exact round trip, unique names with S and W sizes (LF, CRLF, split CRLF),
 * file name helpers, save into cur/ with flags and date, and a crash between
 * the tmp/ write and the rename: no visible message, no lost UID, stale tmp
 * files cleaned after 36 hours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
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
	if (maildir_store_init(&fx->st, fx->root, '/', "mx.example", &err) < 0 ||
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

/* Names in root/sub, returned count; names[] malloc'd. */
static int list_dir(const char *root, const char *sub, char names[][256], int max)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, sub);
	DIR *d = opendir(p);
	if (d == NULL)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n < max)
			snprintf(names[n], 256, "%s", de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static size_t read_file(const char *path, char *out, size_t max)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(out, 1, max, f);
	fclose(f);
	return n;
}

static void test_vsize_and_names(void **state)
{
	(void)state;
	assert_int_equal(maildir_vsize("a\nb\n", 4), 6);
	assert_int_equal(maildir_vsize("a\r\nb\r\n", 6), 6);
	assert_int_equal(maildir_vsize("\n\r\n\r\r\n", 6), 7);
	assert_int_equal(maildir_vsize("", 0), 0);

	uint64_t s, w;
	assert_int_equal(maildir_filename_sizes("123.M1P2Q3.h,S=10,W=12:2,S", &s, &w), 0);
	assert_int_equal(s, 10);
	assert_int_equal(w, 12);
	assert_int_equal(maildir_filename_sizes("123.M1P2Q3.h,S=10", &s, &w), -1);
	assert_int_equal(s, 10);
	assert_int_equal(maildir_filename_sizes("123.M1P2Q3.h,S=x,W=1", &s, &w), -1);
	/* ,S= after the ':' is info, not a size */
	assert_int_equal(maildir_filename_sizes("1.h:2,S=5,W=5", &s, &w), -1);
	assert_int_equal(maildir_filename_base_len("abc:2,S"), 3);
	assert_int_equal(maildir_filename_base_len("abc"), 3);

	char *n = maildir_filename_make("b,S=1,W=1:2,FS",
	                                MAILDIR_FLAG_SEEN | MAILDIR_FLAG_DRAFT |
	                                    MAILDIR_FLAG_TRASHED | MAILDIR_FLAG_REPLIED,
	                                (1u << 2) | 1u);
	assert_string_equal(n, "b,S=1,W=1:2,DRSTac");
	unsigned flags;
	uint32_t kw;
	maildir_filename_flags(n, &flags, &kw);
	assert_int_equal(flags, MAILDIR_FLAG_SEEN | MAILDIR_FLAG_DRAFT | MAILDIR_FLAG_TRASHED |
	                            MAILDIR_FLAG_REPLIED);
	assert_int_equal(kw, 5);
	free(n);
	n = maildir_filename_make("b", MAILDIR_FLAG_ALL, 0);
	assert_string_equal(n, "b:2,DFPRST");
	free(n);
	maildir_filename_flags("nothing", &flags, &kw);
	assert_int_equal(flags, 0);
	assert_int_equal(kw, 0);
	maildir_filename_flags("x:1,S", &flags, &kw); /* only :2, is flags */
	assert_int_equal(flags, 0);
}

static void test_round_trip(void **state)
{
	struct fx *fx = *state;
	const char *err;
	char msg[3000];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)(i * 7 + 3); /* every byte value, NULs too */
	char *base = NULL;
	assert_int_equal(maildir_deliver(&fx->st, "INBOX", msg, sizeof(msg), &base, &err), 0);
	char names[4][256];
	assert_int_equal(list_dir(fx->root, "new", names, 4), 1);
	assert_int_equal(list_dir(fx->root, "tmp", names + 1, 3), 0);
	assert_string_equal(names[0], base);
	/* time.M<usec>P<pid>Q<n>.<host>,S=<size>,W=<vsize> */
	long long t;
	long usec, pid;
	unsigned q;
	char host[64];
	assert_int_equal(sscanf(base, "%lld.M%ldP%ldQ%u.%63[^,]", &t, &usec, &pid, &q, host), 5);
	assert_int_equal(pid, (long)getpid());
	assert_string_equal(host, "mx.example");
	char want[64];
	snprintf(want, sizeof(want), ",S=%zu,W=%llu", sizeof(msg),
	         (unsigned long long)maildir_vsize(msg, sizeof(msg)));
	assert_non_null(strstr(base, want));

	char path[512], back[4000];
	snprintf(path, sizeof(path), "%s/new/%s", fx->root, base);
	assert_int_equal(read_file(path, back, sizeof(back)), sizeof(msg));
	assert_memory_equal(back, msg, sizeof(msg));
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	free(base);
}

static void check_sizes(struct fx *fx, const char *const *chunks, size_t n, uint64_t s, uint64_t w)
{
	struct maildir_delivery d;
	const char *err;
	char *base = NULL;
	assert_int_equal(maildir_delivery_begin(&fx->st, "INBOX", &d, &err), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(maildir_delivery_write(&d, chunks[i], strlen(chunks[i]), &err), 0);
	assert_int_equal(maildir_delivery_commit(&d, &base, &err), 0);
	maildir_delivery_abort(&d);
	uint64_t gs, gw;
	assert_int_equal(maildir_filename_sizes(base, &gs, &gw), 0);
	assert_int_equal(gs, s);
	assert_int_equal(gw, w);
	free(base);
}

static void test_sizes(void **state)
{
	struct fx *fx = *state;
	const char *lf[] = {"Subject: a\n\nline\n"};
	check_sizes(fx, lf, 1, 17, 20);
	const char *crlf[] = {"Subject: a\r\n\r\nline\r\n"};
	check_sizes(fx, crlf, 1, 20, 20);
	/* a CRLF split over two writes is still one CRLF */
	const char *split[] = {"a\r", "\nb\n", "\r", "\r\n"};
	check_sizes(fx, split, 4, 8, 9);
	const char *empty[] = {""};
	check_sizes(fx, empty, 1, 0, 0);
}

static void test_save_cur(void **state)
{
	struct fx *fx = *state;
	const char *err;
	struct maildir_delivery d;
	char *base = NULL;
	assert_int_equal(maildir_delivery_begin(&fx->st, "INBOX", &d, &err), 0);
	assert_int_equal(maildir_delivery_write(&d, "x\r\n", 3, &err), 0);
	assert_int_equal(maildir_delivery_save(&d, MAILDIR_FLAG_SEEN | MAILDIR_FLAG_FLAGGED, 1,
	                                       1000000000, &base, &err),
	                 0);
	maildir_delivery_abort(&d);
	char names[2][256];
	assert_int_equal(list_dir(fx->root, "cur", names, 2), 1);
	assert_int_equal(list_dir(fx->root, "new", names + 1, 1), 0);
	char want[300];
	snprintf(want, sizeof(want), "%s:2,FSa", base);
	assert_string_equal(names[0], want);
	/* the date is the mtime; the access time stays recent, because the
	 * date is set while the file is still in tmp/ (before the rename, so
	 * no session can index it with the wrong date) and the stale-file
	 * cleanup must not take it for an old leftover meanwhile */
	char path[600];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/cur/%s", fx->root, names[0]);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mtime, 1000000000);
	assert_true(sb.st_atime > time(NULL) - 3600);

	struct maildir_mailbox *box;
	assert_int_equal(maildir_mailbox_open(&fx->st, "INBOX", MAILDIR_OPEN_SESSION, &box, &err),
	                 0);
	assert_int_equal(box->count, 1);
	struct maildir_msg *m = maildir_mailbox_find_base(box, base);
	assert_non_null(m);
	assert_int_equal(m->uid, 1);
	assert_int_equal(m->flags, MAILDIR_FLAG_SEEN | MAILDIR_FLAG_FLAGGED);
	assert_int_equal(m->keywords, 1);
	assert_int_equal(m->date, 1000000000);
	assert_int_equal(m->size, 3);
	assert_int_equal(m->vsize, 3);
	assert_false(m->in_new);
	maildir_mailbox_close(box);
	free(base);
}

static void test_crash_before_rename(void **state)
{
	struct fx *fx = *state;
	const char *err;
	struct maildir_mailbox *box;
	char *b1 = NULL, *b2 = NULL;
	assert_int_equal(maildir_deliver(&fx->st, "INBOX", "one\n", 4, &b1, &err), 0);
	assert_int_equal(maildir_mailbox_open(&fx->st, "INBOX", 0, &box, &err), 0);
	assert_int_equal(maildir_mailbox_find_base(box, b1)->uid, 1);

	/* a delivery that dies after writing tmp/ and before the rename */
	struct maildir_delivery d;
	assert_int_equal(maildir_delivery_begin(&fx->st, "INBOX", &d, &err), 0);
	assert_int_equal(maildir_delivery_write(&d, "lost\n", 5, &err), 0);
	assert_int_equal(fsync(d.fd), 0);
	char *crash_tmp = strdup(d.tmp_path);
	close(d.fd);
	free(d.tmp_path);
	free(d.base);
	free(d.folder_path);
	/* and an old one from a crash long ago */
	char stale[512];
	snprintf(stale, sizeof(stale), "%s/tmp/1.M1P1Q1.old", fx->root);
	int fd = open(stale, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "old\n", 4), 4);
	close(fd);
	struct timeval tv[2] = {{.tv_sec = time(NULL) - 40 * 3600},
	                        {.tv_sec = time(NULL) - 40 * 3600}};
	assert_int_equal(utimes(stale, tv), 0);

	assert_int_equal(maildir_mailbox_sync(box, &err), 0);
	assert_int_equal(box->count, 1);
	assert_int_equal(box->uidnext, 2);
	maildir_mailbox_close(box);

	assert_int_equal(maildir_deliver(&fx->st, "INBOX", "two\n", 4, &b2, &err), 0);
	assert_int_equal(maildir_mailbox_open(&fx->st, "INBOX", 0, &box, &err), 0);
	assert_int_equal(box->count, 2);
	assert_int_equal(maildir_mailbox_find_base(box, b1)->uid, 1);
	assert_int_equal(maildir_mailbox_find_base(box, b2)->uid, 2); /* nothing skipped */
	assert_int_equal(box->uidnext, 3);
	assert_int_equal(box->stats.tmp_cleaned, 1);
	struct stat sb;
	assert_int_equal(stat(stale, &sb), -1);
	assert_int_equal(stat(crash_tmp, &sb), 0); /* too young to remove */
	maildir_mailbox_close(box);
	free(crash_tmp);
	free(b1);
	free(b2);
}

static void test_bad_folder(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	/* a user's first delivery creates the Maildir (INBOX only) */
	struct maildir_store fresh;
	char root[256], names[1][256];
	snprintf(root, sizeof(root), "%s/Fresh", fx->dir);
	assert_int_equal(maildir_store_init(&fresh, root, '/', "h", &err), 0);
	assert_int_equal(maildir_deliver(&fresh, "Other", "a", 1, NULL, &err), -1);
	assert_int_equal(maildir_deliver(&fresh, "INBOX", "a", 1, NULL, &err), 0);
	assert_int_equal(list_dir(root, "new", names, 1), 1);
	maildir_store_deinit(&fresh);

	struct maildir_delivery d;
	assert_int_equal(maildir_delivery_begin(&fx->st, "Nope", &d, &err), -1);
	assert_non_null(err);
	assert_int_equal(maildir_deliver(&fx->st, "../x", "a", 1, NULL, &err), -1);
	struct maildir_mailbox *box;
	assert_int_equal(maildir_mailbox_open(&fx->st, "Nope", 0, &box, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vsize_and_names),
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_cur, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_before_rename, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_folder, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
