/* test-listen-addr.c: the listen-address parser accepts the forms
 * loft.conf uses (*:port, [v6]:port, v4:port, host:port) and refuses every
 * malformed or out-of-range one with a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "listen-addr.h"

static int parse(const char *s, char *host, unsigned *port, bool *v6)
{
	char err[128] = "";
	int rc = listen_parse_addr(s, strlen(s), host, 64, port, v6, err, sizeof(err));
	if (rc < 0)
		assert_true(strlen(err) > 0);
	return rc;
}

static void test_good(void **state)
{
	(void)state;
	char host[64];
	unsigned port;
	bool v6;
	assert_int_equal(parse("*:143", host, &port, &v6), 0);
	assert_string_equal(host, "");
	assert_int_equal(port, 143);
	assert_false(v6);
	assert_int_equal(parse("[::]:993", host, &port, &v6), 0);
	assert_string_equal(host, "::");
	assert_int_equal(port, 993);
	assert_true(v6);
	assert_int_equal(parse("[::1]:10143", host, &port, &v6), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(parse("127.0.0.1:65535", host, &port, &v6), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 65535);
	assert_int_equal(parse("mail.example.org:25", host, &port, &v6), 0);
	assert_string_equal(host, "mail.example.org");
	assert_int_equal(port, 25);
}

static void test_bad(void **state)
{
	(void)state;
	char host[64];
	unsigned port;
	bool v6;
	const char *bad[] = {
	    "",         "143",      "*:",     "*:0",     "*:65536", "*:99999999999", "*:14x",
	    "[::1]143", "[::1:143", "[]:143", "::1:143", "*:-1",    "host:port",     NULL};
	for (size_t i = 0; bad[i] != NULL; i++) {
		if (parse(bad[i], host, &port, &v6) != -1)
			fail_msg("accepted '%s'", bad[i]);
	}
	/* NUL, blanks or control bytes in the host never pass */
	const char nul_v6[] = "[\0\0\0"
	                      "1]:1143";
	char err[128];
	assert_int_equal(listen_parse_addr(nul_v6, sizeof(nul_v6) - 1, host, sizeof(host), &port,
	                                   &v6, err, sizeof(err)),
	                 -1);
	const char nul_v4[] = "a\0b:25";
	assert_int_equal(listen_parse_addr(nul_v4, sizeof(nul_v4) - 1, host, sizeof(host), &port,
	                                   &v6, err, sizeof(err)),
	                 -1);
	assert_int_equal(parse("a b:25", host, &port, &v6), -1);
	assert_int_equal(parse("[::1 ]:25", host, &port, &v6), -1);
	/* a host longer than the caller's buffer is refused, not truncated */
	char lng[200];
	memset(lng, 'a', sizeof(lng));
	memcpy(lng + sizeof(lng) - 4, ":25", 4);
	assert_int_equal(parse(lng, host, &port, &v6), -1);
}

static void test_not_nul_terminated(void **state)
{
	(void)state;
	char host[64], err[128];
	unsigned port;
	bool v6;
	/* only len bytes count: "*:1433" cut to "*:143" */
	assert_int_equal(
	    listen_parse_addr("*:1433", 5, host, sizeof(host), &port, &v6, err, sizeof(err)), 0);
	assert_int_equal(port, 143);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_not_nul_terminated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
