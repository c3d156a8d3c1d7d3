/* test-smtp-headers.c: the pure header helpers of smtpd
 * (lib/parse/smtp-headers.c): sanitising of network text, the Postfix-style
 * Received line in its variants, Date and Message-ID, and the header scan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "smtp-headers.h"

#define NOW 1795706240 /* Thu, 26 Nov 2026 15:17:20 +0000 */

static void test_sanitize(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(smtp_sanitize(&b, "a\r\nb\0c\x7f\td\xc3\xa9", 11, 100), 0);
	assert_int_equal(b.len, 11);
	assert_memory_equal(b.data, "a??b?c??d\xc3\xa9", 11);
	buf_reset(&b);
	assert_int_equal(smtp_sanitize(&b, "abcdef", 6, 3), 0);
	assert_string_equal(b.data, "abc");
	buf_free(&b);
}

static void test_date_msgid(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(smtp_date_build(&b, NOW), 0);
	assert_string_equal(b.data, "Thu, 26 Nov 2026 15:17:20 +0000");
	buf_reset(&b);
	assert_int_equal(smtp_date_build(&b, 0), 0);
	assert_string_equal(b.data, "Thu, 1 Jan 1970 00:00:00 +0000");
	buf_reset(&b);
	assert_int_equal(smtp_date_build(&b, 951782400), 0); /* leap day 2000 */
	assert_string_equal(b.data, "Tue, 29 Feb 2000 00:00:00 +0000");
	buf_reset(&b);
	assert_int_equal(smtp_message_id_build(&b, NOW, "4AbC", "mx.example.org"), 0);
	assert_string_equal(b.data, "<20261126151720.4AbC@mx.example.org>");
	buf_free(&b);
}

static void test_received(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	struct smtp_received r = {
	    .helo = "client",
	    .ip = "192.0.2.1",
	    .hostname = "mx.example.org",
	    .queue_id = "Q1",
	    .rcpt = "u@example.org",
	    .when = NOW,
	};
	assert_int_equal(smtp_received_build(&b, &r), 0);
	assert_string_equal(b.data, "Received: from client (unknown [192.0.2.1])\r\n"
	                            "\tby mx.example.org (Loft) with SMTP id Q1\r\n"
	                            "\tfor <u@example.org>; Thu, 26 Nov 2026 15:17:20 +0000\r\n");
	buf_reset(&b);
	r.helo = "evil\r\nX-Injected: yes";
	r.rdns = "c.example.com";
	r.esmtp = true;
	r.tls_proto = "TLSv1.2";
	r.tls_cipher = "ECDHE-RSA-AES256-GCM-SHA384";
	r.auth_user = "bob\n";
	r.rcpt = NULL;
	assert_int_equal(smtp_received_build(&b, &r), 0);
	assert_string_equal(b.data,
	                    "Received: from evil??X-Injected: yes (c.example.com [192.0.2.1])\r\n"
	                    "\t(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384)\r\n"
	                    "\t(Authenticated sender: bob?)\r\n"
	                    "\tby mx.example.org (Loft) with ESMTPSA id Q1;\r\n"
	                    "\tThu, 26 Nov 2026 15:17:20 +0000\r\n");
	/* a full buffer leaves nothing half-written */
	struct buf small;
	buf_init(&small, 40);
	assert_int_equal(buf_append_str(&small, "keep"), 0);
	assert_int_equal(smtp_received_build(&small, &r), -1);
	assert_int_equal(small.len, 4);
	assert_string_equal(small.data, "keep");
	buf_free(&small);
	buf_free(&b);
}

static void test_scan(void **state)
{
	(void)state;
	struct smtp_header_info info;
	const char h1[] = "Received: a\r\n\tReceived: folded\r\nreceived : b\r\nX-Received: c\r\n"
	                  "Message-Id: <x@y>\r\ndate:Mon\r\n\r\nReceived: body\r\n";
	smtp_headers_scan(h1, sizeof(h1) - 1, &info);
	assert_int_equal(info.received, 2);
	assert_true(info.has_message_id);
	assert_true(info.has_date);
	assert_int_equal(info.header_len, strstr(h1, "Received: body") - h1);

	const char h2[] = "Subject: x\nDated: no\nMessage-IDx: no\n\nDate: body\n";
	smtp_headers_scan(h2, sizeof(h2) - 1, &info);
	assert_int_equal(info.received, 0);
	assert_false(info.has_message_id);
	assert_false(info.has_date);
	assert_int_equal(info.header_len, strstr(h2, "Date: body") - h2);

	const char h3[] = "Received: only";
	smtp_headers_scan(h3, sizeof(h3) - 1, &info);
	assert_int_equal(info.received, 1);
	assert_int_equal(info.header_len, sizeof(h3) - 1);

	smtp_headers_scan("\r\nReceived: x\r\n", 15, &info);
	assert_int_equal(info.received, 0);
	assert_int_equal(info.header_len, 2);
	smtp_headers_scan("", 0, &info);
	assert_int_equal(info.received, 0);
	assert_int_equal(info.header_len, 0);
}

/* Return-Path fields go, folded continuation lines with them; the body
 * (even a Return-Path line in it) and every other field stay. */
static void test_drop(void **state)
{
	(void)state;
	char msg[] = "Return-Path: <forged@example.net>\r\n"
	             "Subject: hi\r\n"
	             "return-path : <x@y>\r\n"
	             "\t(folded)\r\n"
	             "X-Return-Path: kept\r\n"
	             "\r\n"
	             "Return-Path: body line\r\n";
	const char want[] = "Subject: hi\r\n"
	                    "X-Return-Path: kept\r\n"
	                    "\r\n"
	                    "Return-Path: body line\r\n";
	size_t len = strlen(msg);
	assert_int_equal(smtp_headers_drop(msg, &len, "Return-Path"), 2);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(msg, want, len);
	/* no empty line and LF-only lines: still only header fields */
	char bare[] = "Return-Path: <a@b>\nFrom: a@b\n";
	len = strlen(bare);
	assert_int_equal(smtp_headers_drop(bare, &len, "Return-Path"), 1);
	assert_int_equal(len, strlen("From: a@b\n"));
	assert_memory_equal(bare, "From: a@b\n", len);
	/* nothing to drop: unchanged */
	char none[] = "From: a@b\r\n\r\nbody\r\n";
	len = strlen(none);
	assert_int_equal(smtp_headers_drop(none, &len, "Return-Path"), 0);
	assert_int_equal(len, strlen("From: a@b\r\n\r\nbody\r\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sanitize), cmocka_unit_test(test_date_msgid),
	    cmocka_unit_test(test_received), cmocka_unit_test(test_scan),
	    cmocka_unit_test(test_drop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
