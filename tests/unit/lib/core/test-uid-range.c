/* test-uid-range.c: the uid/gid rule for mail processes (lib/core/
 * uid-range.h) and the ".." check on user-database paths (lib/core/
 * path-check.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "path-check.h"
#include "uid-range.h"

static int check(uint64_t uid, uint64_t gid, uint64_t first, uint64_t last)
{
	const char *err = NULL;
	int r = uid_range_check(uid, gid, first, last, &err);
	assert_true(r == 0 ? err == NULL : err != NULL);
	return r;
}

static void test_range(void **state)
{
	(void)state;
	assert_int_equal(check(1000, 1000, 1000, 0), 0);
	assert_int_equal(check(999, 1000, 1000, 0), -1); /* a system account */
	assert_int_equal(check(1, 1, 1000, 0), -1);      /* daemon */
	assert_int_equal(check(65534, 65534, 1000, 0), 0);
	assert_int_equal(check(5000, 5000, 1000, 4999), -1);
	assert_int_equal(check(4999, 5000, 1000, 4999), 0);
	assert_int_equal(check(500, 500, 500, 500), 0);
}

static void test_root_never(void **state)
{
	(void)state;
	const char *err = NULL;
	assert_int_equal(uid_range_check(0, 1000, 0, 0, &err), -1);
	assert_non_null(strstr(err, "uid 0"));
	assert_int_equal(uid_range_check(1000, 0, 0, 0, &err), -1);
	assert_non_null(strstr(err, "gid 0"));
	assert_int_equal(uid_range_check(5000, 0, 1000, 0, &err), -1);
}

static int dotdot(const char *p)
{
	return path_has_dotdot(p, strlen(p));
}

static void test_dotdot(void **state)
{
	(void)state;
	assert_true(dotdot("/var/mail/../etc"));
	assert_true(dotdot("/var/mail/.."));
	assert_true(dotdot("../x"));
	assert_true(dotdot(".."));
	assert_true(dotdot("/a//../b"));
	assert_false(dotdot("/var/mail/alice/Maildir"));
	assert_false(dotdot("/var/mail/..alice/x"));
	assert_false(dotdot("/var/mail/alice../x"));
	assert_false(dotdot("/var/mail/.../x"));
	assert_false(dotdot("/a/./b"));
	assert_false(dotdot(""));
	assert_false(path_has_dotdot("/a/..", 4)); /* only len bytes count */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_range),
	    cmocka_unit_test(test_root_never),
	    cmocka_unit_test(test_dotdot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
