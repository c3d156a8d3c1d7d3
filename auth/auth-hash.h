/* auth-hash.h: password schemes for passwd-file ({SHA512-CRYPT}, {SHA256-CRYPT},
 * {BLF-CRYPT}, {YESCRYPT}, {CRYPT}, {PLAIN}) through libxcrypt's crypt_r:
 * verification with a constant-time compare, and hashing for `loft pw`. */
#ifndef LOFT_AUTH_HASH_H
#define LOFT_AUTH_HASH_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum auth_scheme {
	AUTH_SCHEME_CRYPT, /* any crypt(3) hash; the default without {SCHEME} */
	AUTH_SCHEME_SHA512_CRYPT,
	AUTH_SCHEME_SHA256_CRYPT,
	AUTH_SCHEME_BLF_CRYPT,
	AUTH_SCHEME_YESCRYPT,
	AUTH_SCHEME_PLAIN,
};

/* Scheme by name (case-insensitive, p[0..len)). 0 or -1 for an unknown name. */
int auth_scheme_parse(const char *p, size_t len, enum auth_scheme *scheme_r);
const char *auth_scheme_name(enum auth_scheme scheme);
/* Whether this libxcrypt can make and check hashes of the scheme. */
bool auth_scheme_supported(enum auth_scheme scheme);

/* Split a stored password "{SCHEME}rest" (or "rest" = CRYPT) and check that rest
 * has the form the scheme needs. 0, or -1 with *err_r set to a static message.
 * Pure. */
int auth_hash_parse(const char *stored, enum auth_scheme *scheme_r, const char **hash_r,
                    const char **err_r);

/* Check password pw[0..pwlen) against a stored password. 1 = match,
 * 0 = mismatch (also for a malformed stored value or a NUL in pw). The final
 * comparison is constant-time. */
int auth_hash_verify(const char *pw, size_t pwlen, const char *stored);

/* Spend about the time a verification of an unknown user's password would
 * take, so replies do not reveal whether a user exists. */
void auth_hash_dummy(const char *pw, size_t pwlen);

/* Hash pw with a fresh random salt and append "{SCHEME}hash" to out.
 * 0, or -1 with *err_r set (static message). */
int auth_hash_make(enum auth_scheme scheme, const char *pw, struct buf *out, const char **err_r);

#endif
