/* test-auth-sasl.c: SASL PLAIN and LOGIN decoding (with and without an
 * initial response, invalid base64, malformed PLAIN messages, authzid) and
 * the user name format (%Lu, %n, %d, default domain). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth-sasl.h"
#include "base64.h"

static char *enc(const char *p, size_t len)
{
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(base64_encode(&b, p, len), 0);
	return b.data != NULL ? buf_steal(&b) : strdup("");
}

static void test_plain_decode(void **state)
{
	(void)state;
	struct sasl_plain pl;
	const char *err = NULL;
	assert_int_equal(sasl_plain_decode("\0alice\0pw", 9, &pl, &err), 0);
	assert_int_equal(pl.authzid_len, 0);
	assert_int_equal(pl.authcid_len, 5);
	assert_memory_equal(pl.authcid, "alice", 5);
	assert_int_equal(pl.passwd_len, 2);
	assert_int_equal(sasl_plain_decode("admin\0alice\0pw", 14, &pl, &err), 0);
	assert_memory_equal(pl.authzid, "admin", 5);
	/* Malformed: no NUL, one NUL, three NULs, empty user, empty password. */
	assert_int_equal(sasl_plain_decode("alicepw", 7, &pl, &err), -1);
	assert_int_equal(sasl_plain_decode("alice\0pw", 8, &pl, &err), -1);
	assert_int_equal(sasl_plain_decode("\0alice\0p\0w", 10, &pl, &err), -1);
	assert_int_equal(sasl_plain_decode("\0\0pw", 4, &pl, &err), -1);
	assert_int_equal(sasl_plain_decode("\0alice\0", 7, &pl, &err), -1);
	assert_int_equal(sasl_plain_decode("", 0, &pl, &err), -1);
	char big[SASL_MAX_USER + 10];
	memset(big, 'u', sizeof(big));
	big[0] = '\0';
	big[sizeof(big) - 3] = '\0';
	assert_int_equal(sasl_plain_decode(big, sizeof(big), &pl, &err), -1);
	assert_non_null(err);
}

static void test_plain_with_initial_response(void **state)
{
	(void)state;
	struct sasl_state s;
	struct buf ch;
	const char *err = NULL;
	char *ir = enc("alice\0alice\0s3cret", 18);
	buf_init(&ch, 0);
	sasl_init(&s, SASL_MECH_PLAIN);
	assert_int_equal(sasl_start(&s, ir, strlen(ir), &ch, &err), SASL_DONE);
	assert_string_equal(s.user.data, "alice");
	assert_string_equal(s.authzid.data, "alice");
	assert_string_equal(s.pass.data, "s3cret");
	/* No more responses accepted once done. */
	assert_int_equal(sasl_continue(&s, ir, strlen(ir), &ch, &err), SASL_ERROR);
	sasl_clear(&s);
	buf_free(&ch);
	free(ir);
}

static void test_plain_without_initial_response(void **state)
{
	(void)state;
	struct sasl_state s;
	struct buf ch;
	const char *err = NULL;
	buf_init(&ch, 0);
	sasl_init(&s, SASL_MECH_PLAIN);
	assert_int_equal(sasl_start(&s, NULL, 0, &ch, &err), SASL_CONTINUE);
	assert_int_equal(ch.len, 0); /* empty challenge */
	char *r = enc("\0bob\0pw", 7);
	assert_int_equal(sasl_continue(&s, r, strlen(r), &ch, &err), SASL_DONE);
	assert_string_equal(s.user.data, "bob");
	assert_int_equal(s.authzid.len, 0);
	sasl_clear(&s);
	/* Invalid base64 and an empty initial response are errors. */
	sasl_init(&s, SASL_MECH_PLAIN);
	assert_int_equal(sasl_start(&s, "AB=C", 4, &ch, &err), SASL_ERROR);
	assert_string_equal(err, "invalid base64 in SASL response");
	sasl_clear(&s);
	sasl_init(&s, SASL_MECH_PLAIN);
	assert_int_equal(sasl_start(&s, "", 0, &ch, &err), SASL_ERROR);
	sasl_clear(&s);
	sasl_init(&s, SASL_MECH_PLAIN);
	assert_int_equal(sasl_start(&s, "Zm9v\n", 5, &ch, &err), SASL_ERROR);
	sasl_clear(&s);
	buf_free(&ch);
	free(r);
}

static void test_login(void **state)
{
	(void)state;
	struct sasl_state s;
	struct buf ch;
	const char *err = NULL;
	buf_init(&ch, 0);
	sasl_init(&s, SASL_MECH_LOGIN);
	assert_int_equal(sasl_start(&s, NULL, 0, &ch, &err), SASL_CONTINUE);
	assert_string_equal(ch.data, "VXNlcm5hbWU6"); /* "Username:" */
	buf_reset(&ch);
	assert_int_equal(sasl_continue(&s, "Y2Fyb2w=", 8, &ch, &err), SASL_CONTINUE);
	assert_string_equal(ch.data, "UGFzc3dvcmQ6"); /* "Password:" */
	buf_reset(&ch);
	assert_int_equal(sasl_continue(&s, "cHc=", 4, &ch, &err), SASL_DONE);
	assert_string_equal(s.user.data, "carol");
	assert_string_equal(s.pass.data, "pw");
	sasl_clear(&s);
	/* Initial response = the user name. */
	sasl_init(&s, SASL_MECH_LOGIN);
	assert_int_equal(sasl_start(&s, "Y2Fyb2w=", 8, &ch, &err), SASL_CONTINUE);
	assert_int_equal(sasl_continue(&s, "cHc=", 4, &ch, &err), SASL_DONE);
	assert_string_equal(s.user.data, "carol");
	sasl_clear(&s);
	/* A NUL in the user name, an empty password, bad base64. */
	sasl_init(&s, SASL_MECH_LOGIN);
	assert_int_equal(sasl_start(&s, "YQBi", 4, &ch, &err), SASL_ERROR);
	sasl_clear(&s);
	sasl_init(&s, SASL_MECH_LOGIN);
	assert_int_equal(sasl_start(&s, "YQ==", 4, &ch, &err), SASL_CONTINUE);
	assert_int_equal(sasl_continue(&s, "", 0, &ch, &err), SASL_ERROR);
	sasl_clear(&s);
	sasl_init(&s, SASL_MECH_LOGIN);
	assert_int_equal(sasl_start(&s, "Y2Fyb2w", 7, &ch, &err), SASL_ERROR);
	sasl_clear(&s);
	buf_free(&ch);
}

static void test_mech_names(void **state)
{
	(void)state;
	enum sasl_mech m;
	assert_int_equal(sasl_mech_parse("plain", 5, &m), 0);
	assert_int_equal(m, SASL_MECH_PLAIN);
	assert_int_equal(sasl_mech_parse("LOGIN", 5, &m), 0);
	assert_int_equal(m, SASL_MECH_LOGIN);
	assert_int_equal(sasl_mech_parse("CRAM-MD5", 8, &m), -1);
	assert_int_equal(sasl_mech_parse("PLAINX", 6, &m), -1);
	assert_true(sasl_mech_plaintext(SASL_MECH_PLAIN));
}

static void check_fmt(const char *fmt, const char *name, const char *dom, const char *want)
{
	struct buf b;
	const char *err = NULL;
	buf_init(&b, SASL_MAX_USER);
	int rc = auth_username_format(fmt, name, strlen(name), dom, &b, &err);
	if (want == NULL) {
		assert_int_equal(rc, -1);
		assert_non_null(err);
	} else {
		assert_int_equal(rc, 0);
		assert_string_equal(b.data, want);
	}
	buf_free(&b);
}

static void test_username_format(void **state)
{
	(void)state;
	check_fmt("%Lu", "Alice", "", "alice");
	check_fmt("%Lu", "Alice@Example.ORG", "", "alice@example.org");
	check_fmt("%Lu", "alice", "example.org", "alice@example.org");
	check_fmt("%u", "Alice", "Example.org", "Alice@Example.org");
	check_fmt("%Ln", "Alice@Example.org", "", "alice");
	check_fmt("%n", "alice", "example.org", "alice");
	check_fmt("%Ld", "a@B.c", "", "b.c");
	check_fmt("%n+x@%d %%", "a@b", "", "a+x@b %");
	check_fmt("%x", "a", "", NULL);
	check_fmt("%", "a", "", NULL);
	check_fmt("%L%", "a", "", NULL);
	check_fmt("%Lu", "", "", NULL);
	check_fmt("%Lu", "a\tb", "", NULL);
	check_fmt("%d", "alice", "", NULL); /* formats to nothing */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_decode),
	    cmocka_unit_test(test_plain_with_initial_response),
	    cmocka_unit_test(test_plain_without_initial_response),
	    cmocka_unit_test(test_login),
	    cmocka_unit_test(test_mech_names),
	    cmocka_unit_test(test_username_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
