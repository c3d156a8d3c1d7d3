/* test-maildir-parse.c: the pure parsers of loftmaildir's own files: the
 * uidlist (header, order, bounds, bad names), the index cache (checksum,
 * count, records) and loft-uidvalidity accept exactly what they should, and
 * the next UIDVALIDITY is max(now, last + 1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maildir-private.h"

static int ul_parse(const char *s, struct maildir_uidlist *ul)
{
	const char *err = NULL;
	int r = maildir_uidlist_parse(s, strlen(s), ul, &err);
	if (r < 0)
		assert_non_null(err);
	return r;
}

static void test_uidlist(void **state)
{
	(void)state;
	struct maildir_uidlist ul;
	assert_int_equal(ul_parse("loft-uidlist 1 1700000000 5 3\n1 a,S=1\n4 b:x\n", &ul), -1);
	assert_int_equal(ul_parse("loft-uidlist 1 1700000000 5 3\n1 a,S=1\n4 b\n", &ul), 0);
	assert_int_equal(ul.uidvalidity, 1700000000);
	assert_int_equal(ul.uidnext, 5);
	assert_int_equal(ul.recent_uid, 3);
	assert_int_equal(ul.count, 2);
	assert_string_equal(ul.ents[0].base, "a,S=1");
	assert_int_equal(ul.ents[1].uid, 4);
	maildir_uidlist_free(&ul);
	assert_int_equal(ul_parse("loft-uidlist 1 7 1 1\n", &ul), 0);
	assert_int_equal(ul.count, 0);
	maildir_uidlist_free(&ul);

	const char *bad[] = {
	    "",
	    "loft-uidlist 2 7 1 1\n",
	    "loft-uidlist 1 0 1 1\n",           /* UIDVALIDITY 0 */
	    "loft-uidlist 1 7 3 4\n",           /* recent beyond UIDNEXT */
	    "loft-uidlist 1 7 3 1",             /* no LF */
	    "loft-uidlist 1 7 5 1\n2 a\n2 b\n", /* repeated UID */
	    "loft-uidlist 1 7 5 1\n3 a\n2 b\n", /* out of order */
	    "loft-uidlist 1 7 5 1\n5 a\n",      /* not below UIDNEXT */
	    "loft-uidlist 1 7 5 1\n1 ../x\n",   /* '/' in a name */
	    "loft-uidlist 1 7 5 1\n1 .hidden\n",
	    "loft-uidlist 1 7 5 1\n1 a b\n",
	    "loft-uidlist 1 7 5 1\n1 a", /* torn last line */
	    "loft-uidlist 1 7 5 1\n0 a\n",
	    "loft-uidlist 1 99999999999 5 1\n", /* overflows 32 bits */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(ul_parse(bad[i], &ul), -1);
	/* NUL inside a name */
	const char nul[] = "loft-uidlist 1 7 5 1\n1 a\0b\n";
	const char *err;
	assert_int_equal(maildir_uidlist_parse(nul, sizeof(nul) - 1, &ul, &err), -1);
}

static char *with_sum(const char *body)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = body; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	size_t len = strlen(body);
	char *s = malloc(len + 32);
	memcpy(s, body, len);
	snprintf(s + len, 32, "end %016llx\n", (unsigned long long)h);
	return s;
}

static int idx_parse(const char *body, struct maildir_mailbox *box)
{
	char *s = with_sum(body);
	int r = maildir_index_parse(s, strlen(s), box);
	free(s);
	return r;
}

static void test_index(void **state)
{
	(void)state;
	struct maildir_mailbox box;
	memset(&box, 0, sizeof(box));
	const char *good = "loft-index 1 2 77 9 1 2 3 4 5 6 7\n"
	                   "3 0 10 12 1700000000 b,S=10,W=12:2,FSa\n"
	                   "8 1 5 5 1700000001 c\n";
	assert_int_equal(idx_parse(good, &box), 0);
	assert_true(box.have_table);
	assert_int_equal(box.count, 2);
	assert_int_equal(box.uidvalidity, 77);
	assert_int_equal(box.uidnext, 9);
	assert_int_equal(box.new_stamp.mtime_ns, 1);
	assert_int_equal(box.cur_stamp.size, 4);
	assert_int_equal(box.uidlist_size, 7);
	assert_string_equal(box.msgs[0].base, "b,S=10,W=12");
	assert_int_equal(box.msgs[0].flags, MAILDIR_FLAG_SEEN | MAILDIR_FLAG_FLAGGED);
	assert_int_equal(box.msgs[0].keywords, 1);
	assert_int_equal(box.msgs[1].in_new, 1);
	assert_int_equal(box.msgs[1].date, 1700000001);

	/* a right checksum over a wrong body still fails */
	const char *bad[] = {
	    "loft-index 1 3 77 9 1 2 3 4 5 6 7\n3 0 10 12 1 b\n", /* count */
	    "loft-index 1 1 77 3 1 2 3 4 5 6 7\n3 0 10 12 1 b\n", /* uid >= uidnext */
	    "loft-index 1 2 77 9 1 2 3 4 5 6 7\n3 0 1 1 1 b\n3 0 1 1 1 c\n",
	    "loft-index 1 1 77 9 1 2 3 4 5 6 7\n3 0 1 1 1 a/b\n",
	    "loft-index 1 1 77 9 1 2 3 4 5 6 7\n3 2 1 1 1 b\n", /* in_new 2 */
	    "loft-index 1 1 77 9 1 2 3 4 5 6\n3 0 1 1 1 b\n",   /* short header */
	    "loft-index 1 1 77 9 1 2 3 4 5 6 7\n3 0 1 1 1 \n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(idx_parse(bad[i], &box), -1);
		assert_false(box.have_table);
		assert_int_equal(box.count, 0);
	}
	/* a flipped byte breaks the checksum */
	char *s = with_sum(good);
	s[40] ^= 1;
	assert_int_equal(maildir_index_parse(s, strlen(s), &box), -1);
	free(s);
	assert_int_equal(maildir_index_parse("end 0000000000000000\n", 21, &box), -1);
	assert_int_equal(maildir_index_parse("", 0, &box), -1);
	maildir_msgs_clear(&box);
}

static void test_fname_order(void **state)
{
	(void)state;
	/* digit runs compare as numbers: delivery order, not text order */
	assert_true(maildir_fname_cmp("1700000000.M99P5Q1.h", "1700000000.M123P5Q1.h") < 0);
	assert_true(maildir_fname_cmp("1700000000.M5P5Q10.h", "1700000000.M5P5Q9.h") > 0);
	assert_true(maildir_fname_cmp("999999999.M1P1Q1.h", "1000000000.M0P1Q1.h") < 0);
	assert_true(maildir_fname_cmp("17.M007P1", "17.M7P1") == 0);
	assert_true(maildir_fname_cmp("a.x", "a.y") < 0);
	assert_true(maildir_fname_cmp("a", "a.b") < 0);
	assert_int_equal(maildir_fname_cmp("same.M1", "same.M1"), 0);
}

static void test_uidvalidity(void **state)
{
	(void)state;
	uint32_t v = 0;
	assert_int_equal(maildir_uidvalidity_parse("1795711621\n", 11, &v), 0);
	assert_int_equal(v, 1795711621u);
	assert_int_equal(maildir_uidvalidity_parse("4294967295\n", 11, &v), 0);
	assert_int_equal(v, 4294967295u);
	static const char *const bad[] = {"",     "\n",           "0\n",   "12",  "12\n\n",
	                                  "-1\n", "4294967296\n", "1 2\n", "x\n", "12\0\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		size_t len = i == 9 ? 4 : strlen(bad[i]);
		assert_int_equal(maildir_uidvalidity_parse(bad[i], len, &v), -1);
	}
	/* max(now, last + 1, above + 1), never 0 */
	assert_int_equal(maildir_uidvalidity_pick(0, 0, 1800000000), 1800000000u);
	assert_int_equal(maildir_uidvalidity_pick(1800000000, 0, 1800000000), 1800000001u);
	assert_int_equal(maildir_uidvalidity_pick(1900000000, 0, 1800000000), 1900000001u);
	assert_int_equal(maildir_uidvalidity_pick(5, 2000000000, 1800000000), 2000000001u);
	assert_int_equal(maildir_uidvalidity_pick(0, 0, 0), 1u);
	assert_int_equal(maildir_uidvalidity_pick(UINT32_MAX, 0, 1800000000), 1u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fname_order),
	    cmocka_unit_test(test_uidlist),
	    cmocka_unit_test(test_index),
	    cmocka_unit_test(test_uidvalidity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
