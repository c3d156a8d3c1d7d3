/* test-imap-login-store.c: what an IMAP login does to the Maildir (issue 16).
 * LOGIN makes INBOX usable without opening it: no uidlist or index is read
 * or written, so an idle session holds nothing per message; a missing
 * INBOX is created; SELECT still finds and indexes the messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap-session-fixture.h"
#include "maildir.h"

#define LOGGED_IN_PREFIX "L1 OK [CAPABILITY "

static const char msg[] = "From: a@example.org\nSubject: hi\n\nbody\n";

static int setup(void **state)
{
	struct imap_fx *fx = calloc(1, sizeof(*fx));
	if (fx == NULL || imap_fx_init(fx, "imaplogin") < 0)
		return -1;
	*state = fx;
	return 0;
}

static bool exists_in(const char *dir, const char *name)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	struct stat sb;
	return lstat(p, &sb) == 0;
}

static bool is_dir_in(const char *dir, const char *name)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int count_files(const char *dir, const char *sub)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	DIR *d = opendir(p);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void expect_logged_in(struct sess *s)
{
	char *line = get_line(s);
	assert_non_null(line);
	assert_memory_equal(line, LOGGED_IN_PREFIX, strlen(LOGGED_IN_PREFIX));
	free(line);
}

static void test_login_does_not_open_inbox(void **state)
{
	struct imap_fx *fx = *state;
	const char *err;
	for (int i = 0; i < 5; i++)
		assert_int_equal(maildir_deliver(&fx->st, "INBOX", msg, strlen(msg), NULL, &err),
		                 0);
	struct sess s;
	imap_fx_fork(fx, &s, fx->root, NULL);
	expect_logged_in(&s);
	send_str(&s, "n NOOP\r\n");
	expect(&s, "n OK NOOP completed.");
	logout(&s);
	/* an open would have synced: written the uidlist and the index */
	assert_false(exists_in(fx->root, "loft-uidlist"));
	assert_false(exists_in(fx->root, "loft-index"));
	assert_int_equal(count_files(fx->root, "new"), 5);

	/* SELECT loads INBOX when it is needed */
	imap_fx_fork(fx, &s, fx->root, NULL);
	expect_logged_in(&s);
	send_str(&s, "s STATUS INBOX (MESSAGES)\r\n");
	expect(&s, "* STATUS INBOX (MESSAGES 5)");
	expect(&s, "s OK Status completed.");
	logout(&s);
	assert_true(exists_in(fx->root, "loft-uidlist"));
}

static void test_login_creates_missing_inbox(void **state)
{
	struct imap_fx *fx = *state;
	char root[200];
	snprintf(root, sizeof(root), "%s/fresh/Maildir", fx->dir);
	char parent[200];
	snprintf(parent, sizeof(parent), "%s/fresh", fx->dir);
	assert_int_equal(mkdir(parent, 0700), 0);
	struct sess s;
	imap_fx_fork(fx, &s, root, NULL);
	expect_logged_in(&s);
	send_str(&s, "a SELECT INBOX\r\n");
	int exists = 0;
	char *line;
	while ((line = get_line(&s)) != NULL && strncmp(line, "a ", 2) != 0) {
		if (strstr(line, "EXISTS") != NULL) {
			assert_string_equal(line, "* 0 EXISTS");
			exists++;
		}
		free(line);
	}
	assert_non_null(line);
	assert_memory_equal(line, "a OK", 4);
	free(line);
	assert_int_equal(exists, 1);
	logout(&s);
	assert_true(is_dir_in(root, "cur"));
	assert_true(is_dir_in(root, "new"));
	assert_true(is_dir_in(root, "tmp"));
}

static void test_login_refuses_broken_inbox(void **state)
{
	struct imap_fx *fx = *state;
	/* cur/ is a file: the session must say so at login, not at SELECT */
	char p[200];
	snprintf(p, sizeof(p), "%s/cur", fx->root);
	assert_int_equal(rmdir(p), 0);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	struct sess s;
	imap_fx_fork(fx, &s, fx->root, NULL);
	expect(&s, "L1 NO [UNAVAILABLE] Internal error occurred. Refer to server log for more "
	           "information.");
	assert_null(get_line(&s));
	assert_int_equal(finish(&s), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_login_does_not_open_inbox, setup,
	                                    imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_login_creates_missing_inbox, setup,
	                                    imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_login_refuses_broken_inbox, setup,
	                                    imap_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
