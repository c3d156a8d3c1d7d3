/* test-auth-hash.c: every passwd-file scheme against known vectors (the
 * SHA-crypt specification's own, OpenBSD's bcrypt one, and fixed hashes
 * generated once with openssl passwd / libxcrypt), scheme parsing, and
 * hashes made by auth_hash_make verifying. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth-hash.h"

struct vector {
	const char *stored, *good, *bad;
};

static const struct vector vectors[] = {
    /* Drepper's SHA-crypt specification test vectors. */
    {"{SHA256-CRYPT}$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "Hello world!",
     "Hello world"},
    {"{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4"
     "OTLiBFdcbYEdFCoEOfaS35inz1",
     "Hello world!", "hello world!"},
    /* openssl passwd -6 -salt saltsalt secret / openssl passwd -5 ... */
    {"{SHA512-CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSp"
     "T0Y77vwPZN.Pq.H91p5hVO1",
     "secret", "secreT"},
    {"{SHA256-CRYPT}$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA", "secret", "secret "},
    /* crypt_blowfish's published vector. */
    {"{BLF-CRYPT}$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U", "U*V"},
    {"{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a", "secret", "Secret"},
    {"{YESCRYPT}$y$j9T$saltsaltsalt$AnbE4uovRUrp5W/7h65lVXbBxJijULPRqRjd39xI5w9", "secret",
     "secre"},
    /* No {SCHEME}: CRYPT, whatever crypt(3) hash it is. */
    {"$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H"
     "91p5hVO1",
     "secret", ""},
    {"{PLAIN}clear text", "clear text", "clear tex"},
};

static void test_known_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		enum auth_scheme scheme;
		const char *hash, *err;
		assert_int_equal(auth_hash_parse(v->stored, &scheme, &hash, &err), 0);
		if (!auth_scheme_supported(scheme))
			continue; /* e.g. a libxcrypt built without yescrypt */
		assert_int_equal(auth_hash_verify(v->good, strlen(v->good), v->stored), 1);
		assert_int_equal(auth_hash_verify(v->bad, strlen(v->bad), v->stored), 0);
	}
}

static void test_scheme_mismatch_and_garbage(void **state)
{
	(void)state;
	enum auth_scheme scheme;
	const char *hash, *err;
	/* A SHA256 hash labelled SHA512 is refused, not checked as something else. */
	assert_int_equal(
	    auth_hash_parse("{SHA512-CRYPT}$5$saltsalt$0IyaXrmV7.sGNS6ti", &scheme, &hash, &err),
	    -1);
	assert_int_equal(auth_hash_parse("{MD4}abc", &scheme, &hash, &err), -1);
	assert_int_equal(auth_hash_parse("{SHA512-CRYPT", &scheme, &hash, &err), -1);
	assert_int_equal(auth_hash_parse("{sha512-crypt}$6$x$y", &scheme, &hash, &err), 0);
	assert_int_equal(scheme, AUTH_SCHEME_SHA512_CRYPT);
	/* Locked markers and malformed settings never match. */
	assert_int_equal(auth_hash_verify("", 0, "!"), 0);
	assert_int_equal(auth_hash_verify("x", 1, "*"), 0);
	assert_int_equal(auth_hash_verify("secret", 6, "{SHA512-CRYPT}$6$"), 0);
	/* A NUL inside the password never matches its prefix. */
	assert_int_equal(auth_hash_verify("clear text\0x", 12, "{PLAIN}clear text"), 0);
	assert_int_equal(auth_hash_verify("Hello world!\0", 13, vectors[1].stored), 0);
}

static void test_make_and_verify(void **state)
{
	(void)state;
	const enum auth_scheme schemes[] = {AUTH_SCHEME_SHA512_CRYPT, AUTH_SCHEME_SHA256_CRYPT,
	                                    AUTH_SCHEME_BLF_CRYPT, AUTH_SCHEME_YESCRYPT,
	                                    AUTH_SCHEME_PLAIN};
	const char *prefixes[] = {"{SHA512-CRYPT}$6$", "{SHA256-CRYPT}$5$", "{BLF-CRYPT}$2y$",
	                          "{YESCRYPT}$y$", "{PLAIN}pässword"};
	assert_true(auth_scheme_supported(AUTH_SCHEME_SHA512_CRYPT));
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (!auth_scheme_supported(schemes[i]))
			continue;
		struct buf a, b;
		const char *err = NULL;
		buf_init(&a, 0);
		buf_init(&b, 0);
		assert_int_equal(auth_hash_make(schemes[i], "pässword", &a, &err), 0);
		assert_int_equal(auth_hash_make(schemes[i], "pässword", &b, &err), 0);
		assert_memory_equal(a.data, prefixes[i], strlen(prefixes[i]));
		if (schemes[i] != AUTH_SCHEME_PLAIN)
			assert_string_not_equal(a.data, b.data); /* fresh salt each time */
		assert_int_equal(auth_hash_verify("pässword", strlen("pässword"), a.data), 1);
		assert_int_equal(auth_hash_verify("password", 8, a.data), 0);
		buf_free(&a);
		buf_free(&b);
	}
	struct buf c;
	const char *err = NULL;
	buf_init(&c, 0);
	assert_int_equal(auth_hash_make(AUTH_SCHEME_CRYPT, "x", &c, &err), -1);
	assert_non_null(err);
	buf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_vectors),
	    cmocka_unit_test(test_scheme_mismatch_and_garbage),
	    cmocka_unit_test(test_make_and_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
