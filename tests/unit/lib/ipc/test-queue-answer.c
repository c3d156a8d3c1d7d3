/* test-queue-answer.c: lib/ipc/queue-answer.c, the parser of loft-queue's
 * answers: OK with and without an id, LIST, FAIL temp/perm with and
 * without an enhanced code (and with one of the wrong class), the text's
 * sanitising and cut, and every line that is no answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "queue-answer.h"

/* The caller's copy of a line: a parsed OK or LIST points into it. */
struct line {
	char b[4096];
};

/* Parse the raw line s (escaped, no LF) in l; 0 or -1. */
static int parse_in(struct line *l, const char *s, struct queue_answer *a, const char **err)
{
	char *line = l->b;
	size_t len = strlen(s);
	assert_true(len < sizeof(l->b));
	memcpy(line, s, len + 1);
	*err = NULL;
	int rc = queue_answer_parse(line, len, a, err);
	if (rc < 0)
		assert_non_null(*err);
	return rc;
}

#define parse(s, a, err) parse_in(&l, (s), (a), (err))

static void test_ok(void **state)
{
	(void)state;
	struct line l;
	struct queue_answer a;
	const char *err;
	assert_int_equal(parse("OK", &a, &err), 0);
	assert_int_equal(a.kind, QUEUE_ANSWER_OK);
	assert_int_equal(a.value.len, 0);
	assert_int_equal(parse("OK\t0123456789abcdef01234567", &a, &err), 0);
	assert_int_equal(a.kind, QUEUE_ANSWER_OK);
	assert_int_equal(a.value.len, 24);
	assert_memory_equal(a.value.p, "0123456789abcdef01234567", 24);
}

static void test_list(void **state)
{
	(void)state;
	struct line l;
	struct queue_answer a;
	const char *err;
	assert_int_equal(parse("LIST\tline one\\nline\\ttwo\\n", &a, &err), 0);
	assert_int_equal(a.kind, QUEUE_ANSWER_LIST);
	assert_int_equal(a.value.len, strlen("line one\nline\ttwo\n"));
	assert_memory_equal(a.value.p, "line one\nline\ttwo\n", a.value.len);
	assert_int_equal(parse("LIST\t", &a, &err), 0);
	assert_int_equal(a.value.len, 0);
}

static void test_fail_perm_with_code(void **state)
{
	(void)state;
	struct line l;
	struct queue_answer a;
	const char *err;
	/* exactly what qmgr-server.c sends for a body over the limit */
	assert_int_equal(parse("FAIL\tperm\t5.3.4 message too big", &a, &err), 0);
	assert_int_equal(a.kind, QUEUE_ANSWER_FAIL);
	assert_int_equal(a.fail, QUEUE_PERMFAIL);
	assert_string_equal(a.status, "5.3.4");
	assert_string_equal(a.text, "message too big");
}

static void test_fail_temp_with_code(void **state)
{
	(void)state;
	struct line l;
	struct queue_answer a;
	const char *err;
	assert_int_equal(parse("FAIL\ttemp\t4.3.0 cannot create queue file", &a, &err), 0);
	assert_int_equal(a.fail, QUEUE_TEMPFAIL);
	assert_string_equal(a.status, "4.3.0");
	assert_string_equal(a.text, "cannot create queue file");
	/* a code and nothing else */
	assert_int_equal(parse("FAIL\ttemp\t4.123.999", &a, &err), 0);
	assert_string_equal(a.status, "4.123.999");
	assert_string_equal(a.text, "");
}

static void test_fail_without_code(void **state)
{
	(void)state;
	struct line l;
	struct queue_answer a;
	const char *err;
	assert_int_equal(parse("FAIL\tperm\tno such message", &a, &err), 0);
	assert_int_equal(a.fail, QUEUE_PERMFAIL);
	assert_string_equal(a.status, "");
	assert_string_equal(a.text, "no such message");
	/* the text may be left out */
	assert_int_equal(parse("FAIL\ttemp", &a, &err), 0);
	assert_int_equal(a.fail, QUEUE_TEMPFAIL);
	assert_string_equal(a.status, "");
	assert_string_equal(a.text, "");
	assert_int_equal(parse("FAIL\tperm\t", &a, &err), 0);
	assert_string_equal(a.text, "");
}

static void test_fail_code_of_other_class_is_text(void **state)
{
	(void)state;
	struct line l;
	struct queue_answer a;
	const char *err;
	/* a 5.x.x code in a temporary FAIL is no code of that FAIL */
	assert_int_equal(parse("FAIL\ttemp\t5.3.4 message too big", &a, &err), 0);
	assert_int_equal(a.fail, QUEUE_TEMPFAIL);
	assert_string_equal(a.status, "");
	assert_string_equal(a.text, "5.3.4 message too big");
	assert_int_equal(parse("FAIL\tperm\t4.3.0 x", &a, &err), 0);
	assert_string_equal(a.status, "");
	assert_string_equal(a.text, "4.3.0 x");
	/* not codes at all */
	static const char *const bad[] = {"5.3 x",  "5.3.4x y",  "5.03.4 y", "5.3.1000 y",
	                                  "5..4 y", "5.3.4.1 y", "55.3.4 y", ".3.4 y"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[64];
		snprintf(line, sizeof(line), "FAIL\tperm\t%s", bad[i]);
		assert_int_equal(parse(line, &a, &err), 0);
		assert_string_equal(a.status, "");
		assert_string_equal(a.text, bad[i]);
	}
}

static void test_fail_text_sanitised_and_cut(void **state)
{
	(void)state;
	struct line l;
	struct queue_answer a;
	const char *err;
	/* CR, LF, NUL (escaped on the wire) and 8-bit bytes never reach a reply */
	assert_int_equal(parse("FAIL\tperm\t5.7.1 a\\r\\nRSET\\0b\xc3\xa4", &a, &err), 0);
	assert_string_equal(a.status, "5.7.1");
	assert_string_equal(a.text, "a??RSET?b??");
	char line[2000] = "FAIL\tperm\t5.3.0 ";
	memset(line + strlen(line), 'x', 1000);
	assert_int_equal(parse(line, &a, &err), 0);
	assert_int_equal(strlen(a.text), QUEUE_ANSWER_TEXT_MAX - 1);
}

static void test_not_answers(void **state)
{
	(void)state;
	struct line l;
	static const char *const bad[] = {
	    "",        /* one empty field: no verb */
	    "ok",      /* verbs are upper case */
	    "BODY\tx", /* a request, not an answer */
	    "VERSION\tQUEUE\t1\t0",
	    "OK\tid\textra", /* OK has at most one field */
	    "LIST",          /* LIST needs its text */
	    "LIST\ta\tb",
	    "FAIL", /* FAIL needs temp|perm */
	    "FAIL\tsoft\tx",
	    "FAIL\tPERM\tx",
	    "FAIL\tperm\t5.3.4 x\textra", /* the old 4-field form */
	    "OK\tbad\\qescape",           /* malformed escapes */
	    "OK\traw\rCR",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct queue_answer a;
		const char *err;
		assert_int_equal(parse(bad[i], &a, &err), -1);
	}
}

static void test_status_valid(void **state)
{
	(void)state;
	assert_true(queue_status_valid("2.0.0", 5));
	assert_true(queue_status_valid("5.3.4", 5));
	assert_true(queue_status_valid("4.999.999", 9));
	assert_false(queue_status_valid("3.0.0", 5));
	assert_false(queue_status_valid("5.3.", 4));
	assert_false(queue_status_valid("5.3.4", 4));
	assert_false(queue_status_valid("5.00.1", 6));
	assert_false(queue_status_valid("5.3.4 ", 6));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ok),
	    cmocka_unit_test(test_list),
	    cmocka_unit_test(test_fail_perm_with_code),
	    cmocka_unit_test(test_fail_temp_with_code),
	    cmocka_unit_test(test_fail_without_code),
	    cmocka_unit_test(test_fail_code_of_other_class_is_text),
	    cmocka_unit_test(test_fail_text_sanitised_and_cut),
	    cmocka_unit_test(test_not_answers),
	    cmocka_unit_test(test_status_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
