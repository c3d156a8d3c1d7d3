/* test-auth-passwdfile.c: Dovecot-format passwd-file parsing: good lines,
 * every kind of bad line reported by number and skipped, duplicates, extra
 * fields, and the file wrapper re-reading a changed file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth-passwdfile.h"

struct reports {
	unsigned err_lines[32], warn_lines[32];
	size_t nerr, nwarn;
};

static void collect(void *ctx, int severity, unsigned line, const char *msg)
{
	struct reports *r = ctx;
	assert_non_null(msg);
	if (severity == LOG_ERR && r->nerr < 32)
		r->err_lines[r->nerr++] = line;
	else if (severity != LOG_ERR && r->nwarn < 32)
		r->warn_lines[r->nwarn++] = line;
}

static const char sample[] =
    "alice:{SHA512-CRYPT}$6$saltsalt$TVLlQc:1000:1000::/home/alice::\n" /* 1 */
    "# comment\n"                                                       /* 2 */
    "\n"                                                                /* 3 */
    "bob:{PLAIN}pw:1001:1001:Bob B:/home/bob:/bin/sh:userdb_mail=maildir:/m/bob quota=1G\r\n"
    "nouid:{SHA512-CRYPT}$6$x$y:abc:1000::/h::\n" /* 5: uid not a number */
    "badgid:{SHA512-CRYPT}$6$x$y:1:-1::/h::\n"    /* 6: gid not a number */
    ":{PLAIN}x:1:1::/h::\n"                       /* 7: empty user */
    "nocolon\n"                                   /* 8: no password field */
    "scheme:{NOPE}abc:1:1::/h::\n"                /* 9: unknown scheme */
    "relhome:{PLAIN}x:1:1::home/rel::\n"          /* 10: relative home */
    "mismatch:{SHA256-CRYPT}$6$x$y:1:1::/h::\n"   /* 11: hash/scheme mismatch */
    "alice:{PLAIN}dup:2:2::/other::\n"            /* 12: duplicate */
    "userdbonly::3:3::/home/u::\n"                /* 13 */
    "big:{PLAIN}x:4294967295:1::/h::\n"           /* 14: uid out of range */
    "min:{PLAIN}x\n";                             /* 15: passdb-only line */

static void test_parse_sample(void **state)
{
	(void)state;
	struct pwf_table t = {NULL, 0};
	struct reports r = {{0}, {0}, 0, 0};
	assert_int_equal(pwf_parse(sample, sizeof(sample) - 1, &t, collect, &r), 0);
	assert_int_equal(t.n, 4); /* alice bob userdbonly min */
	const unsigned want_err[] = {5, 6, 7, 8, 9, 10, 11, 14, 12};
	assert_int_equal(r.nerr, sizeof(want_err) / sizeof(want_err[0]));
	for (size_t i = 0; i < r.nerr; i++)
		assert_int_equal(r.err_lines[i], want_err[i]);
	assert_int_equal(r.nwarn, 3); /* {PLAIN} on lines 4, 12 and 15 */
	const struct pwf_entry *a = pwf_find(&t, "alice");
	assert_non_null(a);
	assert_int_equal(a->line, 1); /* the first alice wins */
	assert_true(a->has_uid);
	assert_int_equal(a->uid, 1000);
	assert_string_equal(a->home, "/home/alice");
	const struct pwf_entry *b = pwf_find(&t, "bob");
	assert_non_null(b);
	assert_string_equal(b->password, "{PLAIN}pw");
	size_t len;
	const char *mail = pwf_extra_get(b, "userdb_mail", &len);
	assert_non_null(mail);
	assert_int_equal(len, strlen("maildir:/m/bob"));
	assert_memory_equal(mail, "maildir:/m/bob", len);
	assert_null(pwf_extra_get(b, "mail", &len));
	assert_non_null(pwf_extra_get(b, "quota", &len));
	const struct pwf_entry *u = pwf_find(&t, "userdbonly");
	assert_non_null(u);
	assert_string_equal(u->password, "");
	const struct pwf_entry *m = pwf_find(&t, "min");
	assert_non_null(m);
	assert_false(m->has_uid);
	assert_string_equal(m->home, "");
	assert_null(pwf_find(&t, "nouid"));
	assert_null(pwf_find(&t, "ALICE"));
	pwf_table_free(&t);
}

static void test_garbage_never_crashes(void **state)
{
	(void)state;
	static const char g[] = "a\0b:c\n::::::::::::\n\xff\xfe:x\n:\n\n\n#\nx:y:1:2:3:/:5:6:7:8\n";
	struct pwf_table t = {NULL, 0};
	struct reports r = {{0}, {0}, 0, 0};
	assert_int_equal(pwf_parse(g, sizeof(g) - 1, &t, collect, &r), 0);
	assert_int_equal(r.err_lines[0], 1); /* NUL byte */
	/* "x:y:..." has an unknown-scheme crypt hash "y": allowed as CRYPT. */
	assert_non_null(pwf_find(&t, "x"));
	pwf_table_free(&t);
	assert_int_equal(pwf_parse("", 0, &t, NULL, NULL), 0);
	assert_int_equal(t.n, 0);
}

static void test_file_reload(void **state)
{
	(void)state;
	char path[] = "/tmp/loft-pwf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a:{PLAIN}1:1:1::/h::\n", 21), 21);
	struct pwf_file f;
	char err[256];
	pwf_file_init(&f, path);
	assert_int_equal(pwf_file_refresh(&f, NULL, NULL, err, sizeof(err)), 1);
	assert_int_equal(pwf_file_refresh(&f, NULL, NULL, err, sizeof(err)), 0);
	assert_non_null(pwf_find(&f.t, "a"));
	assert_int_equal(write(fd, "b:{PLAIN}2:1:1::/h::\n", 21), 21);
	assert_int_equal(pwf_file_refresh(&f, NULL, NULL, err, sizeof(err)), 1);
	assert_non_null(pwf_find(&f.t, "b"));
	close(fd);
	unlink(path);
	/* Gone: an error, and the old table stays. */
	assert_int_equal(pwf_file_refresh(&f, NULL, NULL, err, sizeof(err)), -1);
	assert_non_null(pwf_find(&f.t, "b"));
	pwf_file_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_sample),
	    cmocka_unit_test(test_garbage_never_crashes),
	    cmocka_unit_test(test_file_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
