/* test-lmtp-dedup.c: LMTP duplicate suppression's pure parts
 * (mailstore/lmtp/lmtp-dedup.c: queue id check, taking X-LOFT-QID off MAIL's
 * arguments without changing how anything else parses, the deterministic
 * base name) and maildir_delivery_commit_once on real files: stored once,
 * found again in new/ or in cur/ with flags, bad base names refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmtp.h"
#include "maildir.h"
#include "smtp-parse.h"
#include "test-rmtree.h"

#define QID "05f1a2b3c4d5e60001abcdef"

static void test_qid_valid(void **state)
{
	(void)state;
	assert_true(lmtp_qid_valid(QID, 24));
	assert_false(lmtp_qid_valid(QID, 23));
	assert_false(lmtp_qid_valid(QID "0", 25));
	assert_false(lmtp_qid_valid("05F1A2B3C4D5E60001ABCDEF", 24)); /* lowercase only */
	assert_false(lmtp_qid_valid("05f1a2b3c4d5e60001abcdeg", 24));
	assert_false(lmtp_qid_valid("05f1a2b3c4d5e6 001abcdef", 24));
	assert_false(lmtp_qid_valid("", 0));
}

/* lmtp_mail_take_qid on a C string; returns its result, out and qid filled. */
static int take(const char *in, char *out, char *qid)
{
	size_t n = 12345;
	int r = lmtp_mail_take_qid(in, strlen(in), out, &n, qid);
	if (r == 0)
		assert_int_equal(n, strlen(out));
	return r;
}

static void test_take_qid(void **state)
{
	(void)state;
	char out[SMTP_LINE_MAX + 1], qid[LMTP_QID_LEN + 1];
	struct smtp_mail m;

	/* absent: the arguments unchanged */
	assert_int_equal(take("FROM:<a@b.org> SIZE=5", out, qid), 0);
	assert_string_equal(out, "FROM:<a@b.org> SIZE=5");
	assert_string_equal(qid, "");

	assert_int_equal(take("FROM:<a@b.org> X-LOFT-QID=" QID, out, qid), 0);
	assert_string_equal(out, "FROM:<a@b.org>");
	assert_string_equal(qid, QID);

	/* anywhere among the parameters, key case-insensitive */
	assert_int_equal(take("FROM:<> SIZE=5  x-loft-qid=" QID " SMTPUTF8", out, qid), 0);
	assert_string_equal(out, "FROM:<> SIZE=5 SMTPUTF8");
	assert_string_equal(qid, QID);
	assert_int_equal(smtp_mail_parse(out, strlen(out), &m), SMTP_PARSE_OK);
	assert_true(m.smtputf8 && m.has_size && m.from.null_path);

	/* refused: repeated, no value, empty, not an id */
	assert_int_equal(take("FROM:<a@b.org> X-LOFT-QID=" QID " X-LOFT-QID=" QID, out, qid), -1);
	assert_int_equal(take("FROM:<a@b.org> X-LOFT-QID", out, qid), -1);
	assert_int_equal(take("FROM:<a@b.org> X-LOFT-QID=", out, qid), -1);
	assert_int_equal(take("FROM:<a@b.org> X-LOFT-QID=05F1A2B3C4D5E60001ABCDEF", out, qid), -1);
	assert_int_equal(take("FROM:<a@b.org> X-LOFT-QID=" QID "0", out, qid), -1);
	assert_int_equal(take("FROM:<a@b.org> X-LOFT-QID=../../etc/passwd", out, qid), -1);

	/* not ours: left for smtp_mail_parse, which refuses it */
	assert_int_equal(take("FROM:<a@b.org> X-LOFT-QIDX=" QID, out, qid), 0);
	assert_string_equal(qid, "");
	assert_int_equal(smtp_mail_parse(out, strlen(out), &m), SMTP_PARSE_PARAM);

	/* glued to the path: still a syntax error, not turned into a command */
	assert_int_equal(take("FROM:<a@b.org>X-LOFT-QID=" QID, out, qid), 0);
	assert_string_equal(out, "FROM:<a@b.org>X-LOFT-QID=" QID);
	assert_string_equal(qid, "");
	assert_int_not_equal(smtp_mail_parse(out, strlen(out), &m), SMTP_PARSE_OK);

	/* inside a quoted local part it is address text, kept as it is */
	const char *quoted = "FROM:<\"x X-LOFT-QID=" QID "\"@b.org>";
	assert_int_equal(take(quoted, out, qid), 0);
	assert_string_equal(out, quoted);
	assert_string_equal(qid, "");
	assert_int_equal(smtp_mail_parse(out, strlen(out), &m), SMTP_PARSE_OK);
	assert_string_equal(m.from.local, "x X-LOFT-QID=" QID);

	/* '>' inside the quoted part, parameter after the path */
	assert_int_equal(take("FROM:<\"a>b\"@c.org> X-LOFT-QID=" QID, out, qid), 0);
	assert_string_equal(out, "FROM:<\"a>b\"@c.org>");
	assert_string_equal(qid, QID);

	/* no path at all: nothing taken */
	assert_int_equal(take("FROM: X-LOFT-QID=" QID, out, qid), 0);
	assert_string_equal(out, "FROM: X-LOFT-QID=" QID);
	assert_string_equal(qid, "");
	assert_int_equal(take("", out, qid), 0);
	assert_string_equal(out, "");
}

static void test_dedup_base(void **state)
{
	(void)state;
	unsigned char digest[32];
	char out[256];
	for (size_t i = 0; i < sizeof(digest); i++)
		digest[i] = (unsigned char)(i * 17);
	/* 0x05f1a2b3c4d5e6 us = 1673055986.570726 s */
	assert_int_equal(
	    lmtp_dedup_base(QID, digest, sizeof(digest), "mx.example", out, sizeof(out)), 0);
	assert_string_equal(out, "1673055986.M570726L" QID
	                         "H00112233445566778899aabbccddeeff.mx.example");
	/* the same inputs, the same name; another digest, another name */
	char again[256];
	assert_int_equal(
	    lmtp_dedup_base(QID, digest, sizeof(digest), "mx.example", again, sizeof(again)), 0);
	assert_string_equal(out, again);
	digest[15] ^= 1;
	assert_int_equal(
	    lmtp_dedup_base(QID, digest, sizeof(digest), "mx.example", again, sizeof(again)), 0);
	assert_string_not_equal(out, again);
	/* bad id, short digest, small buffer */
	assert_int_equal(lmtp_dedup_base("05F1A2B3C4D5E60001ABCDEF", digest, 32, "h", out, 256),
	                 -1);
	assert_int_equal(lmtp_dedup_base("x/../y", digest, 32, "h", out, 256), -1);
	assert_int_equal(lmtp_dedup_base(QID, digest, 8, "h", out, 256), -1);
	assert_int_equal(lmtp_dedup_base(QID, digest, 32, "h", out, 40), -1);
}

/* ---- maildir_delivery_commit_once ---- */

struct fx {
	char dir[64];
	char root[128];
	struct maildir_store st;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *err = NULL;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/loft-dedup-XXXXXX");
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

/* Files in root/sub; the first name copied into first (if not NULL). */
static int count_files(const struct fx *fx, const char *sub, char *first, size_t cap)
{
	char p[512];
	int n = 0;
	snprintf(p, sizeof(p), "%s/%s", fx->root, sub);
	DIR *d = opendir(p);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n++ == 0 && first != NULL)
			snprintf(first, cap, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

/* begin + write + commit_once + abort: the commit's result. */
static int deliver_once(struct fx *fx, const char *base, const char *text, char **base_r)
{
	struct maildir_delivery d;
	const char *err = NULL;
	assert_int_equal(maildir_delivery_begin(&fx->st, "INBOX", &d, &err), 0);
	assert_int_equal(maildir_delivery_write(&d, text, strlen(text), &err), 0);
	int r = maildir_delivery_commit_once(&d, base, base_r, &err);
	maildir_delivery_abort(&d);
	return r;
}

static void test_commit_once(void **state)
{
	struct fx *fx = *state;
	const char *base = "1673055986.M570726L" QID "Habc.mx.example";
	char name[256], from[600], to[600];
	char *b = NULL;

	assert_int_equal(deliver_once(fx, base, "a\nb\n", &b), 0);
	assert_string_equal(b, "1673055986.M570726L" QID "Habc.mx.example,S=4,W=6");
	free(b);
	assert_int_equal(count_files(fx, "new", name, sizeof(name)), 1);
	assert_string_equal(name, "1673055986.M570726L" QID "Habc.mx.example,S=4,W=6");

	/* again: nothing stored, the tmp file gone */
	b = NULL;
	assert_int_equal(deliver_once(fx, base, "a\nb\n", &b), 1);
	assert_null(b);
	assert_int_equal(count_files(fx, "new", NULL, 0), 1);
	assert_int_equal(count_files(fx, "tmp", NULL, 0), 0);

	/* seen by an IMAP client: in cur/ with flags, still found */
	snprintf(from, sizeof(from), "%s/new/%s", fx->root, name);
	snprintf(to, sizeof(to), "%s/cur/%s:2,FS", fx->root, name);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(deliver_once(fx, base, "a\nb\n", NULL), 1);
	assert_int_equal(count_files(fx, "new", NULL, 0), 0);
	assert_int_equal(count_files(fx, "cur", NULL, 0), 1);

	/* a base that only starts like it is another message */
	assert_int_equal(deliver_once(fx, "1673055986.M570726L" QID "Habc.mx", "x\n", NULL), 0);
	assert_int_equal(count_files(fx, "new", NULL, 0), 1);
	/* ... and so is one it is a prefix of */
	assert_int_equal(
	    deliver_once(fx, "1673055986.M570726L" QID "Habc.mx.example.org", "y\n", NULL), 0);
	assert_int_equal(count_files(fx, "new", NULL, 0), 2);
	assert_int_equal(count_files(fx, "tmp", NULL, 0), 0);

	/* the longest name lmtp_dedup_base makes: a 63-byte host name */
	unsigned char digest[32] = {0};
	char host[64], longest[256];
	memset(host, 'h', 63);
	host[63] = '\0';
	assert_int_equal(
	    lmtp_dedup_base(QID, digest, sizeof(digest), host, longest, sizeof(longest)), 0);
	assert_int_equal(deliver_once(fx, longest, "z\n", NULL), 0);
	assert_int_equal(deliver_once(fx, longest, "z\n", NULL), 1);
	assert_int_equal(count_files(fx, "new", NULL, 0), 3);
}

/* root/loft-delivered/<day>/<base>: its size (2 done, 1 pending as size 0
 * is reported as 1 here), or 0 when missing. */
static int record_of(const struct fx *fx, const char *base)
{
	char p[600];
	unsigned long long sec = strtoull(base, NULL, 10);
	snprintf(p, sizeof(p), "%s/loft-delivered/%llu/%s", fx->root, sec / 86400, base);
	struct stat sb;
	if (lstat(p, &sb) < 0)
		return 0;
	return sb.st_size > 0 ? 2 : 1;
}

/* What a crash leaves: the record made pending again (size 0). */
static void make_pending(const struct fx *fx, const char *base)
{
	char p[600];
	unsigned long long sec = strtoull(base, NULL, 10);
	snprintf(p, sizeof(p), "%s/loft-delivered/%llu/%s", fx->root, sec / 86400, base);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void move_to_cur(const struct fx *fx, const char *name, const char *flags)
{
	char from[600], to[700];
	snprintf(from, sizeof(from), "%s/new/%s", fx->root, name);
	snprintf(to, sizeof(to), "%s/cur/%s:2,%s", fx->root, name, flags);
	assert_int_equal(rename(from, to), 0);
}

/* A crash between linking the file into new/ and marking its record done:
 * the pending record makes the next attempt look, in new/ and in cur/ (an
 * IMAP session moved it meanwhile), and find it. */
static void test_commit_once_crash_after_link(void **state)
{
	struct fx *fx = *state;
	const char *base = "1673055986.M570726L" QID "Hcrash.mx.example";
	char name[256];
	assert_int_equal(deliver_once(fx, base, "m\n", NULL), 0);
	assert_int_equal(record_of(fx, base), 2);
	assert_int_equal(count_files(fx, "new", name, sizeof(name)), 1);

	make_pending(fx, base);
	assert_int_equal(deliver_once(fx, base, "m\n", NULL), 1);
	assert_int_equal(count_files(fx, "new", NULL, 0), 1);
	assert_int_equal(record_of(fx, base), 2); /* marked done by the scan */

	make_pending(fx, base);
	move_to_cur(fx, name, "RS");
	assert_int_equal(deliver_once(fx, base, "m\n", NULL), 1);
	assert_int_equal(count_files(fx, "new", NULL, 0), 0);
	assert_int_equal(count_files(fx, "cur", NULL, 0), 1);
	assert_int_equal(count_files(fx, "tmp", NULL, 0), 0);
	assert_int_equal(record_of(fx, base), 2);
}

/* A crash between the durable pending record and the link: nothing was
 * stored, so the next attempt stores it, once. */
static void test_commit_once_crash_before_link(void **state)
{
	struct fx *fx = *state;
	const char *first = "1673055986.M1L" QID "Hfirst.mx.example";
	const char *base = "1673055986.M570726L" QID "Hlost.mx.example";
	assert_int_equal(deliver_once(fx, first, "f\n", NULL), 0); /* makes the bucket */
	make_pending(fx, base);
	assert_int_equal(deliver_once(fx, base, "m\n", NULL), 0);
	assert_int_equal(count_files(fx, "new", NULL, 0), 2);
	assert_int_equal(record_of(fx, base), 2);
	assert_int_equal(deliver_once(fx, base, "m\n", NULL), 1);
	assert_int_equal(count_files(fx, "new", NULL, 0), 2);
	assert_int_equal(count_files(fx, "tmp", NULL, 0), 0);
}

/* The record decides, not a listing: once a folder has records, a file
 * with the base but without a record (never made by Loft) is not looked
 * for; a folder's first record looks once (copies from before records). */
static void test_commit_once_record_decides(void **state)
{
	struct fx *fx = *state;
	const char *old = "1673055986.M1L" QID "Hold.mx.example";
	const char *foreign = "1673055986.M2L" QID "Hforeign.mx.example";
	char p[600];
	snprintf(p, sizeof(p), "%s/cur/%s,S=2,W=3:2,S", fx->root, old);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(deliver_once(fx, old, "o\n", NULL), 1); /* first record: scan */
	assert_int_equal(count_files(fx, "new", NULL, 0), 0);
	assert_int_equal(record_of(fx, old), 2);

	snprintf(p, sizeof(p), "%s/cur/%s,S=2,W=3:2,S", fx->root, foreign);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(deliver_once(fx, foreign, "o\n", NULL), 0);
	assert_int_equal(count_files(fx, "new", NULL, 0), 1);
}

/* Buckets far older than any queue lifetime go when a new one is made;
 * the one in use stays, whatever its age. */
static void test_commit_once_expiry(void **state)
{
	struct fx *fx = *state;
	char p[600];
	snprintf(p, sizeof(p), "%s/loft-delivered", fx->root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/loft-delivered/100", fx->root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/loft-delivered/100/8640000.M1L" QID "Hx.h", fx->root);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	const char *base = "1673055986.M570726L" QID "Hnew.mx.example";
	assert_int_equal(deliver_once(fx, base, "n\n", NULL), 0);
	snprintf(p, sizeof(p), "%s/loft-delivered/100", fx->root);
	struct stat sb;
	assert_int_equal(lstat(p, &sb), -1);
	assert_int_equal(record_of(fx, base), 2);
	assert_int_equal(deliver_once(fx, base, "n\n", NULL), 1);
}

static void test_commit_once_bad_base(void **state)
{
	struct fx *fx = *state;
	const char *bad[] = {"", ".hidden", "a/b", "../x", "a:2,S", "a,S=1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(deliver_once(fx, bad[i], "x\n", NULL), -1);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(deliver_once(fx, longname, "x\n", NULL), -1);
	assert_int_equal(count_files(fx, "new", NULL, 0), 0);
	assert_int_equal(count_files(fx, "tmp", NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_qid_valid),
	    cmocka_unit_test(test_take_qid),
	    cmocka_unit_test(test_dedup_base),
	    cmocka_unit_test_setup_teardown(test_commit_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_once_crash_after_link, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_once_crash_before_link, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_once_record_decides, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_once_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_once_bad_base, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
