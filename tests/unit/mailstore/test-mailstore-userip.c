/* test-mailstore-userip.c: mail_max_userip_connections' pure parts: which
 * sessions share a key (protocol, user, address grouped like the login
 * daemons: IPv4 per address, IPv6 per prefix network), when one more is
 * over the limit, and the exact refusal lines of IMAP and POP3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "mailstore-userip.h"

static void key(struct userip *k, const char *proto, const char *user, const char *rip)
{
	userip_init(k, proto, rip, 64);
	k->user = (char *)user; /* not freed in these tests */
}

static void test_same_key(void **state)
{
	(void)state;
	struct userip a, b;
	key(&a, "imap", "alice", "127.0.0.1");
	key(&b, "imap", "alice", "127.0.0.1");
	assert_true(userip_same(&a, &b));
	key(&b, "imap", "alice", "::ffff:127.0.0.1"); /* mapped IPv4 is IPv4 */
	assert_true(userip_same(&a, &b));
	key(&b, "pop3", "alice", "127.0.0.1"); /* protocols count apart */
	assert_false(userip_same(&a, &b));
	key(&b, "imap", "bob", "127.0.0.1");
	assert_false(userip_same(&a, &b));
	key(&b, "imap", "Alice", "127.0.0.1"); /* auth's name, byte for byte */
	assert_false(userip_same(&a, &b));
	key(&b, "imap", "alice", "127.0.0.2");
	assert_false(userip_same(&a, &b));
	key(&b, "imap", "alice", "127.0.0.1");
	b.user = NULL; /* not counted (yet, or refused) */
	assert_false(userip_same(&a, &b));
	assert_false(userip_same(&b, &b));
}

static void test_ipv6_prefix(void **state)
{
	(void)state;
	struct userip a, b;
	key(&a, "imap", "alice", "2001:db8:1:2::1");
	key(&b, "imap", "alice", "2001:db8:1:2:ffff::9");
	assert_true(userip_same(&a, &b));
	assert_string_equal(a.addr, "2001:db8:1:2::/64");
	key(&b, "imap", "alice", "2001:db8:1:3::1");
	assert_false(userip_same(&a, &b));
	userip_init(&a, "imap", "2001:db8:1:2::1", 128);
	userip_init(&b, "imap", "2001:db8:1:2::2", 128);
	a.user = b.user = (char *)"alice";
	assert_false(userip_same(&a, &b));
	/* a client address that is no address still gets a stable key */
	key(&a, "imap", "alice", "garbage\x01");
	key(&b, "imap", "alice", "garbage\x01");
	assert_true(userip_same(&a, &b));
}

static void test_over(void **state)
{
	(void)state;
	assert_false(userip_over(0, 3));
	assert_false(userip_over(2, 3));
	assert_true(userip_over(3, 3));
	assert_true(userip_over(4, 3));
	assert_false(userip_over(1000000, 0)); /* 0 = no limit */
	assert_true(userip_over(1, 1));
}

static void refusal(const char *proto, const char *tag, uint64_t limit, const char *want)
{
	struct buf b;
	buf_init(&b, 1024);
	assert_int_equal(userip_refusal(&b, proto, tag, limit), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	buf_free(&b);
}

static void test_refusal_lines(void **state)
{
	(void)state;
	refusal("imap", "a1", 10,
	        "a1 NO [LIMIT] Maximum number of connections from user+IP exceeded "
	        "(mail_max_userip_connections=10)\r\n");
	refusal("imap", NULL, 3,
	        "* BYE [LIMIT] Maximum number of connections from user+IP exceeded "
	        "(mail_max_userip_connections=3)\r\n");
	refusal("imap", "", 3,
	        "* BYE [LIMIT] Maximum number of connections from user+IP exceeded "
	        "(mail_max_userip_connections=3)\r\n");
	refusal("pop3", NULL, 3,
	        "-ERR [IN-USE] Maximum number of connections from user+IP exceeded "
	        "(mail_max_userip_connections=3)\r\n");
	struct buf b;
	buf_init(&b, 1024);
	assert_int_equal(userip_refusal(&b, "lmtp", NULL, 3), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	buf_init(&b, 16); /* too small: an error, not a cut line */
	assert_int_equal(userip_refusal(&b, "pop3", NULL, 3), -1);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_key),
	    cmocka_unit_test(test_ipv6_prefix),
	    cmocka_unit_test(test_over),
	    cmocka_unit_test(test_refusal_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
