/* test-handoff.c: the login handoff's SESSION line (lib/ipc/handoff.c) survives
 * an encode/decode round trip with every awkward byte in the carried client
 * data, the strict decoder refuses truncated, incomplete, duplicated,
 * oversized or malformed lines, and the worker accepts only maildir:/PATH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "handoff.h"
#include "mailstore-worker.h"
#include "wire.h"

static void fill_req(struct handoff_req *r, const char *data, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->id = 42;
	strcpy(r->proto, "pop3");
	strcpy(r->token, "00ff9a0b");
	strcpy(r->user, "alice@example.org");
	strcpy(r->rip, "192.0.2.7");
	strcpy(r->lip, "::1");
	r->rport = 51234;
	r->lport = 110;
	strcpy(r->session, "Xy12ab");
	r->secured = true;
	r->data = data;
	r->data_len = len;
}

/* Decode the text line s (with its LF) in a copy kept in line. */
static int decode_line(char *line, const char *s, size_t len, struct handoff_req *out,
                       const char **err)
{
	struct wire_field f[WIRE_MAX_FIELDS];
	assert_true(len > 0 && s[len - 1] == '\n');
	memcpy(line, s, len);
	int n = wire_decode(line, len - 1, f, WIRE_MAX_FIELDS);
	if (n < 0)
		return -2;
	return handoff_decode(f, n, out, err);
}

static void test_roundtrip_awkward_data(void **state)
{
	(void)state;
	static const char data[] = "USER a\tb\r\nPASS \0x\\y\nCAPA\r\n";
	size_t dlen = sizeof(data) - 1;
	struct handoff_req in, out;
	fill_req(&in, data, dlen);
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(handoff_encode(&b, &in), 0);
	/* One line: no raw LF, CR, NUL or TAB inside the data field. */
	assert_ptr_equal(memchr(b.data, '\n', b.len), b.data + b.len - 1);
	assert_null(memchr(b.data, '\r', b.len));
	assert_int_equal(strlen(b.data), b.len);
	char *line = malloc(b.len);
	const char *err = NULL;
	assert_int_equal(decode_line(line, b.data, b.len, &out, &err), 0);
	assert_int_equal(out.id, 42);
	assert_string_equal(out.proto, "pop3");
	assert_string_equal(out.token, "00ff9a0b");
	assert_string_equal(out.user, "alice@example.org");
	assert_string_equal(out.rip, "192.0.2.7");
	assert_string_equal(out.lip, "::1");
	assert_int_equal(out.rport, 51234);
	assert_int_equal(out.lport, 110);
	assert_string_equal(out.session, "Xy12ab");
	assert_false(out.tls);
	assert_true(out.secured);
	assert_int_equal(out.data_len, dlen);
	assert_memory_equal(out.data, data, dlen);
	free(line);
	buf_free(&b);
}

static void test_roundtrip_empty_data_and_tls(void **state)
{
	(void)state;
	struct handoff_req in, out;
	fill_req(&in, NULL, 0);
	in.tls = true;
	in.secured = false;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(handoff_encode(&b, &in), 0);
	assert_non_null(strstr(b.data, "\tdata=\n"));
	char line[1024];
	const char *err;
	assert_int_equal(decode_line(line, b.data, b.len, &out, &err), 0);
	assert_true(out.tls);
	assert_false(out.secured);
	assert_int_equal(out.data_len, 0);
	assert_non_null(out.data);
	buf_free(&b);
}

static void test_imap_tag(void **state)
{
	(void)state;
	struct handoff_req in, out;
	fill_req(&in, NULL, 0);
	strcpy(in.proto, "imap");
	strcpy(in.tag, "a0001");
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(handoff_encode(&b, &in), 0);
	char line[1024];
	const char *err = NULL;
	assert_int_equal(decode_line(line, b.data, b.len, &out, &err), 0);
	assert_string_equal(out.tag, "a0001");
	/* no tag (POP3): empty, and not sent at all */
	buf_reset(&b);
	in.tag[0] = '\0';
	assert_int_equal(handoff_encode(&b, &in), 0);
	assert_null(strstr(b.data, "tag="));
	assert_int_equal(decode_line(line, b.data, b.len, &out, &err), 0);
	assert_string_equal(out.tag, "");
	/* tags that are not RFC 3501 tags are refused */
	static const char *const bad[] = {"tag=",   "tag=a+b",    "tag=a b",
	                                  "tag=a*", "tag=x\\\\y", "tag=a{1}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char txt[512];
		int n = snprintf(txt, sizeof(txt),
		                 "SESSION\t1\tproto=imap\ttoken=ab\tuser=\trip=\trport=1\tlip=\t"
		                 "lport=1\tsession=s\t%s\tdata=\n",
		                 bad[i]);
		assert_int_equal(decode_line(line, txt, (size_t)n, &out, &err), -1);
	}
	buf_free(&b);
}

static void test_max_data(void **state)
{
	(void)state;
	char *data = malloc(HANDOFF_MAX_DATA + 1);
	memset(data, '\t', HANDOFF_MAX_DATA + 1); /* worst case: every byte escaped */
	struct handoff_req in, out;
	fill_req(&in, data, HANDOFF_MAX_DATA);
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(handoff_encode(&b, &in), 0);
	char *line = malloc(b.len);
	const char *err;
	assert_int_equal(decode_line(line, b.data, b.len, &out, &err), 0);
	assert_int_equal(out.data_len, HANDOFF_MAX_DATA);

	/* One byte more: the encoder refuses and leaves the buffer as it was. */
	buf_reset(&b);
	buf_append_str(&b, "keep");
	in.data_len = HANDOFF_MAX_DATA + 1;
	assert_int_equal(handoff_encode(&b, &in), -1);
	assert_string_equal(b.data, "keep");

	/* And the decoder refuses such a line made by hand. */
	buf_reset(&b);
	buf_append_str(&b, "SESSION\t1\tproto=pop3\ttoken=ab\tuser=u\trip=\trport=1\tlip=\t"
	                   "lport=2\tsession=s\tdata=");
	for (size_t i = 0; i < HANDOFF_MAX_DATA + 1; i++)
		buf_append(&b, "x", 1);
	buf_append(&b, "\n", 1);
	line = realloc(line, b.len);
	assert_int_equal(decode_line(line, b.data, b.len, &out, &err), -1);
	assert_string_equal(err, "data too long");
	free(line);
	free(data);
	buf_free(&b);
}

static void test_encoder_respects_buffer_max(void **state)
{
	(void)state;
	struct handoff_req in;
	fill_req(&in, "abc", 3);
	struct buf b;
	buf_init(&b, 60); /* too small for the whole line */
	buf_append_str(&b, "x");
	assert_int_equal(handoff_encode(&b, &in), -1);
	assert_int_equal(b.len, 1);
	assert_string_equal(b.data, "x");
	buf_free(&b);
}

#define FULL                                                                                       \
	"proto=pop3\ttoken=ab\tuser=u\trip=1.2.3.4\trport=1\tlip=5.6.7.8\tlport=2\tsession=s\t"    \
	"data=x"

static void expect_fail(const char *s, const char *why)
{
	char line[2048];
	struct handoff_req out;
	const char *err = NULL;
	int r = decode_line(line, s, strlen(s), &out, &err);
	if (r != -1)
		fail_msg("accepted: %s", s);
	if (why != NULL)
		assert_string_equal(err, why);
}

static void test_decode_refusals(void **state)
{
	(void)state;
	char line[2048];
	struct handoff_req out;
	const char *err;
	const char ok[] = "SESSION\t7\t" FULL "\n";
	assert_int_equal(decode_line(line, ok, strlen(ok), &out, &err), 0);
	assert_int_equal(out.id, 7);

	expect_fail("SESSION\n", "not a SESSION line");
	expect_fail("OK\t7\t" FULL "\n", "not a SESSION line");
	expect_fail("SESSION\t0\t" FULL "\n", "invalid id");
	expect_fail("SESSION\t07\t" FULL "\n", "invalid id");
	expect_fail("SESSION\t4294967296\t" FULL "\n", "invalid id");
	expect_fail("SESSION\tx\t" FULL "\n", "invalid id");
	/* Truncated: each required field missing in turn. */
	static const char *const keys[] = {
	    "proto=", "token=", "user=", "rip=", "rport=", "lip=", "lport=", "session=", "data="};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char s[512];
		snprintf(s, sizeof(s), "SESSION\t1\t%s\n", FULL);
		char *p = strstr(s, keys[k]);
		p[0] = 'X'; /* the field becomes an unknown key, which is ignored */
		expect_fail(s, "missing field");
	}
	expect_fail("SESSION\t1\tproto=pop3\ttoken=ab\n", "missing field");
	expect_fail("SESSION\t1\t" FULL "\tproto=imap\n", "duplicate field");
	expect_fail("SESSION\t1\t" FULL "\ttls\ttls\n", "duplicate field");
	expect_fail("SESSION\t1\t" FULL "\tbogus\n", "field without value");
	expect_fail("SESSION\t1\t" FULL "\trport=65536\n", NULL);
	expect_fail("SESSION\t1\tproto=pop3\ttoken=xyz\tuser=u\trip=\trport=1\tlip=\tlport=2\t"
	            "session=s\tdata=\n",
	            "invalid field value");
	expect_fail("SESSION\t1\tproto=pop3\ttoken=\tuser=u\trip=\trport=1\tlip=\tlport=2\t"
	            "session=s\tdata=\n",
	            "invalid field value");
	expect_fail("SESSION\t1\tproto=toolongproto\ttoken=ab\tuser=u\trip=\trport=1\tlip=\t"
	            "lport=2\tsession=s\tdata=\n",
	            "invalid field value");
	expect_fail("SESSION\t1\tproto=pop3\ttoken=ab\tuser=a\\0b\trip=\trport=1\tlip=\t"
	            "lport=2\tsession=s\tdata=\n",
	            "invalid field value");
	expect_fail("SESSION\t1\tproto=pop3\ttoken=ab\tuser=u\trip=\trport=-1\tlip=\t"
	            "lport=2\tsession=s\tdata=\n",
	            "invalid field value");
	expect_fail("SESSION\t1\tproto=pop3\ttoken=ab\tuser=u\trip=\trport=1\tlip=\t"
	            "lport=2\tsession=\tdata=\n",
	            "invalid field value");
	/* An unknown key=value is ignored (forward compatibility). */
	const char extra[] = "SESSION\t9\t" FULL "\tfuture=1\n";
	assert_int_equal(decode_line(line, extra, strlen(extra), &out, &err), 0);
	assert_int_equal(out.id, 9);
}

/* The worker's check of the mail location auth returned, and its protocol
 * lookup (mailstore-worker.c): what a handed-off session may open. */
static void test_worker_mail_location(void **state)
{
	(void)state;
	const char *path, *err;
	assert_int_equal(worker_maildir_path("maildir:/home/a/Maildir", &path, &err), 0);
	assert_string_equal(path, "/home/a/Maildir");
	assert_int_equal(worker_maildir_path("maildir:/srv/mail/a..b/x", &path, &err), 0);
	static const char *const bad[] = {"",
	                                  "/home/a/Maildir",
	                                  "mbox:/var/mail/a",
	                                  "maildir:",
	                                  "maildir:Maildir",
	                                  "maildir:~/Maildir",
	                                  "maildir:/home/a/../b",
	                                  "maildir:/home/a/..",
	                                  "MAILDIR:/x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (worker_maildir_path(bad[i], &path, &err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(err);
	}
	assert_non_null(worker_find_proto("pop3"));
	assert_string_equal(worker_find_proto("pop3")->name, "pop3");
	assert_null(worker_find_proto("gopher"));
	assert_null(worker_find_proto(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_imap_tag),
	    cmocka_unit_test(test_roundtrip_awkward_data),
	    cmocka_unit_test(test_roundtrip_empty_data_and_tls),
	    cmocka_unit_test(test_max_data),
	    cmocka_unit_test(test_encoder_respects_buffer_max),
	    cmocka_unit_test(test_decode_refusals),
	    cmocka_unit_test(test_worker_mail_location),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
