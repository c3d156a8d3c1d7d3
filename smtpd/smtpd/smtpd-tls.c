/* smtpd-tls.c: TLS for loft-smtpd: the server context (lib/core/tls.h), loaded
 * before the privilege drop because the key is not readable afterwards, and
 * the server handshake of a connection child (implicit TLS on 465, STARTTLS
 * on 25/587) under one deadline (ssl_handshake_timeout), recording protocol
 * and cipher for Received. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "smtpd-private.h"
#include "tls.h"

int smtpd_tls_load(struct smtpd_ctx *ctx, char *err, size_t errlen)
{
	if (strcmp(config_str(ctx->cfg, "ssl"), "no") == 0)
		return 0;
	const char *key = config_str(ctx->cfg, "ssl_key");
	const char *chain = config_str(ctx->cfg, "ssl_cert_chain");
	if (tls_check_key_file(key, err, errlen) < 0)
		return -1;
	ctx->ssl_ctx = tls_server_ctx_new(config_str(ctx->cfg, "ssl_cert"), key,
	                                  chain[0] != '\0' ? chain : NULL,
	                                  config_str(ctx->cfg, "ssl_min_protocol"), err, errlen);
	return ctx->ssl_ctx != NULL ? 0 : -1;
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SSL_accept on a non-blocking socket, polled against one deadline: a
 * client trickling a byte at a time would reset any per-read timeout and
 * hold its connection slot for ever. 1 done, 0 timed out, -1 failed (*e_r:
 * the SSL error). The socket is blocking again afterwards. */
static int accept_by_deadline(SSL *ssl, int fd, int timeout_ms, int *e_r)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		*e_r = SSL_ERROR_SYSCALL;
		return -1;
	}
	long long deadline = mono_ms() + timeout_ms;
	int rc;
	for (;;) {
		ERR_clear_error();
		int r = SSL_accept(ssl);
		if (r == 1) {
			rc = 1;
			break;
		}
		int e = SSL_get_error(ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			*e_r = e;
			rc = -1;
			break;
		}
		long long left = deadline - mono_ms();
		struct pollfd p = {.fd = fd, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
		int n = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n == 0 ? 0 : -1;
			*e_r = SSL_ERROR_SYSCALL;
			break;
		}
	}
	(void)fcntl(fd, F_SETFL, fl);
	return rc;
}

int smtpd_tls_accept(struct smtpd_io *io, SSL_CTX *sctx, int handshake_ms, char *err, size_t errlen)
{
	ERR_clear_error();
	io->ssl = SSL_new(sctx);
	if (io->ssl == NULL || SSL_set_fd(io->ssl, io->fd) != 1) {
		tls_errors(err, errlen);
		return -1;
	}
	int e = SSL_ERROR_NONE;
	int r = accept_by_deadline(io->ssl, io->fd, handshake_ms, &e);
	if (r != 1) {
		if (r == 0)
			snprintf(err, errlen, "handshake timed out after %d ms", handshake_ms);
		else if (e == SSL_ERROR_SSL)
			tls_errors(err, errlen);
		else
			snprintf(err, errlen, "handshake aborted");
		SSL_free(io->ssl); /* no close_notify on a failed handshake */
		io->ssl = NULL;
		return -1;
	}
	snprintf(io->proto, sizeof(io->proto), "%s", SSL_get_version(io->ssl));
	const SSL_CIPHER *c = SSL_get_current_cipher(io->ssl);
	snprintf(io->cipher, sizeof(io->cipher), "%s", c != NULL ? SSL_CIPHER_get_name(c) : "");
	io->bits = c != NULL ? SSL_CIPHER_get_bits(c, NULL) : 0;
	return 0;
}
