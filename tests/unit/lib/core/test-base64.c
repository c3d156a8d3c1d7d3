/* test-base64.c: strict RFC 4648 base64: the RFC's test vectors both ways,
 * and every non-canonical spelling refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base64.h"

static const char *const vectors[][2] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_rfc_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		struct buf b;
		buf_init(&b, 0);
		assert_int_equal(base64_encode(&b, vectors[i][0], strlen(vectors[i][0])), 0);
		assert_int_equal(b.len, strlen(vectors[i][1]));
		if (b.len > 0)
			assert_memory_equal(b.data, vectors[i][1], b.len);
		buf_free(&b);
		unsigned char out[16];
		size_t n = 99;
		assert_int_equal(base64_decode(vectors[i][1], strlen(vectors[i][1]), out, &n), 0);
		assert_int_equal(n, strlen(vectors[i][0]));
		assert_memory_equal(out, vectors[i][0], n);
	}
}

static void test_binary_roundtrip(void **state)
{
	(void)state;
	unsigned char in[256], out[256];
	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)(255 - i);
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(base64_encode(&b, in, sizeof(in)), 0);
	size_t n;
	assert_int_equal(base64_decode(b.data, b.len, out, &n), 0);
	assert_int_equal(n, sizeof(in));
	assert_memory_equal(in, out, n);
	buf_free(&b);
}

static void test_rejects_non_canonical(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "Zg",       /* missing padding */
	    "Zg=",      /* short padding */
	    "Zh==",     /* non-zero padding bits */
	    "Zm9=",     /* non-zero padding bits */
	    "Z===",     /* too much padding */
	    "=Zg=",     /* padding first */
	    "Zg==Zg==", /* padding in the middle */
	    "Zm9v\n",   "Zm 9v", "Zm9v!AAA", "Zm9-", "Zm9_",
	};
	unsigned char out[16];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = 5;
		assert_int_equal(base64_decode(bad[i], strlen(bad[i]), out, &n), -1);
		assert_int_equal(n, 0);
	}
	size_t n;
	assert_int_equal(base64_decode("Zm\0v", 4, out, &n), -1);
}

static void test_encode_respects_max(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 5);
	assert_int_equal(base64_encode(&b, "foobar", 6), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc_vectors),
	    cmocka_unit_test(test_binary_roundtrip),
	    cmocka_unit_test(test_rejects_non_canonical),
	    cmocka_unit_test(test_encode_respects_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
