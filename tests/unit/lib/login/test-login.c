/* test-login.c: the pure parts of the shared login-daemon code: which client
 * addresses count as loopback (for auth_loopback_secure) and the per-IP
 * connection table behind login_max_connections_per_ip. */
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
	assert_true(login_addr_is_loopback("127.0.0.1"));
	assert_true(login_addr_is_loopback("127.255.3.4"));
	assert_true(login_addr_is_loopback("::1"));
	assert_true(login_addr_is_loopback("::ffff:127.0.0.1"));
	assert_false(login_addr_is_loopback("128.0.0.1"));
	assert_false(login_addr_is_loopback("10.0.0.1"));
	assert_false(login_addr_is_loopback("::2"));
	assert_false(login_addr_is_loopback("::ffff:10.0.0.1"));
	assert_false(login_addr_is_loopback("fe80::1"));
	assert_false(login_addr_is_loopback(""));
	assert_false(login_addr_is_loopback("localhost"));
	assert_false(login_addr_is_loopback("unknown"));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_loopback),
	    cmocka_unit_test(test_ip_limit),
	    cmocka_unit_test(test_ip_table_grows_and_reuses),
	    cmocka_unit_test(test_ip_unlimited),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
