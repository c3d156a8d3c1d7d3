/* auth-hash.c: password scheme handling over libxcrypt's crypt_r. Stored
 * hashes are checked by recomputing with the stored setting and comparing the
 * whole output with CRYPTO_memcmp; PLAIN compares SHA-256 digests so that
 * neither content nor length leaks through timing. */
#include "auth-hash.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

struct scheme_info {
	enum auth_scheme scheme;
	const char *name;
	const char *prefix; /* crypt setting prefix; NULL = none required */
};

static const struct scheme_info schemes[] = {
    {AUTH_SCHEME_CRYPT, "CRYPT", NULL},
    {AUTH_SCHEME_SHA512_CRYPT, "SHA512-CRYPT", "$6$"},
    {AUTH_SCHEME_SHA256_CRYPT, "SHA256-CRYPT", "$5$"},
    {AUTH_SCHEME_BLF_CRYPT, "BLF-CRYPT", "$2"},
    {AUTH_SCHEME_YESCRYPT, "YESCRYPT", "$y$"},
    {AUTH_SCHEME_PLAIN, "PLAIN", NULL},
};

/* A SHA512-CRYPT setting (salt only, so nothing can match it): hashing with
 * it burns the time a known user's check takes. */
static const char dummy_hash[] = "$6$Lq6cVdq9P1x8r0aN$";

static const struct scheme_info *scheme_find(enum auth_scheme scheme)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i].scheme == scheme)
			return &schemes[i];
	return &schemes[0];
}

int auth_scheme_parse(const char *p, size_t len, enum auth_scheme *scheme_r)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strlen(schemes[i].name) == len && strncasecmp(schemes[i].name, p, len) == 0) {
			*scheme_r = schemes[i].scheme;
			return 0;
		}
	}
	return -1;
}

const char *auth_scheme_name(enum auth_scheme scheme)
{
	return scheme_find(scheme)->name;
}

/* The crypt_gensalt prefix used to make new hashes of a scheme. */
static const char *scheme_gensalt_prefix(enum auth_scheme scheme)
{
	switch (scheme) {
	case AUTH_SCHEME_SHA512_CRYPT:
		return "$6$";
	case AUTH_SCHEME_SHA256_CRYPT:
		return "$5$";
	case AUTH_SCHEME_BLF_CRYPT:
		return "$2y$"; /* what doveadm pw writes */
	case AUTH_SCHEME_YESCRYPT:
		return "$y$";
	default:
		return NULL;
	}
}

bool auth_scheme_supported(enum auth_scheme scheme)
{
	if (scheme == AUTH_SCHEME_PLAIN || scheme == AUTH_SCHEME_CRYPT)
		return true;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	return crypt_gensalt_rn(scheme_gensalt_prefix(scheme), 0, NULL, 0, setting,
	                        sizeof(setting)) != NULL;
}

int auth_hash_parse(const char *stored, enum auth_scheme *scheme_r, const char **hash_r,
                    const char **err_r)
{
	const char *hash = stored;
	enum auth_scheme scheme = AUTH_SCHEME_CRYPT;
	if (stored[0] == '{') {
		const char *end = strchr(stored, '}');
		if (end == NULL) {
			*err_r = "unterminated {SCHEME}";
			return -1;
		}
		if (auth_scheme_parse(stored + 1, (size_t)(end - stored - 1), &scheme) < 0) {
			*err_r = "unknown password scheme";
			return -1;
		}
		hash = end + 1;
	}
	const char *prefix = scheme_find(scheme)->prefix;
	if (scheme != AUTH_SCHEME_PLAIN) {
		/* Reject hashes crypt(3) would read as something else (DES, or a
		 * "*"/"!" lock marker is fine: it matches nothing). */
		if (prefix != NULL && strncmp(hash, prefix, strlen(prefix)) != 0) {
			*err_r = "hash does not match its {SCHEME}";
			return -1;
		}
		if (strchr(hash, ':') != NULL || hash[0] == '\0') {
			*err_r = "empty or malformed hash";
			return -1;
		}
	}
	*scheme_r = scheme;
	*hash_r = hash;
	return 0;
}

static int plain_verify(const char *pw, size_t pwlen, const char *plain)
{
	unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)pw, pwlen, a);
	SHA256((const unsigned char *)plain, strlen(plain), b);
	int ok = CRYPTO_memcmp(a, b, sizeof(a)) == 0;
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	return ok;
}

/* Run crypt_r(pw, setting); 1 when the output equals hash, else 0. */
static int crypt_verify(const char *pw, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return 0;
	int ok = 0;
	const char *out = crypt_r(pw, hash, cd);
	/* libxcrypt returns "*0"/"*1" (or NULL) for an invalid setting. */
	if (out != NULL && out[0] != '*') {
		size_t n = strlen(out);
		ok = n == strlen(hash) && CRYPTO_memcmp(out, hash, n) == 0;
	}
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ok;
}

int auth_hash_verify(const char *pw, size_t pwlen, const char *stored)
{
	enum auth_scheme scheme;
	const char *hash, *err;
	if (memchr(pw, '\0', pwlen) != NULL)
		return 0;
	if (auth_hash_parse(stored, &scheme, &hash, &err) < 0)
		return 0;
	if (scheme == AUTH_SCHEME_PLAIN)
		return plain_verify(pw, pwlen, hash);
	/* crypt_r needs a C string: pw has no NUL inside, so a copy suffices. */
	char *cpw = malloc(pwlen + 1);
	if (cpw == NULL)
		return 0;
	memcpy(cpw, pw, pwlen);
	cpw[pwlen] = '\0';
	int ok = crypt_verify(cpw, hash);
	OPENSSL_cleanse(cpw, pwlen);
	free(cpw);
	return ok;
}

void auth_hash_dummy(const char *pw, size_t pwlen)
{
	(void)auth_hash_verify(pw, pwlen, dummy_hash);
}

int auth_hash_make(enum auth_scheme scheme, const char *pw, struct buf *out, const char **err_r)
{
	if (scheme == AUTH_SCHEME_PLAIN) {
		if (buf_printf(out, "{PLAIN}%s", pw) < 0) {
			*err_r = "out of memory";
			return -1;
		}
		return 0;
	}
	const char *prefix = scheme_gensalt_prefix(scheme);
	if (prefix == NULL) {
		*err_r = "scheme cannot make new hashes";
		return -1;
	}
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	/* NULL random bytes: libxcrypt draws its own from the kernel. */
	if (crypt_gensalt_rn(prefix, 0, NULL, 0, setting, sizeof(setting)) == NULL) {
		*err_r = "scheme not supported by this libcrypt";
		return -1;
	}
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (cd == NULL) {
		*err_r = "out of memory";
		return -1;
	}
	const char *h = crypt_r(pw, setting, cd);
	int rc = -1;
	if (h == NULL || h[0] == '*')
		*err_r = "crypt failed";
	else if (buf_printf(out, "{%s}%s", auth_scheme_name(scheme), h) < 0)
		*err_r = "out of memory";
	else
		rc = 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return rc;
}
