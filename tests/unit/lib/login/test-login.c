/* test-login.c: the pure parts of the shared login-daemon code: which client
 * addresses count as loopback (for auth_loopback_secure) and the per-IP
 * connection table behind login_max_connections_per_ip (IPv6 by its
 * login_ipv6_prefix network, mynetworks exempt). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "login-private.h"

static void test_loopback(void **state)
{
	(void)state;
	assert_true(netmask_is_loopback("127.0.0.1"));
	assert_true(netmask_is_loopback("127.255.3.4"));
	assert_true(netmask_is_loopback("::1"));
	assert_true(netmask_is_loopback("::ffff:127.0.0.1"));
	assert_false(netmask_is_loopback("128.0.0.1"));
	assert_false(netmask_is_loopback("10.0.0.1"));
	assert_false(netmask_is_loopback("::2"));
	assert_false(netmask_is_loopback("::ffff:10.0.0.1"));
	assert_false(netmask_is_loopback("fe80::1"));
	assert_false(netmask_is_loopback(""));
	assert_false(netmask_is_loopback("localhost"));
	assert_false(netmask_is_loopback("unknown"));
}

static void test_ip_limit(void **state)
{
	(void)state;
	struct login_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.max_per_ip = 2;
	assert_true(login_ip_take(&ctx, "192.0.2.1"));
	assert_true(login_ip_take(&ctx, "192.0.2.1"));
	assert_false(login_ip_take(&ctx, "192.0.2.1"));
	assert_true(login_ip_take(&ctx, "192.0.2.2")); /* another address is separate */
	login_ip_release(&ctx, "192.0.2.1");
	assert_true(login_ip_take(&ctx, "192.0.2.1"));
	assert_false(login_ip_take(&ctx, "192.0.2.1"));
	/* releasing everything empties the table */
	login_ip_release(&ctx, "192.0.2.1");
	login_ip_release(&ctx, "192.0.2.1");
	login_ip_release(&ctx, "192.0.2.2");
	assert_int_equal(ctx.nips, 0);
	/* releasing an unknown address is harmless */
	login_ip_release(&ctx, "198.51.100.7");
	assert_int_equal(ctx.nips, 0);
	free(ctx.ips);
}

static void test_ip_table_grows_and_reuses(void **state)
{
	(void)state;
	struct login_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.max_per_ip = 1;
	char ip[64];
	for (int i = 0; i < 300; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
		assert_true(login_ip_take(&ctx, ip));
	}
	assert_int_equal(ctx.nips, 300);
	assert_false(login_ip_take(&ctx, "10.0.0.5"));
	login_ip_release(&ctx, "10.0.0.5");
	/* the freed slot in the middle is reused, the table does not grow */
	assert_true(login_ip_take(&ctx, "203.0.113.9"));
	assert_int_equal(ctx.nips, 300);
	assert_true(login_ip_take(&ctx, "10.0.0.5"));
	assert_int_equal(ctx.nips, 301);
	free(ctx.ips);
}

static void test_ip_unlimited(void **state)
{
	(void)state;
	struct login_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.max_per_ip = 0; /* 0 = no limit */
	for (int i = 0; i < 50; i++)
		assert_true(login_ip_take(&ctx, "192.0.2.1"));
	assert_int_equal(ctx.nips, 1);
	free(ctx.ips);
}

static void test_ip_v6_prefix_and_exempt(void **state)
{
	(void)state;
	struct login_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.max_per_ip = 2;
	ctx.ipv6_prefix = 64;
	/* one /64 is one client site: its addresses share the limit */
	assert_true(login_ip_take(&ctx, "2001:db8:1:2::1"));
	assert_true(login_ip_take(&ctx, "2001:db8:1:2:ffff::9"));
	assert_false(login_ip_take(&ctx, "2001:db8:1:2::77"));
	assert_true(login_ip_take(&ctx, "2001:db8:1:3::1")); /* the next /64 is another */
	login_ip_release(&ctx, "2001:db8:1:2::abcd");        /* any address of the /64 */
	assert_true(login_ip_take(&ctx, "2001:db8:1:2::77"));
	/* an IPv4-mapped client counts with its IPv4 address */
	assert_true(login_ip_take(&ctx, "192.0.2.1"));
	assert_true(login_ip_take(&ctx, "::ffff:192.0.2.1"));
	assert_false(login_ip_take(&ctx, "192.0.2.1"));
	free(ctx.ips);

	struct netmask nets[2];
	assert_int_equal(netmask_parse("10.0.0.0/8", 10, &nets[0]), 0);
	assert_int_equal(netmask_parse("[2001:db8::]/32", 15, &nets[1]), 0);
	ctx.exempt = nets;
	ctx.nexempt = 2;
	assert_true(login_ip_exempt(&ctx, "10.1.2.3"));
	assert_true(login_ip_exempt(&ctx, "::ffff:10.1.2.3"));
	assert_true(login_ip_exempt(&ctx, "2001:db8:5::1"));
	assert_false(login_ip_exempt(&ctx, "192.0.2.1"));
	assert_false(login_ip_exempt(&ctx, "unknown"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_loopback),
	    cmocka_unit_test(test_ip_limit),
	    cmocka_unit_test(test_ip_table_grows_and_reuses),
	    cmocka_unit_test(test_ip_unlimited),
	    cmocka_unit_test(test_ip_v6_prefix_and_exempt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
