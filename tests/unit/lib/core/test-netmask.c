/* test-netmask.c: mynetworks entry parser and matcher (lib/core/netmask.c):
 * IPv4 and bracketed IPv6, prefixes, single hosts, IPv4-mapped clients, and
 * refusal of malformed entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "netmask.h"

static bool in(const char *entry, const char *client)
{
	struct netmask m;
	int fam;
	uint8_t a[16];
	assert_int_equal(netmask_parse(entry, strlen(entry), &m), 0);
	assert_int_equal(netmask_addr_parse(client, &fam, a), 0);
	return netmask_match(&m, fam, a);
}

static void test_v4(void **state)
{
	(void)state;
	assert_true(in("127.0.0.0/8", "127.1.2.3"));
	assert_false(in("127.0.0.0/8", "128.0.0.1"));
	assert_true(in("10.1.2.3", "10.1.2.3"));
	assert_false(in("10.1.2.3", "10.1.2.4"));
	assert_true(in("192.168.0.0/23", "192.168.1.255"));
	assert_false(in("192.168.0.0/23", "192.168.2.0"));
	assert_true(in("0.0.0.0/0", "8.8.8.8"));
	assert_false(in("0.0.0.0/0", "::1"));
	assert_true(in("127.0.0.0/8", "::ffff:127.0.0.1"));
}

static void test_v6(void **state)
{
	(void)state;
	assert_true(in("[::1]/128", "::1"));
	assert_true(in("[::1]", "::1"));
	assert_false(in("[::1]/128", "::2"));
	assert_true(in("[2001:db8::]/32", "2001:db8:ffff::1"));
	assert_false(in("[2001:db8::]/32", "2001:db9::1"));
	assert_true(in("[fe80::]/10", "febf::1"));
	assert_false(in("[fe80::]/10", "fec0::1"));
	assert_false(in("[::1]/128", "127.0.0.1"));
}

static void test_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "/8",
	    "127.0.0.0/",
	    "127.0.0.0/33",
	    "127.0.0.0/08",
	    "10.0.0.1/8",
	    "::1",
	    "[::1",
	    "::1]",
	    "[]",
	    "[::1]/129",
	    "[127.0.0.1]",
	    "1.2.3",
	    "1.2.3.4.5",
	    "1.2.3.4/8x",
	    "256.0.0.0",
	    "[2001:db8::1]/32",
	    "a.b.c.d",
	    "1.2.3.4/-1",
	};
	struct netmask m;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(netmask_parse(bad[i], strlen(bad[i]), &m), -1);
	/* embedded NUL is refused, not truncated */
	assert_int_equal(netmask_parse("10.0.0.0\0/8", 11, &m), -1);
	int fam;
	uint8_t a[16];
	assert_int_equal(netmask_addr_parse("[::1]", &fam, a), -1);
	assert_int_equal(netmask_addr_parse("localhost", &fam, a), -1);
}

static void test_fields(void **state)
{
	(void)state;
	struct netmask m;
	assert_int_equal(netmask_parse("10.0.0.0/8", 10, &m), 0);
	assert_int_equal(m.family, AF_INET);
	assert_int_equal(m.prefix, 8);
	assert_int_equal(m.addr[0], 10);
	assert_int_equal(netmask_parse("[::]/0", 6, &m), 0);
	assert_int_equal(m.family, AF_INET6);
	assert_int_equal(m.prefix, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v4),
	    cmocka_unit_test(test_v6),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
