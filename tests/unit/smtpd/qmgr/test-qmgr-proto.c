/* test-qmgr-proto.c: the QUEUE protocol line parser (smtpd/qmgr/qmgr-proto.c):
 * every verb with its exact field count, MAIL parameters, address
 * re-validation and normalisation, limits, and refusal of what the spool
 * would refuse (CR/LF/NUL in texts, oversized fields, bad ids). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "qmgr-proto.h"

/* Encode the NULL-terminated fields as a wire line, decode and parse it. */
static int parse_strs(const char *const *strs, struct qproto_cmd *cmd, struct buf *b)
{
	const char *err;
	buf_reset(b);
	assert_int_equal(wire_encode_strs(b, strs), 0);
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = wire_decode(b->data, b->len - 1, f, WIRE_MAX_FIELDS);
	assert_true(n > 0);
	int rc = qproto_parse(f, n, cmd, &err);
	if (rc < 0)
		assert_non_null(err);
	return rc;
}

#define PARSE(cmd, b, ...) parse_strs((const char *const[]){__VA_ARGS__, NULL}, cmd, b)

static void test_verbs(void **state)
{
	(void)state;
	struct qproto_cmd c;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(PARSE(&c, &b, "VERSION", "QUEUE", "1", "0"), 0);
	assert_int_equal(c.verb, QPROTO_VERSION);
	assert_int_equal(PARSE(&c, &b, "VERSION", "QUEUE", "1", "7"), 0);
	assert_int_equal(PARSE(&c, &b, "VERSION", "QUEUE", "2", "0"), -1);
	assert_int_equal(PARSE(&c, &b, "VERSION", "RELAY", "1", "0"), -1);
	assert_int_equal(PARSE(&c, &b, "DATA"), 0);
	assert_int_equal(c.verb, QPROTO_DATA);
	assert_int_equal(PARSE(&c, &b, "COMMIT"), 0);
	assert_int_equal(c.verb, QPROTO_COMMIT);
	assert_int_equal(PARSE(&c, &b, "ABORT"), 0);
	assert_int_equal(PARSE(&c, &b, "LIST"), 0);
	assert_int_equal(c.verb, QPROTO_LIST);
	assert_int_equal(PARSE(&c, &b, "FLUSH"), 0);
	assert_int_equal(PARSE(&c, &b, "DATA", "x"), -1);
	assert_int_equal(PARSE(&c, &b, "data"), -1); /* verbs are upper case */
	assert_int_equal(PARSE(&c, &b, "EHLO", "x"), -1);
	assert_int_equal(PARSE(&c, &b, ""), -1);
	assert_int_equal(PARSE(&c, &b, "DELETE", "05f1a2b3c4d5e60001abcdef"), 0);
	assert_int_equal(c.verb, QPROTO_DELETE);
	assert_string_equal(c.id, "05f1a2b3c4d5e60001abcdef");
	assert_int_equal(PARSE(&c, &b, "HOLD", "05f1a2b3c4d5e60001abcdef"), 0);
	assert_int_equal(c.verb, QPROTO_HOLD);
	assert_int_equal(PARSE(&c, &b, "RELEASE", "05f1a2b3c4d5e60001abcdef"), 0);
	assert_int_equal(c.verb, QPROTO_RELEASE);
	assert_int_equal(PARSE(&c, &b, "STATUS", "05f1a2b3c4d5e60001abcdef"), 0);
	assert_int_equal(c.verb, QPROTO_STATUS);
	assert_string_equal(c.id, "05f1a2b3c4d5e60001abcdef");
	assert_int_equal(PARSE(&c, &b, "STATUS", "../x"), -1);
	assert_int_equal(PARSE(&c, &b, "STATUS"), -1);
	assert_int_equal(PARSE(&c, &b, "DELETE", "../../etc/passwd"), -1);
	assert_int_equal(PARSE(&c, &b, "DELETE", "05F1A2B3C4D5E60001ABCDEF"), -1);
	assert_int_equal(PARSE(&c, &b, "DELETE", "05f1a2b3c4d5e60001abcde"), -1);
	assert_int_equal(PARSE(&c, &b, "DELETE"), -1);
	buf_free(&b);
}

static void test_mail(void **state)
{
	(void)state;
	struct qproto_cmd c;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(PARSE(&c, &b, "MAIL", "alice@Example.ORG"), 0);
	assert_int_equal(c.verb, QPROTO_MAIL);
	assert_string_equal(c.addr, "alice@example.org");
	assert_null(c.helo.p);
	assert_int_equal(PARSE(&c, &b, "MAIL", ""), 0);
	assert_string_equal(c.addr, "");
	assert_int_equal(PARSE(&c, &b, "MAIL", "alice"), 0);
	assert_int_equal(PARSE(&c, &b, "MAIL", "a@b", "helo=client.example", "addr=192.0.2.1",
	                       "auth=alice", "dsn=RET=HDRS ENVID=x"),
	                 0);
	assert_int_equal(c.helo.len, strlen("client.example"));
	assert_memory_equal(c.helo.p, "client.example", c.helo.len);
	assert_memory_equal(c.client_addr.p, "192.0.2.1", c.client_addr.len);
	assert_memory_equal(c.auth.p, "alice", c.auth.len);
	assert_memory_equal(c.dsn.p, "RET=HDRS ENVID=x", c.dsn.len);
	assert_int_equal(PARSE(&c, &b, "MAIL", "a@b", "helo=x", "helo=y"), -1);
	assert_int_equal(PARSE(&c, &b, "MAIL", "a@b", "size=10"), -1);
	assert_int_equal(PARSE(&c, &b, "MAIL", "a@b", "helo=a\r\nRCPT"), -1);
	assert_int_equal(PARSE(&c, &b, "MAIL", "<a@b>"), -1);
	assert_int_equal(PARSE(&c, &b, "MAIL", "a@b\n"), -1);
	assert_int_equal(PARSE(&c, &b, "MAIL", ";sleep 66;@x"), -1);
	assert_int_equal(PARSE(&c, &b, "MAIL"), -1);
	char helo[300];
	memset(helo, 'h', sizeof(helo) - 1);
	helo[sizeof(helo) - 1] = '\0';
	memcpy(helo, "helo=", 5);
	assert_int_equal(PARSE(&c, &b, "MAIL", "a@b", helo), -1); /* over 255 */
	helo[260] = '\0';
	assert_int_equal(PARSE(&c, &b, "MAIL", "a@b", helo), 0);
	buf_free(&b);
}

static void test_rcpt(void **state)
{
	(void)state;
	struct qproto_cmd c;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(PARSE(&c, &b, "RCPT", "Bob@Example.Net"), 0);
	assert_int_equal(c.verb, QPROTO_RCPT);
	assert_string_equal(c.addr, "Bob@example.net");
	assert_null(c.dsn.p);
	assert_int_equal(PARSE(&c, &b, "RCPT", "postmaster"), 0);
	assert_int_equal(PARSE(&c, &b, "RCPT", "\"a b\"@example.net", "NOTIFY=FAILURE"), 0);
	assert_string_equal(c.addr, "\"a b\"@example.net");
	assert_memory_equal(c.dsn.p, "NOTIFY=FAILURE", c.dsn.len);
	assert_int_equal(PARSE(&c, &b, "RCPT", ""), -1);
	assert_int_equal(PARSE(&c, &b, "RCPT", "a@b", "x", "y"), -1);
	assert_int_equal(PARSE(&c, &b, "RCPT", "a@b", "NOTIFY\r"), -1);
	assert_int_equal(PARSE(&c, &b, "RCPT", "a\x01b@c"), -1);
	buf_free(&b);
}

static void test_body(void **state)
{
	(void)state;
	struct qproto_cmd c;
	struct buf b;
	const char *err;
	buf_init(&b, 0);
	/* any byte, NUL and CR LF included */
	struct wire_field in[2] = {{"BODY", 4}, {"a\0\r\n.\r\n\t\\", 10}};
	assert_int_equal(wire_encode(&b, in, 2), 0);
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = wire_decode(b.data, b.len - 1, f, WIRE_MAX_FIELDS);
	assert_int_equal(n, 2);
	assert_int_equal(qproto_parse(f, n, &c, &err), 0);
	assert_int_equal(c.verb, QPROTO_BODY);
	assert_int_equal(c.body.len, 10);
	assert_memory_equal(c.body.p, "a\0\r\n.\r\n\t\\", 10);
	assert_int_equal(PARSE(&c, &b, "BODY", ""), 0);
	assert_int_equal(c.body.len, 0);
	char *big = malloc(QPROTO_BODY_MAX + 2);
	memset(big, 'x', QPROTO_BODY_MAX + 1);
	big[QPROTO_BODY_MAX] = '\0';
	assert_int_equal(PARSE(&c, &b, "BODY", big), 0);
	big[QPROTO_BODY_MAX] = 'x';
	big[QPROTO_BODY_MAX + 1] = '\0';
	assert_int_equal(PARSE(&c, &b, "BODY", big), -1);
	free(big);
	assert_int_equal(PARSE(&c, &b, "BODY"), -1);
	assert_int_equal(qproto_parse(f, 0, &c, &err), -1);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verbs),
	    cmocka_unit_test(test_mail),
	    cmocka_unit_test(test_rcpt),
	    cmocka_unit_test(test_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
