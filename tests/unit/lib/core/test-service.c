/* test-service.c: LOFT_LISTEN_FDS parsing, the master-to-daemon contract:
 * well-formed lists give the right protocol/fd pairs, anything odd is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "service.h"

static void test_valid(void **state)
{
	(void)state;
	struct service_listener l[SERVICE_MAX_LISTENERS];
	assert_int_equal(service_parse_listen_fds("imap:3 imaps:4", l, 32), 2);
	assert_string_equal(l[0].proto, "imap");
	assert_int_equal(l[0].fd, 3);
	assert_string_equal(l[1].proto, "imaps");
	assert_int_equal(l[1].fd, 4);

	/* the same protocol on several sockets (IPv4 + IPv6), extra spaces */
	assert_int_equal(service_parse_listen_fds("  imap:3   imap:10 submission-x9:1024 ", l, 32),
	                 3);
	assert_string_equal(l[1].proto, "imap");
	assert_int_equal(l[1].fd, 10);
	assert_string_equal(l[2].proto, "submission-x9");
	assert_int_equal(l[2].fd, 1024);

	assert_int_equal(service_parse_listen_fds("", l, 32), 0);
	assert_int_equal(service_parse_listen_fds("   ", l, 32), 0);
	assert_int_equal(service_parse_listen_fds("abcdefghijklmno:3", l, 32), 1); /* 15 chars */
	assert_string_equal(l[0].proto, "abcdefghijklmno");
	assert_int_equal(service_parse_listen_fds("x:2147483647", l, 32), 1);
	assert_int_equal(l[0].fd, 2147483647);
}

static void test_malformed(void **state)
{
	(void)state;
	struct service_listener l[4];
	static const char *const bad[] = {
	    "imap",
	    "imap:",
	    ":3",
	    "imap:2",
	    "imap:0",
	    "IMAP:3",
	    "imap:3x",
	    "imap:-3",
	    "imap:+3",
	    "imap:2147483648",
	    "imap:99999999999999999999",
	    "abcdefghijklmnop:3", /* 16 chars */
	    "imap:3,imaps:4",
	    "imap:3\timaps:4",
	    "imap:3 imaps:3", /* one fd twice */
	    "im ap:3",
	    "imap::3",
	    "im_ap:3",
	    "imap:3 :4",
	    "imap:3\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (service_parse_listen_fds(bad[i], l, 4) != -1)
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_int_equal(service_parse_listen_fds(NULL, l, 4), -1);
	/* more entries than the caller has room for */
	assert_int_equal(service_parse_listen_fds("a:3 b:4 c:5 d:6", l, 4), 4);
	assert_int_equal(service_parse_listen_fds("a:3 b:4 c:5 d:6 e:7", l, 4), -1);
	assert_int_equal(service_parse_listen_fds("a:3 b:4", l, 1), -1);
	assert_int_equal(service_parse_listen_fds("a:3", l, 0), -1);
	assert_int_equal(service_parse_listen_fds("", l, 0), 0);
}

static void test_max_listeners(void **state)
{
	(void)state;
	struct service_listener l[SERVICE_MAX_LISTENERS + 1];
	char s[1024] = "";
	for (int i = 0; i < SERVICE_MAX_LISTENERS; i++) {
		char pair[16];
		snprintf(pair, sizeof(pair), "p:%d ", i + 3);
		strcat(s, pair);
	}
	assert_int_equal(service_parse_listen_fds(s, l, SERVICE_MAX_LISTENERS + 1),
	                 SERVICE_MAX_LISTENERS);
	assert_int_equal(l[SERVICE_MAX_LISTENERS - 1].fd, SERVICE_MAX_LISTENERS + 2);
	strcat(s, "p:999");
	assert_int_equal(service_parse_listen_fds(s, l, SERVICE_MAX_LISTENERS + 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_max_listeners),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
