/* smtpd-tls.c: TLS for loft-smtpd: the server context (lib/core/tls.h), loaded
 * before the privilege drop because the key is not readable afterwards, and
 * the blocking server handshake of a connection child (implicit TLS on 465,
 * STARTTLS on 25/587), recording protocol and cipher for Received. */
#include <stdio.h>
#include <string.h>

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

int smtpd_tls_accept(struct smtpd_io *io, SSL_CTX *sctx, char *err, size_t errlen)
{
	ERR_clear_error();
	io->ssl = SSL_new(sctx);
	if (io->ssl == NULL || SSL_set_fd(io->ssl, io->fd) != 1) {
		tls_errors(err, errlen);
		return -1;
	}
	int r = SSL_accept(io->ssl);
	if (r != 1) {
		int e = SSL_get_error(io->ssl, r);
		if (e == SSL_ERROR_SSL)
			tls_errors(err, errlen);
		else
			snprintf(err, errlen, "handshake aborted or timed out");
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
