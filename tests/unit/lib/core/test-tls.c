/* test-tls.c: lib/core/tls.c contexts doing real handshakes. Certificates are made
 * here with the OpenSSL 3 API in a temp dir; server and client talk over an
 * AF_UNIX socketpair, the server side in a thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tls.h"

struct fixture {
	char dir[64];
	EVP_PKEY *ca_key, *leaf_key, *other_key;
	X509 *ca, *leaf, *self;  /* self: self-signed "localhost" */
	char path[32][PATH_MAX]; /* every file written, for cleanup */
	int npaths;
};

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A certificate for cn with key, signed by issuer/issuer_key (NULL: itself). */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                       bool is_ca, long serial)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	if (is_ca) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		char san[128];

		snprintf(san, sizeof(san), "DNS:%s", cn);
		add_ext(x, issuer != NULL ? issuer : x, NID_subject_alt_name, san);
	}
	assert_true(X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static const char *fx_path(struct fixture *fx, const char *name)
{
	char *p = fx->path[fx->npaths++];
	char tmp[PATH_MAX];

	/* via tmp: gcc -O2 -Wrestrict cannot tell p and fx->dir apart */
	snprintf(tmp, sizeof(tmp), "%s/%s", fx->dir, name);
	memcpy(p, tmp, strlen(tmp) + 1);
	return p;
}

/* Write certs (and/or a key) as PEM into dir/name with mode. */
static const char *write_pem(struct fixture *fx, const char *name, X509 *c1, X509 *c2,
                             EVP_PKEY *key, mode_t mode)
{
	const char *p = fx_path(fx, name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	if (c1 != NULL)
		assert_int_equal(PEM_write_X509(f, c1), 1);
	if (c2 != NULL)
		assert_int_equal(PEM_write_X509(f, c2), 1);
	if (key != NULL)
		assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char tmpl[] = "/tmp/loft-tls-XXXXXX";

	if (fx == NULL || mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "%s", tmpl);
	fx->ca_key = new_key();
	fx->leaf_key = new_key();
	fx->other_key = new_key();
	fx->ca = make_cert("Loft Test CA", fx->ca_key, NULL, NULL, true, 1);
	fx->leaf = make_cert("mail.test", fx->leaf_key, fx->ca, fx->ca_key, false, 2);
	fx->self = make_cert("localhost", fx->leaf_key, NULL, NULL, false, 3);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	for (int i = 0; i < fx->npaths; i++)
		unlink(fx->path[i]);
	rmdir(fx->dir);
	X509_free(fx->ca);
	X509_free(fx->leaf);
	X509_free(fx->self);
	EVP_PKEY_free(fx->ca_key);
	EVP_PKEY_free(fx->leaf_key);
	EVP_PKEY_free(fx->other_key);
	free(fx);
	return 0;
}

struct server_side {
	SSL_CTX *ctx;
	int fd;
	int accepted; /* SSL_accept result */
	char got[64]; /* what the client sent */
};

static void *server_thread(void *arg)
{
	struct server_side *s = arg;
	SSL *ssl = SSL_new(s->ctx);
	int n;

	SSL_set_fd(ssl, s->fd);
	s->accepted = SSL_accept(ssl);
	if (s->accepted == 1) {
		n = SSL_read(ssl, s->got, sizeof(s->got) - 1);
		if (n > 0) {
			s->got[n] = '\0';
			SSL_write(ssl, "pong from server", 16);
		}
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	ERR_clear_error();
	close(s->fd); /* a failed side closing lets the other see EOF */
	return NULL;
}

struct result {
	int connected;
	int version;
	int chain_len;
	char got[64];
	struct server_side srv;
};

/* One handshake + ping/pong between sctx and cctx; host: name to check. */
static void handshake(SSL_CTX *sctx, SSL_CTX *cctx, const char *host, struct result *r)
{
	int sv[2];
	pthread_t th;
	SSL *ssl;

	memset(r, 0, sizeof(*r));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r->srv.ctx = sctx;
	r->srv.fd = sv[1];
	assert_int_equal(pthread_create(&th, NULL, server_thread, &r->srv), 0);
	ssl = SSL_new(cctx);
	assert_non_null(ssl);
	SSL_set_fd(ssl, sv[0]);
	if (host != NULL) {
		assert_int_equal(SSL_set1_host(ssl, host), 1);
		SSL_set_tlsext_host_name(ssl, host);
	}
	r->connected = SSL_connect(ssl);
	if (r->connected == 1) {
		STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
		int n;

		r->version = SSL_version(ssl);
		r->chain_len = chain != NULL ? sk_X509_num(chain) : 0;
		assert_int_equal(SSL_write(ssl, "ping from client", 16), 16);
		n = SSL_read(ssl, r->got, sizeof(r->got) - 1);
		if (n > 0)
			r->got[n] = '\0';
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	ERR_clear_error();
	close(sv[0]);
	assert_int_equal(pthread_join(th, NULL), 0);
}

static SSL_CTX *server(const char *cert, const char *key, const char *chain, const char *minp)
{
	char err[1024] = "";
	SSL_CTX *ctx = tls_server_ctx_new(cert, key, chain, minp, err, sizeof(err));

	if (ctx == NULL)
		fail_msg("tls_server_ctx_new: %s", err);
	return ctx;
}

static SSL_CTX *client(const char *ca)
{
	char err[1024] = "";
	SSL_CTX *ctx = tls_client_ctx_new(ca, true, err, sizeof(err));

	if (ctx == NULL)
		fail_msg("tls_client_ctx_new: %s", err);
	return ctx;
}

static void test_self_signed_handshake(void **state)
{
	struct fixture *fx = *state;
	const char *cert = write_pem(fx, "self.pem", fx->self, NULL, NULL, 0644);
	const char *key = write_pem(fx, "self.key", NULL, NULL, fx->leaf_key, 0600);
	SSL_CTX *s = server(cert, key, NULL, NULL), *c = client(cert);
	struct result r;

	handshake(s, c, "localhost", &r);
	assert_int_equal(r.connected, 1);
	assert_int_equal(r.srv.accepted, 1);
	assert_true(r.version >= TLS1_2_VERSION);
	assert_string_equal(r.srv.got, "ping from client");
	assert_string_equal(r.got, "pong from server");
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}

static void test_client_checks_ca_and_host(void **state)
{
	struct fixture *fx = *state;
	const char *cert = write_pem(fx, "self2.pem", fx->self, NULL, NULL, 0644);
	const char *key = write_pem(fx, "self2.key", NULL, NULL, fx->leaf_key, 0600);
	const char *ca = write_pem(fx, "ca-only.pem", fx->ca, NULL, NULL, 0644);
	SSL_CTX *s = server(cert, key, NULL, NULL), *good = client(cert), *wrong = client(ca);
	struct result r;

	handshake(s, wrong, "localhost", &r); /* not signed by that CA */
	assert_int_not_equal(r.connected, 1);
	handshake(s, good, "mail.elsewhere", &r); /* right CA, wrong name */
	assert_int_not_equal(r.connected, 1);
	handshake(s, good, "localhost", &r);
	assert_int_equal(r.connected, 1);
	SSL_CTX_free(s);
	SSL_CTX_free(good);
	SSL_CTX_free(wrong);
}

static void test_old_client_refused(void **state)
{
	struct fixture *fx = *state;
	const char *cert = write_pem(fx, "old.pem", fx->self, NULL, NULL, 0644);
	const char *key = write_pem(fx, "old.key", NULL, NULL, fx->leaf_key, 0600);
	SSL_CTX *s = server(cert, key, NULL, NULL);
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());
	struct result r;

	/* A client that really offers TLS 1.0/1.1 only: the server must say no. */
	SSL_CTX_set_security_level(c, 0);
	assert_int_equal(SSL_CTX_set_min_proto_version(c, TLS1_VERSION), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(c, TLS1_1_VERSION), 1);
	SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	handshake(s, c, NULL, &r);
	assert_int_not_equal(r.connected, 1);
	assert_int_not_equal(r.srv.accepted, 1);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}

static void test_min_proto(void **state)
{
	struct fixture *fx = *state;
	const char *cert = write_pem(fx, "p.pem", fx->self, NULL, NULL, 0644);
	const char *key = write_pem(fx, "p.key", NULL, NULL, fx->leaf_key, 0600);
	SSL_CTX *s = server(cert, key, NULL, "TLSv1.3"), *c = client(cert);
	char err[1024] = "";
	struct result r;

	handshake(s, c, "localhost", &r);
	assert_int_equal(r.connected, 1);
	assert_int_equal(r.version, TLS1_3_VERSION);
	/* A client capped at 1.2 cannot reach a 1.3-only server. */
	assert_int_equal(SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION), 1);
	handshake(s, c, "localhost", &r);
	assert_int_not_equal(r.connected, 1);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
	assert_null(tls_server_ctx_new(cert, key, NULL, "TLSv1.1", err, sizeof(err)));
	assert_non_null(strstr(err, "TLSv1.1 not supported"));
	assert_null(tls_server_ctx_new(cert, key, NULL, "SSLv3", err, sizeof(err)));
}

static void test_key_mode(void **state)
{
	struct fixture *fx = *state;
	const char *cert = write_pem(fx, "m.pem", fx->self, NULL, NULL, 0644);
	const char *key = write_pem(fx, "m.key", NULL, NULL, fx->leaf_key, 0644);
	char err[1024] = "";
	SSL_CTX *ctx;

	assert_null(tls_server_ctx_new(cert, key, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "0644"));
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(tls_check_key_file(key, err, sizeof(err)), -1);
	assert_int_equal(chmod(key, 0640), 0);
	assert_int_equal(tls_check_key_file(key, err, sizeof(err)), 0);
	ctx = tls_server_ctx_new(cert, key, NULL, NULL, err, sizeof(err));
	assert_non_null(ctx);
	SSL_CTX_free(ctx);
	assert_int_equal(tls_check_key_file(fx->dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
}

static void test_bad_files(void **state)
{
	struct fixture *fx = *state;
	const char *cert = write_pem(fx, "b.pem", fx->self, NULL, NULL, 0644);
	const char *key = write_pem(fx, "b.key", NULL, NULL, fx->leaf_key, 0600);
	const char *other = write_pem(fx, "other.key", NULL, NULL, fx->other_key, 0600);
	char missing[PATH_MAX + 16], err[1024] = "";

	snprintf(missing, sizeof(missing), "%s/absent.pem", fx->dir);
	assert_null(tls_server_ctx_new(missing, key, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "loading certificate"));
	assert_non_null(strstr(err, missing));
	assert_null(tls_server_ctx_new(cert, missing, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
	assert_null(tls_server_ctx_new(cert, other, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "does not match"));
	assert_null(tls_server_ctx_new(cert, key, missing, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "chain"));
	assert_int_equal(ERR_peek_error(), 0); /* errors were drained into err */
}

static void test_chain_sent(void **state)
{
	struct fixture *fx = *state;
	const char *leaf = write_pem(fx, "leaf.pem", fx->leaf, NULL, NULL, 0644);
	const char *both = write_pem(fx, "fullchain.pem", fx->leaf, fx->ca, NULL, 0644);
	const char *ca = write_pem(fx, "ca.pem", fx->ca, NULL, NULL, 0644);
	const char *key = write_pem(fx, "leaf.key", NULL, NULL, fx->leaf_key, 0600);
	SSL_CTX *sep = server(leaf, key, ca, NULL), *one = server(both, key, NULL, NULL);
	SSL_CTX *alone = server(leaf, key, NULL, NULL), *c = client(ca);
	struct result r;

	handshake(sep, c, "mail.test", &r); /* chain from ssl_cert_chain */
	assert_int_equal(r.connected, 1);
	assert_int_equal(r.chain_len, 2);
	handshake(one, c, "mail.test", &r); /* chain after the leaf in ssl_cert */
	assert_int_equal(r.connected, 1);
	assert_int_equal(r.chain_len, 2);
	handshake(alone, c, "mail.test", &r); /* leaf only */
	assert_int_equal(r.connected, 1);
	assert_int_equal(r.chain_len, 1);
	SSL_CTX_free(sep);
	SSL_CTX_free(one);
	SSL_CTX_free(alone);
	SSL_CTX_free(c);
}

static void test_errors_text(void **state)
{
	char err[64];

	(void)state;
	tls_errors(err, sizeof(err));
	assert_string_equal(err, "no OpenSSL error recorded");
	ERR_raise(ERR_LIB_SSL, SSL_R_NO_CERTIFICATE_ASSIGNED);
	ERR_raise(ERR_LIB_SSL, SSL_R_NO_PRIVATE_KEY_ASSIGNED);
	tls_errors(err, sizeof(err)); /* truncated, but still drains all */
	assert_true(strlen(err) > 0 && strlen(err) < sizeof(err));
	assert_int_equal(ERR_peek_error(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_self_signed_handshake),
	    cmocka_unit_test(test_client_checks_ca_and_host),
	    cmocka_unit_test(test_old_client_refused),
	    cmocka_unit_test(test_min_proto),
	    cmocka_unit_test(test_key_mode),
	    cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_chain_sent),
	    cmocka_unit_test(test_errors_text),
	};

	/* A side that gives up closes its socket; the other must see EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
