/* test-buf.c: growable buffers stay within their max and the line splitter
 * finds, waits for, or refuses lines exactly at the boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"

static void test_append_and_max(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 10);
	assert_int_equal(buf_append_str(&b, "hello"), 0);
	assert_int_equal(buf_append_str(&b, "world"), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "helloworld");
	/* one byte over the max is refused and nothing changes */
	assert_int_equal(buf_append(&b, "x", 1), -1);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "helloworld");
	buf_consume(&b, 5);
	assert_string_equal(b.data, "world");
	assert_int_equal(buf_printf(&b, "%d", 12345), 0);
	assert_string_equal(b.data, "world12345");
	assert_int_equal(buf_printf(&b, "%d", 1), -1);
	buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	char *s = buf_steal(&b);
	assert_string_equal(s, "");
	free(s);
	buf_free(&b);
}

static void test_growth(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_int_equal(b.len, 30000);
	assert_memory_equal(b.data + 29997, "abc", 3);
	assert_int_equal(b.data[30000], '\0');
	buf_free(&b);
}

static void test_line_find(void **state)
{
	(void)state;
	assert_int_equal(line_find("abc\nde", 6, 100), 4);
	assert_int_equal(line_find("abc", 3, 100), 0);
	assert_int_equal(line_find("", 0, 100), 0);
	/* a line of exactly max bytes plus LF is fine; max+1 bytes is not */
	assert_int_equal(line_find("abcd\n", 5, 4), 5);
	assert_int_equal(line_find("abcde\n", 6, 4), -1);
	assert_int_equal(line_find("abcd", 4, 4), 0);
	assert_int_equal(line_find("abcde", 5, 4), -1);
	/* a NUL byte does not end the scan */
	assert_int_equal(line_find("a\0b\n", 4, 100), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_and_max),
	    cmocka_unit_test(test_growth),
	    cmocka_unit_test(test_line_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
