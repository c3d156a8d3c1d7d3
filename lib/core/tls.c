/* tls.c: OpenSSL 3 server and client contexts with Loft's defaults (TLS 1.2
 * floor, no compression or renegotiation, forward-secret AEAD ciphers for 1.2)
 * and the key-file permission check. Every failure comes back as text. */
#include "tls.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* TLS 1.2 suites: ECDHE/DHE key exchange and AEAD only (Mozilla's
 * "intermediate" list). TLS 1.3 suites keep OpenSSL's defaults. */
#define TLS_CIPHERS_12                                                                             \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                               \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

void tls_errors(char *err, size_t errlen)
{
	size_t used = 0;
	unsigned long e;

	if (err == NULL || errlen == 0) {
		ERR_clear_error();
		return;
	}
	err[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[256];
		int n;

		ERR_error_string_n(e, one, sizeof(one));
		if (used >= errlen - 1)
			continue; /* keep draining so the queue ends empty */
		n = snprintf(err + used, errlen - used, "%s%s", used > 0 ? "; " : "", one);
		used = n < 0 ? errlen - 1 : used + (size_t)n;
		if (used >= errlen)
			used = errlen - 1;
	}
	if (used == 0)
		snprintf(err, errlen, "no OpenSSL error recorded");
}

/* "<what>: <OpenSSL error queue>" into err; always returns NULL. */
static SSL_CTX *fail_ssl(SSL_CTX *ctx, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static SSL_CTX *fail_ssl(SSL_CTX *ctx, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	SSL_CTX_free(ctx);
	if (err == NULL || errlen == 0) {
		ERR_clear_error();
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	used = strlen(err);
	if (ERR_peek_error() != 0 && used + 2 < errlen) {
		err[used++] = ':';
		err[used++] = ' ';
		tls_errors(err + used, errlen - used);
	} else {
		ERR_clear_error();
	}
	return NULL;
}

int tls_check_key_file(const char *path, char *err, size_t errlen)
{
	struct stat st;

	/* stat, not lstat: Debian's ssl-cert layout links keys into place. */
	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "no key file configured (ssl_key)");
		return -1;
	}
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key file %s is not a regular file", path);
		return -1;
	}
	if ((st.st_mode & 007) != 0) {
		snprintf(err, errlen,
		         "key file %s has mode %04o, readable or writable by others; "
		         "run: chmod 600 %s",
		         path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

static int parse_min_proto(const char *min_proto, int *version_r)
{
	if (min_proto == NULL || strcmp(min_proto, "TLSv1.2") == 0)
		*version_r = TLS1_2_VERSION;
	else if (strcmp(min_proto, "TLSv1.3") == 0)
		*version_r = TLS1_3_VERSION;
	else
		return -1;
	return 0;
}

/* Options both sides share: no compression (CRIME), no renegotiation. */
static SSL_CTX *ctx_common(const SSL_METHOD *method, int min_version, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (ctx == NULL)
		return fail_ssl(NULL, err, errlen, "SSL_CTX_new");
	if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1)
		return fail_ssl(ctx, err, errlen, "setting the minimum TLS version");
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1)
		return fail_ssl(ctx, err, errlen, "setting the TLS 1.2 cipher list");
	return ctx;
}

/* Append every certificate of a PEM file to the chain of the certificate
 * already loaded, after any chain that came with it in the cert file. */
static int add_chain_file(SSL_CTX *ctx, const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;
	int count = 0;

	if (bio == NULL)
		return -1;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			BIO_free(bio);
			return -1;
		}
		count++;
	}
	BIO_free(bio);
	/* PEM_read_bio_X509 ends every file with a "no start line" error. */
	if (count > 0 && ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE)
		ERR_clear_error();
	return count > 0 && ERR_peek_error() == 0 ? 0 : -1;
}

SSL_CTX *tls_server_ctx_new(const char *cert, const char *key, const char *ca_chain,
                            const char *min_proto, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	int min_version;

	ERR_clear_error();
	if (parse_min_proto(min_proto, &min_version) < 0)
		return fail_ssl(NULL, err, errlen,
		                "ssl_min_protocol %s not supported (use TLSv1.2 or TLSv1.3)",
		                min_proto);
	if (cert == NULL || *cert == '\0')
		return fail_ssl(NULL, err, errlen, "no certificate file configured (ssl_cert)");
	if (tls_check_key_file(key, err, errlen) < 0)
		return NULL;
	ctx = ctx_common(TLS_server_method(), min_version, err, errlen);
	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Built-in DH groups sized to the certificate for the DHE suites. */
	SSL_CTX_set_dh_auto(ctx, 1);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return fail_ssl(ctx, err, errlen, "loading certificate %s", cert);
	if (ca_chain != NULL && *ca_chain != '\0' && add_chain_file(ctx, ca_chain) < 0)
		return fail_ssl(ctx, err, errlen, "loading certificate chain %s", ca_chain);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		/* OpenSSL checks the pair while loading; say so in plain words. */
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
			return fail_ssl(ctx, err, errlen,
			                "private key %s does not match certificate %s", key, cert);
		return fail_ssl(ctx, err, errlen, "loading private key %s", key);
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
		return fail_ssl(ctx, err, errlen, "private key %s does not match certificate %s",
		                key, cert);
	return ctx;
}

SSL_CTX *tls_client_ctx_new(const char *ca_file, bool verify, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	ctx = ctx_common(TLS_client_method(), TLS1_2_VERSION, err, errlen);
	if (ctx == NULL)
		return NULL;
	if (!verify) {
		/* Opportunistic TLS (SMTP relay): encrypt, but accept any peer. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL && *ca_file != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
			return fail_ssl(ctx, err, errlen, "loading CA file %s", ca_file);
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		return fail_ssl(ctx, err, errlen, "loading the system CA store");
	}
	return ctx;
}
