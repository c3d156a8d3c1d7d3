/* fuzz-sasl.c: libFuzzer target for SASL decoding: the first byte picks the
 * mechanism and whether there is an initial response; the rest, split at
 * LF, are base64 responses fed to the state machine. Also runs the raw
 * bytes through base64_decode, sasl_plain_decode and the user name format. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth-sasl.h"
#include "base64.h"

static void fuzz_exchange(const char *p, size_t len, uint8_t mode)
{
	struct sasl_state s;
	struct buf ch;
	const char *err = NULL;
	sasl_init(&s, (mode & 1) ? SASL_MECH_LOGIN : SASL_MECH_PLAIN);
	buf_init(&ch, 1024);
	size_t pos = 0;
	const char *nl = memchr(p, '\n', len);
	size_t first = nl != NULL ? (size_t)(nl - p) : len;
	enum sasl_status st;
	if (mode & 2) {
		st = sasl_start(&s, p, first, &ch, &err);
		pos = first + 1;
	} else {
		st = sasl_start(&s, NULL, 0, &ch, &err);
	}
	while (st == SASL_CONTINUE && pos <= len) {
		nl = memchr(p + pos, '\n', len - pos);
		size_t l = nl != NULL ? (size_t)(nl - (p + pos)) : len - pos;
		buf_reset(&ch);
		st = sasl_continue(&s, p + pos, l, &ch, &err);
		pos += l + 1;
	}
	if (st == SASL_DONE &&
	    (s.user.len == 0 || s.user.len > SASL_MAX_USER || s.pass.len > SASL_MAX_PASS))
		abort();
	if (st == SASL_ERROR && err == NULL)
		abort();
	sasl_clear(&s);
	buf_free(&ch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *p = (const char *)data + 1;
	size_t len = size - 1;
	fuzz_exchange(p, len, data[0]);

	unsigned char *out = malloc(BASE64_DECODED_MAX(len) + 1);
	size_t n;
	if (out != NULL && base64_decode(p, len, out, &n) == 0) {
		/* A successful decode re-encodes to exactly the input. */
		struct buf b;
		buf_init(&b, 0);
		if (base64_encode(&b, out, n) < 0 || b.len != len ||
		    (len > 0 && memcmp(b.data, p, len) != 0))
			abort();
		buf_free(&b);
	}
	free(out);

	struct sasl_plain pl;
	const char *err;
	if (sasl_plain_decode(p, len, &pl, &err) == 0 &&
	    (pl.authcid_len == 0 || pl.passwd_len == 0 ||
	     pl.authzid_len + pl.authcid_len + pl.passwd_len + 2 != len))
		abort();

	struct buf u;
	buf_init(&u, SASL_MAX_USER);
	(void)auth_username_format((data[0] & 4) ? "%Ln@%d" : "%Lu", p, len,
	                           (data[0] & 8) ? "example.org" : "", &u, &err);
	buf_free(&u);
	return 0;
}
