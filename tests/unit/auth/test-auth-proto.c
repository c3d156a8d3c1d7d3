/* test-auth-proto.c: the auth protocol request parser over raw lines (as
 * wire_decode splits them): every verb, malformed and truncated lines,
 * oversized fields and lines, and the per-listener verb permissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth-proto.h"

/* Decode then parse a line given as a C string (without LF). */
static int parse(const char *line, struct auth_cmd *cmd)
{
	static char copy[WIRE_MAX_LINE + 16];
	static struct wire_field f[WIRE_MAX_FIELDS];
	size_t len = strlen(line);
	memcpy(copy, line, len);
	int n = wire_decode(copy, len, f, WIRE_MAX_FIELDS);
	if (n < 0)
		return -2;
	const char *err = NULL;
	int rc = auth_proto_parse(f, n, cmd, &err);
	if (rc < 0)
		assert_non_null(err);
	return rc;
}

static void test_version(void **state)
{
	(void)state;
	struct auth_cmd c;
	assert_int_equal(parse("VERSION\tauth\t1\t0", &c), 0);
	assert_int_equal(c.verb, AUTH_VERB_VERSION);
	assert_int_equal(c.major, 1);
	assert_int_equal(parse("VERSION\tauth\t1", &c), -1);
	assert_int_equal(parse("VERSION\tlmtp\t1\t0", &c), -1);
	assert_int_equal(parse("VERSION\tauth\tx\t0", &c), -1);
}

static void test_auth(void **state)
{
	(void)state;
	struct auth_cmd c;
	assert_int_equal(parse("AUTH\t42\tPLAIN\tservice=imap\trip=192.0.2.1\tlip=::1\tsecured\t"
	                       "resp=AGFsaWNlAHB3\tfuture=ignored",
	                       &c),
	                 0);
	assert_int_equal(c.verb, AUTH_VERB_AUTH);
	assert_int_equal(c.id, 42);
	assert_int_equal(c.mech, SASL_MECH_PLAIN);
	assert_string_equal(c.service, "imap");
	assert_string_equal(c.rip, "192.0.2.1");
	assert_string_equal(c.lip, "::1");
	assert_true(c.secured);
	assert_false(c.client_delay);
	assert_true(c.has_resp);
	assert_int_equal(c.resp_len, 12);
	assert_memory_equal(c.resp, "AGFsaWNlAHB3", 12);
	/* No initial response vs. an empty one. */
	assert_int_equal(parse("AUTH\t1\tlogin\tservice=smtp", &c), 0);
	assert_false(c.has_resp);
	assert_false(c.secured);
	assert_int_equal(parse("AUTH\t1\tPLAIN\tservice=smtp\tresp=", &c), 0);
	assert_true(c.has_resp);
	assert_int_equal(c.resp_len, 0);
	/* The client waits out failure delays itself (login daemons, smtpd). */
	assert_int_equal(parse("AUTH\t7\tPLAIN\tservice=imap\tclient-delay", &c), 0);
	assert_true(c.client_delay);
	assert_int_equal(parse("AUTH\t7\tPLAIN\tservice=imap\tclient-delay=1", &c), 0);
	assert_false(c.client_delay); /* only the bare word */
	assert_int_equal(parse("AUTH\t4294967295\tPLAIN\tservice=imap", &c), 0);
	assert_int_equal(c.id, 4294967295u);
}

static void test_auth_malformed(void **state)
{
	(void)state;
	struct auth_cmd c;
	static const char *const bad[] = {
	    "AUTH",                            /* truncated */
	    "AUTH\t1",                         /* no mechanism */
	    "AUTH\t1\tCRAM-MD5\tservice=imap", /* unknown mechanism */
	    "AUTH\t1\tPLAIN",                  /* no service */
	    "AUTH\t0\tPLAIN\tservice=imap",    /* id 0 */
	    "AUTH\t01\tPLAIN\tservice=imap",   /* leading zero */
	    "AUTH\t-1\tPLAIN\tservice=imap",
	    "AUTH\t4294967296\tPLAIN\tservice=imap", /* over 32 bits */
	    "AUTH\tabc\tPLAIN\tservice=imap",
	    "AUTH\t1\tPLAIN\tservice=imap\tresp=a b", /* not base64 */
	    "AUTH\t1\tPLAIN\tservice=imap\tresp=\\0", /* NUL */
	    "AUTH\t1\tPLAIN\tservice=im\\0ap",
	    "AUTH\t1\tPLAIN\tservice=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "auth\t1\tPLAIN\tservice=imap", /* verbs are case-sensitive */
	    "HELLO\t1",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(parse(bad[i], &c) < 0);
	/* An escape error is caught by wire_decode already. */
	assert_int_equal(parse("AUTH\t1\tPLAIN\tservice=imap\\q", &c), -2);
	char rip[200] = "AUTH\t1\tPLAIN\tservice=imap\trip=";
	memset(rip + strlen(rip), '1', 100);
	assert_int_equal(parse(rip, &c), -1);
}

static void test_cont_cancel_user_redeem(void **state)
{
	(void)state;
	struct auth_cmd c;
	assert_int_equal(parse("CONT\t7\tYWxpY2U=", &c), 0);
	assert_int_equal(c.verb, AUTH_VERB_CONT);
	assert_int_equal(c.resp_len, 8);
	assert_int_equal(parse("CONT\t7\t", &c), 0);
	assert_int_equal(c.resp_len, 0);
	assert_int_equal(parse("CONT\t7", &c), -1);
	assert_int_equal(parse("CONT\t7\ta\tb", &c), -1);
	assert_int_equal(parse("CONT\t7\t*", &c), -1);
	assert_int_equal(parse("CANCEL\t7", &c), 0);
	assert_int_equal(c.verb, AUTH_VERB_CANCEL);
	assert_int_equal(parse("CANCEL\t7\tx", &c), -1);
	assert_int_equal(parse("USER\t3\talice@example.org", &c), 0);
	assert_string_equal(c.name, "alice@example.org");
	assert_int_equal(parse("USER\t3\t", &c), -1);
	assert_int_equal(parse("USER\t3", &c), -1);
	assert_int_equal(parse("LOOKUP\t4\tbob", &c), 0);
	assert_int_equal(c.verb, AUTH_VERB_LOOKUP);
	assert_int_equal(c.id, 4);
	assert_string_equal(c.name, "bob");
	assert_int_equal(parse("LOOKUP\t4\t", &c), -1);
	assert_int_equal(parse("LOOKUP\t4", &c), -1);
	assert_int_equal(parse("LOOKUP\t4\tbob\tx", &c), -1);
	assert_int_equal(parse("LOOKUP\t4\tb\\0b", &c), -1); /* NUL in the name */
	char tok[AUTH_TOKEN_HEX + 1];
	memset(tok, 'a', AUTH_TOKEN_HEX);
	tok[AUTH_TOKEN_HEX] = '\0';
	char line[200];
	snprintf(line, sizeof(line), "REDEEM\t9\t%s\tservice=imap", tok);
	assert_int_equal(parse(line, &c), 0);
	assert_int_equal(c.verb, AUTH_VERB_REDEEM);
	assert_string_equal(c.token, tok);
	assert_string_equal(c.service, "imap");
	assert_int_equal(parse("REDEEM\t9\tabc", &c), -1);
	assert_int_equal(parse("REDEEM\t9\tabc\timap", &c), -1);
	/* A token longer than any real one cannot be copied: malformed. */
	snprintf(line, sizeof(line), "REDEEM\t9\t%sff\tservice=imap", tok);
	assert_int_equal(parse(line, &c), -1);
}

static void test_oversized_line(void **state)
{
	(void)state;
	struct auth_cmd c;
	char *line = malloc(WIRE_MAX_LINE + 2);
	assert_non_null(line);
	size_t l = (size_t)snprintf(line, WIRE_MAX_LINE + 2, "CONT\t1\t");
	memset(line + l, 'A', WIRE_MAX_LINE + 1 - l);
	line[WIRE_MAX_LINE + 1] = '\0';
	assert_int_equal(parse(line, &c), -2);
	free(line);
}

static void test_permissions(void **state)
{
	(void)state;
	enum auth_listener l;
	assert_int_equal(auth_listener_parse("auth-login", &l), 0);
	assert_int_equal(l, AUTH_LISTENER_LOGIN);
	assert_int_equal(auth_listener_parse("auth-smtp", &l), 0);
	assert_int_equal(auth_listener_parse("auth-master", &l), 0);
	assert_int_equal(l, AUTH_LISTENER_MASTER);
	assert_int_equal(auth_listener_parse("imap", &l), -1);
	assert_true(auth_proto_allowed(AUTH_LISTENER_LOGIN, AUTH_VERB_AUTH));
	assert_true(auth_proto_allowed(AUTH_LISTENER_SMTP, AUTH_VERB_CONT));
	assert_false(auth_proto_allowed(AUTH_LISTENER_LOGIN, AUTH_VERB_USER));
	assert_false(auth_proto_allowed(AUTH_LISTENER_LOGIN, AUTH_VERB_REDEEM));
	assert_false(auth_proto_allowed(AUTH_LISTENER_SMTP, AUTH_VERB_USER));
	assert_false(auth_proto_allowed(AUTH_LISTENER_SMTP, AUTH_VERB_REDEEM));
	assert_true(auth_proto_allowed(AUTH_LISTENER_MASTER, AUTH_VERB_USER));
	assert_true(auth_proto_allowed(AUTH_LISTENER_MASTER, AUTH_VERB_REDEEM));
	assert_false(auth_proto_allowed(AUTH_LISTENER_LOGIN, AUTH_VERB_LOOKUP));
	assert_true(auth_proto_allowed(AUTH_LISTENER_SMTP, AUTH_VERB_LOOKUP));
	assert_true(auth_proto_allowed(AUTH_LISTENER_MASTER, AUTH_VERB_LOOKUP));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version),        cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_auth_malformed), cmocka_unit_test(test_cont_cancel_user_redeem),
	    cmocka_unit_test(test_oversized_line), cmocka_unit_test(test_permissions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
