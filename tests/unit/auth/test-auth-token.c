/* test-auth-token.c: one-time tokens (single use, expiry with an injected
 * clock, wrong service, wrong or malformed token, table limit) and the
 * per-address failure throttle (growth, cap, forgetting, other addresses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth-throttle.h"
#include "auth-token.h"

static const struct auth_user_info alice = {"alice", 1000, 100, "/home/alice",
                                            "maildir:/home/alice/Maildir"};

static void test_issue_and_redeem_once(void **state)
{
	(void)state;
	struct auth_tokens t;
	char tok[AUTH_TOKEN_HEX + 1];
	auth_tokens_init(&t, 5000, 10);
	assert_int_equal(auth_tokens_issue(&t, "imap", &alice, 1000, tok), 0);
	assert_int_equal(strlen(tok), AUTH_TOKEN_HEX);
	assert_int_equal(strspn(tok, "0123456789abcdef"), AUTH_TOKEN_HEX);
	struct auth_user_info got;
	assert_int_equal(auth_tokens_redeem(&t, tok, strlen(tok), "imap", 2000, &got), 0);
	assert_string_equal(got.user, "alice");
	assert_int_equal(got.uid, 1000);
	assert_int_equal(got.gid, 100);
	assert_string_equal(got.home, "/home/alice");
	assert_string_equal(got.mail, "maildir:/home/alice/Maildir");
	auth_user_info_free(&got);
	/* Reuse fails. */
	assert_int_equal(auth_tokens_redeem(&t, tok, strlen(tok), "imap", 2000, &got), -1);
	assert_null(got.user);
	auth_tokens_free(&t);
}

static void test_expiry(void **state)
{
	(void)state;
	struct auth_tokens t;
	char tok[AUTH_TOKEN_HEX + 1];
	struct auth_user_info got;
	auth_tokens_init(&t, 5000, 10);
	assert_int_equal(auth_tokens_issue(&t, "imap", &alice, 1000, tok), 0);
	assert_int_equal(auth_tokens_redeem(&t, tok, strlen(tok), "imap", 6000, &got), -1);
	assert_int_equal(t.n, 0);
	assert_int_equal(auth_tokens_issue(&t, "imap", &alice, 1000, tok), 0);
	assert_int_equal(auth_tokens_redeem(&t, tok, strlen(tok), "imap", 5999, &got), 0);
	auth_user_info_free(&got);
	auth_tokens_free(&t);
}

static void test_wrong_tokens_and_service(void **state)
{
	(void)state;
	struct auth_tokens t;
	char a[AUTH_TOKEN_HEX + 1], b[AUTH_TOKEN_HEX + 1];
	struct auth_user_info got;
	auth_tokens_init(&t, 5000, 10);
	assert_int_equal(auth_tokens_issue(&t, "imap", &alice, 0, a), 0);
	assert_int_equal(auth_tokens_issue(&t, "pop3", &alice, 0, b), 0);
	assert_string_not_equal(a, b);
	char wrong[AUTH_TOKEN_HEX + 1];
	memcpy(wrong, a, sizeof(wrong));
	wrong[10] = wrong[10] == '0' ? '1' : '0';
	assert_int_equal(auth_tokens_redeem(&t, wrong, AUTH_TOKEN_HEX, "imap", 1, &got), -1);
	assert_int_equal(auth_tokens_redeem(&t, a, AUTH_TOKEN_HEX - 1, "imap", 1, &got), -1);
	assert_int_equal(auth_tokens_redeem(&t, "", 0, "imap", 1, &got), -1);
	assert_int_equal(t.n, 2);
	/* Right token, wrong service: refused and consumed. */
	assert_int_equal(auth_tokens_redeem(&t, a, AUTH_TOKEN_HEX, "pop3", 1, &got), -1);
	assert_int_equal(auth_tokens_redeem(&t, a, AUTH_TOKEN_HEX, "imap", 1, &got), -1);
	assert_int_equal(auth_tokens_redeem(&t, b, AUTH_TOKEN_HEX, "pop3", 1, &got), 0);
	auth_user_info_free(&got);
	auth_tokens_free(&t);
}

static void test_table_limit(void **state)
{
	(void)state;
	struct auth_tokens t;
	char tok[AUTH_TOKEN_HEX + 1];
	auth_tokens_init(&t, 100, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(auth_tokens_issue(&t, "imap", &alice, 0, tok), 0);
	assert_int_equal(auth_tokens_issue(&t, "imap", &alice, 50, tok), -1);
	/* Expired ones make room. */
	assert_int_equal(auth_tokens_issue(&t, "imap", &alice, 100, tok), 0);
	assert_int_equal(t.n, 1);
	auth_tokens_free(&t);
}

static void test_throttle(void **state)
{
	(void)state;
	struct auth_throttle th;
	assert_int_equal(auth_throttle_init(&th, 2000, 15000, 2), 0);
	assert_int_equal(auth_throttle_fail(&th, "10.0.0.1", 0), 2000);
	assert_int_equal(auth_throttle_fail(&th, "10.0.0.1", 10), 4000);
	assert_int_equal(auth_throttle_fail(&th, "10.0.0.1", 20), 8000);
	assert_int_equal(auth_throttle_fail(&th, "10.0.0.1", 30), 15000);
	assert_int_equal(auth_throttle_fail(&th, "10.0.0.1", 40), 15000);
	/* Another address starts at the base delay. */
	assert_int_equal(auth_throttle_fail(&th, "10.0.0.2", 50), 2000);
	/* After a long quiet time the address is forgiven. */
	assert_int_equal(auth_throttle_fail(&th, "10.0.0.1", 40 + AUTH_THROTTLE_FORGET_MS + 1),
	                 2000);
	/* The table is full (2): a third address evicts the quietest. */
	assert_int_equal(auth_throttle_fail(&th, "10.0.0.3", AUTH_THROTTLE_FORGET_MS + 100), 2000);
	assert_int_equal(th.n, 2);
	/* Many failures never overflow the delay. */
	for (int i = 0; i < 200; i++)
		assert_true(auth_throttle_fail(&th, "", 1) <= 15000);
	auth_throttle_free(&th);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_issue_and_redeem_once),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_wrong_tokens_and_service),
	    cmocka_unit_test(test_table_limit),
	    cmocka_unit_test(test_throttle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
