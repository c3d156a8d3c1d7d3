/* test-maildir-folder.c: Maildir++ folders of loftmaildir on real files:
 * name validation, create (layout and modes), list, rename and delete with
 * children, the subscriptions file, and new UIDVALIDITYs from the root's
 * loft-uidvalidity (a re-created folder never gets its old one back). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	if (maildir_store_init(&fx->st, fx->root, '/', "host.example", &err) < 0)
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

static int is_dir_0700(const char *root, const char *sub)
{
	char p[512];
	struct stat sb;
	if (snprintf(p, sizeof(p), "%s/%s", root, sub) >= (int)sizeof(p))
		return 0;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0700;
}

static int exists(const char *root, const char *sub)
{
	char p[512];
	struct stat sb;
	if (snprintf(p, sizeof(p), "%s/%s", root, sub) >= (int)sizeof(p))
		return 0;
	return lstat(p, &sb) == 0;
}

static void test_name_validate(void **state)
{
	(void)state;
	const char *err;
	const char *good_slash[] = {"Sent", "Archive/2026", "INBOX/x", "My Mail", "&AOQ-bc", "a~b"};
	const char *bad_slash[] = {"",    "a//b",  "/a",   "a/",     "..",   "a/../b",
	                           "a.b", ".hide", "a\tb", "a\177b", "a\nb", "x/./y"};
	for (size_t i = 0; i < sizeof(good_slash) / sizeof(*good_slash); i++)
		assert_int_equal(maildir_name_validate(good_slash[i], '/', &err), 0);
	for (size_t i = 0; i < sizeof(bad_slash) / sizeof(*bad_slash); i++) {
		err = NULL;
		assert_int_equal(maildir_name_validate(bad_slash[i], '/', &err), -1);
		assert_non_null(err);
	}
	assert_int_equal(maildir_name_validate("Archive.2026", '.', &err), 0);
	assert_int_equal(maildir_name_validate("a/b", '.', &err), -1);
	assert_int_equal(maildir_name_validate("a..b", '.', &err), -1);
	assert_int_equal(maildir_name_validate(".a", '.', &err), -1);
	assert_int_equal(maildir_name_validate("a.", '.', &err), -1);
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(maildir_name_validate(longname, '/', &err), -1);
}

static void test_create_layout(void **state)
{
	struct fx *fx = *state;
	const char *err;
	assert_int_equal(maildir_folder_create(&fx->st, "Sent", &err), 0);
	assert_int_equal(maildir_folder_create(&fx->st, "Archive/2026", &err), 0);
	/* the root (INBOX) came along */
	assert_true(is_dir_0700(fx->root, "cur"));
	assert_true(is_dir_0700(fx->root, "new"));
	assert_true(is_dir_0700(fx->root, "tmp"));
	static const char *const subs[] = {".Sent", ".Archive.2026"};
	for (int i = 0; i < 2; i++) {
		char p[256];
		assert_true(is_dir_0700(fx->root, subs[i]));
		snprintf(p, sizeof(p), "%s/tmp", subs[i]);
		assert_true(is_dir_0700(fx->root, p));
		snprintf(p, sizeof(p), "%s/new", subs[i]);
		assert_true(is_dir_0700(fx->root, p));
		snprintf(p, sizeof(p), "%s/cur", subs[i]);
		assert_true(is_dir_0700(fx->root, p));
		snprintf(p, sizeof(p), "%s/maildirfolder", subs[i]);
		assert_true(exists(fx->root, p));
	}
	assert_false(exists(fx->root, "maildirfolder"));
	/* again: refused, as are bad names and INBOX */
	assert_int_equal(maildir_folder_create(&fx->st, "Sent", &err), -1);
	assert_string_equal(err, "exists");
	assert_int_equal(maildir_folder_create(&fx->st, "inbox", &err), -1);
	assert_int_equal(maildir_folder_create(&fx->st, "../evil", &err), -1);
	assert_int_equal(maildir_folder_create(&fx->st, "a.b", &err), -1);
	assert_false(exists(fx->dir, "evil"));
	assert_true(maildir_folder_exists(&fx->st, "Sent"));
	assert_true(maildir_folder_exists(&fx->st, "INBOX"));
	assert_false(maildir_folder_exists(&fx->st, "Nope"));

	char *p = maildir_folder_path(&fx->st, "INBOX", &err);
	assert_string_equal(p, fx->root);
	free(p);
	p = maildir_folder_path(&fx->st, "inbox/Sub", &err);
	char want[256];
	snprintf(want, sizeof(want), "%s/.INBOX.Sub", fx->root);
	assert_string_equal(p, want);
	free(p);
}

static void test_dot_separator(void **state)
{
	struct fx *fx = *state;
	struct maildir_store st;
	const char *err;
	assert_int_equal(maildir_store_init(&st, fx->root, '.', "h", &err), 0);
	assert_int_equal(maildir_folder_create(&st, "Archive.2026", &err), 0);
	assert_true(is_dir_0700(fx->root, ".Archive.2026"));
	assert_int_equal(maildir_folder_create(&st, "x/y", &err), -1);
	char **names;
	int n = maildir_folder_list(&st, &names, &err);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "INBOX");
	assert_string_equal(names[1], "Archive.2026");
	maildir_names_free(names, (size_t)n);
	/* the '/' store sees the same folder with its own separator */
	n = maildir_folder_list(&fx->st, &names, &err);
	assert_int_equal(n, 2);
	assert_string_equal(names[1], "Archive/2026");
	maildir_names_free(names, (size_t)n);
	maildir_store_deinit(&st);
}

static void test_list(void **state)
{
	struct fx *fx = *state;
	const char *err;
	const char *make[] = {"Sent", "Archive/2026", "Archive", "Drafts", "INBOX/Sub"};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(maildir_folder_create(&fx->st, make[i], &err), 0);
	/* things that are not folders are skipped */
	char p[512];
	snprintf(p, sizeof(p), "%s/..loft-trash.1.0", fx->root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/.bad..name", fx->root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/.afile", fx->root);
	FILE *f = fopen(p, "w");
	fclose(f);
	char **names;
	int n = maildir_folder_list(&fx->st, &names, &err);
	assert_int_equal(n, 6);
	const char *want[] = {"INBOX", "Archive", "Archive/2026", "Drafts", "INBOX/Sub", "Sent"};
	for (int i = 0; i < 6; i++)
		assert_string_equal(names[i], want[i]);
	maildir_names_free(names, (size_t)n);
}

static void test_rename(void **state)
{
	struct fx *fx = *state;
	const char *err;
	const char *make[] = {"Archive", "Archive/2026", "Archive/2027", "Archivex", "Taken"};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(maildir_folder_create(&fx->st, make[i], &err), 0);
	const char msg[] = "Subject: kept\n\nbody\n";
	char *base = NULL;
	assert_int_equal(
	    maildir_deliver(&fx->st, "Archive/2026", msg, sizeof(msg) - 1, &base, &err), 0);
	assert_int_equal(maildir_folder_rename(&fx->st, "Archive", "Old", &err), 0);
	assert_true(exists(fx->root, ".Old"));
	assert_true(exists(fx->root, ".Old.2026"));
	assert_true(exists(fx->root, ".Old.2027"));
	assert_false(exists(fx->root, ".Archive"));
	assert_false(exists(fx->root, ".Archive.2026"));
	assert_true(exists(fx->root, ".Archivex")); /* not a child */
	char p[512];
	snprintf(p, sizeof(p), ".Old.2026/new/%s", base);
	assert_true(exists(fx->root, p));
	free(base);

	assert_int_equal(maildir_folder_rename(&fx->st, "Old", "Old/Sub", &err), -1);
	assert_int_equal(maildir_folder_rename(&fx->st, "Old", "Taken", &err), -1);
	assert_string_equal(err, "exists");
	assert_int_equal(maildir_folder_rename(&fx->st, "Nope", "Other", &err), -1);
	assert_int_equal(maildir_folder_rename(&fx->st, "INBOX", "Other", &err), -1);
	assert_int_equal(maildir_folder_rename(&fx->st, "Old", "INBOX", &err), -1);
	assert_int_equal(maildir_folder_rename(&fx->st, "Old", "bad//name", &err), -1);
	/* a child can move to the top level */
	assert_int_equal(maildir_folder_rename(&fx->st, "Old/2027", "Top", &err), 0);
	assert_true(exists(fx->root, ".Top/cur"));
	assert_false(exists(fx->root, ".Old.2027"));
}

static void test_delete(void **state)
{
	struct fx *fx = *state;
	const char *err;
	const char *make[] = {"Trash", "Trash/a", "Trash/a/b", "Trashy"};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(maildir_folder_create(&fx->st, make[i], &err), 0);
	const char msg[] = "x\n";
	assert_int_equal(maildir_deliver(&fx->st, "Trash/a", msg, 2, NULL, &err), 0);
	assert_int_equal(maildir_folder_delete(&fx->st, "Trash", &err), 0);
	assert_false(exists(fx->root, ".Trash"));
	assert_false(exists(fx->root, ".Trash.a"));
	assert_false(exists(fx->root, ".Trash.a.b"));
	assert_true(exists(fx->root, ".Trashy"));
	assert_int_equal(maildir_folder_delete(&fx->st, "Trash", &err), -1);
	assert_int_equal(maildir_folder_delete(&fx->st, "INBOX", &err), -1);
	assert_int_equal(maildir_folder_delete(&fx->st, "../x", &err), -1);
	assert_true(exists(fx->root, "cur"));
	char **names;
	int n = maildir_folder_list(&fx->st, &names, &err);
	assert_int_equal(n, 2);
	maildir_names_free(names, (size_t)n);
}

static void test_subscriptions(void **state)
{
	struct fx *fx = *state;
	const char *err;
	char **names;
	assert_int_equal(maildir_folder_create(&fx->st, "INBOX", &err), 0);
	assert_int_equal(maildir_subscriptions_read(&fx->st, &names, &err), 0);
	free(names);
	assert_int_equal(maildir_subscription_set(&fx->st, "Sent", 1, &err), 0);
	assert_int_equal(maildir_subscription_set(&fx->st, "Archive/2026", 1, &err), 0);
	assert_int_equal(maildir_subscription_set(&fx->st, "Sent", 1, &err), 0);
	assert_int_equal(maildir_subscription_set(&fx->st, "bad//x", 1, &err), -1);
	int n = maildir_subscriptions_read(&fx->st, &names, &err);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "Sent");
	assert_string_equal(names[1], "Archive/2026");
	maildir_names_free(names, (size_t)n);
	assert_int_equal(maildir_subscription_set(&fx->st, "Sent", 0, &err), 0);
	assert_int_equal(maildir_subscription_set(&fx->st, "Never", 0, &err), 0);
	char p[512], content[64] = {0};
	snprintf(p, sizeof(p), "%s/subscriptions", fx->root);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	size_t got = fread(content, 1, sizeof(content) - 1, f);
	fclose(f);
	assert_int_equal(got, strlen("Archive/2026\n"));
	assert_string_equal(content, "Archive/2026\n");
	/* atomic rewrite leaves no tmp file behind */
	char **list;
	n = maildir_folder_list(&fx->st, &list, &err);
	maildir_names_free(list, (size_t)n);
	snprintf(p, sizeof(p), "%s/subscriptions.tmp.%ld", fx->root, (long)getpid());
	assert_false(exists("/", p));
}

static uint32_t uidvalidity_of(struct fx *fx, const char *name)
{
	const char *err = NULL;
	struct maildir_mailbox *box = NULL;
	if (maildir_mailbox_open(&fx->st, name, 0, &box, &err) < 0)
		fail_msg("open %s: %s", name, err);
	uint32_t v = box->uidvalidity;
	maildir_mailbox_close(box);
	return v;
}

static uint32_t recorded_uidvalidity(struct fx *fx)
{
	char p[512], text[32] = {0};
	snprintf(p, sizeof(p), "%s/loft-uidvalidity", fx->root);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	return (uint32_t)strtoul(text, NULL, 10);
}

/* A folder deleted and created again (within one second) gets a new
 * UIDVALIDITY: the last one handed out is kept in the root, for INBOX and
 * every folder alike. */
static void test_uidvalidity_recreate(void **state)
{
	struct fx *fx = *state;
	const char *err;
	assert_int_equal(maildir_folder_create(&fx->st, "INBOX", &err), 0);
	uint32_t inbox = uidvalidity_of(fx, "INBOX");
	assert_int_equal(recorded_uidvalidity(fx), inbox);
	assert_int_equal(maildir_folder_create(&fx->st, "Box", &err), 0);
	uint32_t v1 = uidvalidity_of(fx, "Box");
	assert_true(v1 > inbox);
	assert_int_equal(maildir_folder_delete(&fx->st, "Box", &err), 0);
	assert_int_equal(maildir_folder_create(&fx->st, "Box", &err), 0);
	uint32_t v2 = uidvalidity_of(fx, "Box");
	assert_true(v2 > v1);
	assert_int_equal(recorded_uidvalidity(fx), v2);
	/* stable once given */
	assert_int_equal(uidvalidity_of(fx, "Box"), v2);
	assert_int_equal(uidvalidity_of(fx, "INBOX"), inbox);
	/* a recorded value ahead of the clock still moves on by one */
	char p[512];
	snprintf(p, sizeof(p), "%s/loft-uidvalidity", fx->root);
	unsigned ahead = (unsigned)time(NULL) + 100000u;
	FILE *f = fopen(p, "w");
	fprintf(f, "%u\n", ahead);
	fclose(f);
	assert_int_equal(maildir_folder_create(&fx->st, "Later", &err), 0);
	assert_int_equal(uidvalidity_of(fx, "Later"), ahead + 1);
	/* junk in the file is replaced, not fatal */
	f = fopen(p, "w");
	fputs("junk", f);
	fclose(f);
	assert_int_equal(maildir_folder_create(&fx->st, "Again", &err), 0);
	assert_true(uidvalidity_of(fx, "Again") != 0);
	assert_int_equal(recorded_uidvalidity(fx), uidvalidity_of(fx, "Again"));
	/* no folder: the root files are not listed */
	char **names;
	int n = maildir_folder_list(&fx->st, &names, &err);
	assert_int_equal(n, 4);
	maildir_names_free(names, (size_t)n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_validate),
	    cmocka_unit_test_setup_teardown(test_create_layout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dot_separator, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subscriptions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uidvalidity_recreate, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
