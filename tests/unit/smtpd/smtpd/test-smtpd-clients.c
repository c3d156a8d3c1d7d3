/* test-smtpd-clients.c: loft-smtpd's per-address table of connection
 * children (smtpd_max_connections_per_ip) and its address helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "smtpd-private.h"

static void test_count_add_remove(void **state)
{
	(void)state;
	struct smtpd_clients t;
	memset(&t, 0, sizeof(t));
	assert_int_equal(smtpd_clients_count(&t, "192.0.2.1"), 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(smtpd_clients_add(&t, 1000 + i, i % 2 ? "192.0.2.1" : "::1"), 0);
	assert_int_equal(smtpd_clients_count(&t, "192.0.2.1"), 100);
	assert_int_equal(smtpd_clients_count(&t, "::1"), 100);
	assert_int_equal(smtpd_clients_count(&t, "192.0.2.10"), 0);
	assert_int_equal(smtpd_clients_remove(&t, 1001), 1);
	assert_int_equal(smtpd_clients_remove(&t, 1001), 0); /* reaped twice */
	assert_int_equal(smtpd_clients_remove(&t, 42), 0);
	assert_int_equal(smtpd_clients_count(&t, "192.0.2.1"), 99);
	for (int i = 0; i < 200; i++)
		smtpd_clients_remove(&t, 1000 + i);
	assert_int_equal(t.n, 0);
	smtpd_clients_free(&t);
	assert_null(t.v);
}

static void test_addresses(void **state)
{
	(void)state;
	assert_true(netmask_is_loopback("127.0.0.1"));
	assert_true(netmask_is_loopback("127.200.0.9"));
	assert_true(netmask_is_loopback("::1"));
	assert_true(netmask_is_loopback("::ffff:127.0.0.1"));
	assert_false(netmask_is_loopback("192.0.2.1"));
	assert_false(netmask_is_loopback("unknown"));
	struct smtpd_settings set;
	memset(&set, 0, sizeof(set));
	struct netmask m[2];
	assert_int_equal(netmask_parse("192.0.2.0/24", 12, &m[0]), 0);
	assert_int_equal(netmask_parse("[2001:db8::]/32", 15, &m[1]), 0);
	set.mynetworks = m;
	set.n_mynetworks = 2;
	assert_true(smtpd_addr_in_networks(&set, "192.0.2.77"));
	assert_true(smtpd_addr_in_networks(&set, "::ffff:192.0.2.77"));
	assert_true(smtpd_addr_in_networks(&set, "2001:db8::5"));
	assert_false(smtpd_addr_in_networks(&set, "127.0.0.1"));
	assert_false(smtpd_addr_in_networks(&set, "garbage"));
}

static void test_b64(void **state)
{
	(void)state;
	assert_true(smtpd_auth_b64_ok("AGFsaWNlAHNlY3JldA==", 20));
	assert_true(smtpd_auth_b64_ok("", 0));
	assert_false(smtpd_auth_b64_ok("!!notbase64", 11));
	assert_false(smtpd_auth_b64_ok("AGFsaWNl\tAHNl", 13));
	assert_false(smtpd_auth_b64_ok("AGE", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_count_add_remove),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_b64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
