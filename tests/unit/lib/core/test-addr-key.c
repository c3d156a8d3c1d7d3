/* test-addr-key.c: the per-address counting key (lib/core/addr-key.c): IPv4
 * per address, IPv4-mapped IPv6 as IPv4, IPv6 grouped by the prefix, and
 * non-addresses kept as stable, printable keys of their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "addr-key.h"

static const char *key(const char *ip, unsigned prefix, int want_rc)
{
	static char out[ADDR_KEY_MAX]; /* test-only scratch */
	assert_int_equal(addr_key(ip, strlen(ip), prefix, out), want_rc);
	return out;
}

static void test_v4(void **state)
{
	(void)state;
	assert_string_equal(key("192.0.2.7", 64, 0), "192.0.2.7");
	assert_string_equal(key("127.0.0.2", 64, 0), "127.0.0.2");
	/* every address its own key: NATs are one address anyway */
	assert_string_not_equal(key("192.0.2.7", 64, 0), "192.0.2.8");
	assert_string_equal(key("::ffff:192.0.2.7", 64, 0), "192.0.2.7");
	assert_string_equal(key("::FFFF:10.1.2.3", 48, 0), "10.1.2.3");
}

static void test_v6_prefix(void **state)
{
	(void)state;
	assert_string_equal(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, 0), "2001:db8:1:2::/64");
	assert_string_equal(key("2001:db8:1:2::1", 64, 0), "2001:db8:1:2::/64");
	assert_string_equal(key("2001:DB8:1:2:ffff::9", 64, 0), "2001:db8:1:2::/64");
	assert_string_equal(key("2001:db8:1:3::1", 64, 0), "2001:db8:1:3::/64");
	assert_string_equal(key("2001:db8:1:2ff::1", 56, 0), "2001:db8:1:200::/56");
	assert_string_equal(key("2001:db8:1:2::1", 48, 0), "2001:db8:1::/48");
	assert_string_equal(key("2001:db8::1", 128, 0), "2001:db8::1");
	assert_string_equal(key("2001:db8::1", 500, 0), "2001:db8::1"); /* capped */
	assert_string_equal(key("2001:db8::1", 0, 0), "::/0");
	assert_string_equal(key("::1", 64, 0), "::/64");
	assert_string_equal(key("2001:db8::1", 63, 0), "2001:db8::/63");
	assert_string_equal(key("2001:db8:0:1::1", 63, 0), "2001:db8::/63");
}

static void test_not_an_address(void **state)
{
	(void)state;
	assert_string_equal(key("unknown", 64, -1), "unknown");
	assert_string_equal(key("", 64, -1), "");
	assert_string_equal(key("1.2.3.4 ", 64, -1), "1.2.3.4?");
	assert_string_equal(key("[::1]", 64, -1), "[::1]");
	assert_string_equal(key("a\tb\x80", 64, -1), "a?b?");
	char out[ADDR_KEY_MAX];
	assert_int_equal(addr_key("1.2.3.4\0x", 9, 64, out), -1);
	assert_string_equal(out, "1.2.3.4?x");
	char longer[200];
	memset(longer, 'a', sizeof(longer));
	assert_int_equal(addr_key(longer, sizeof(longer), 64, out), -1);
	assert_int_equal(strlen(out), ADDR_KEY_MAX - 1);
	/* the length counts, not a NUL: only the first len bytes are read */
	assert_int_equal(addr_key("10.0.0.1junk", 8, 64, out), 0);
	assert_string_equal(out, "10.0.0.1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v4),
	    cmocka_unit_test(test_v6_prefix),
	    cmocka_unit_test(test_not_an_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
