/* smtpd-io.c: one client's blocking transport in a connection child: reads
 * and writes over the plain socket or its TLS session, each bounded by
 * smtpd_timeout (poll before a read, SO_SNDTIMEO/SO_RCVTIMEO as the net
 * for what happens inside OpenSSL). Nothing is buffered here, so no plain
 * text can survive a STARTTLS handshake in this layer. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <openssl/err.h>

#include "smtpd-private.h"

static int wait_readable(const struct smtpd_io *io)
{
	if (io->ssl != NULL && SSL_pending(io->ssl) > 0)
		return 1;
	struct pollfd p = {.fd = io->fd, .events = POLLIN};
	for (;;) {
		int n = poll(&p, 1, io->timeout_ms);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

ssize_t smtpd_io_read(struct smtpd_io *io, char *p, size_t len)
{
	int w = wait_readable(io);
	if (w == 0)
		return SMTPD_IO_TIMEOUT;
	if (w < 0)
		return SMTPD_IO_ERROR;
	if (io->ssl == NULL) {
		for (;;) {
			ssize_t n = read(io->fd, p, len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return SMTPD_IO_TIMEOUT;
			return n < 0 ? SMTPD_IO_ERROR : n;
		}
	}
	int cap = len > 65536 ? 65536 : (int)len;
	for (;;) {
		ERR_clear_error();
		errno = 0;
		int n = SSL_read(io->ssl, p, cap);
		if (n > 0)
			return n;
		int e = SSL_get_error(io->ssl, n);
		if (e == SSL_ERROR_ZERO_RETURN)
			return SMTPD_IO_EOF;
		if (e == SSL_ERROR_SYSCALL && errno == EINTR)
			continue;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
		    (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)))
			return SMTPD_IO_TIMEOUT; /* SO_RCVTIMEO inside a record */
		return e == SSL_ERROR_SYSCALL && errno == 0 ? SMTPD_IO_EOF : SMTPD_IO_ERROR;
	}
}

int smtpd_io_write(struct smtpd_io *io, const char *p, size_t len)
{
	while (len > 0) {
		size_t chunk = len > 65536 ? 65536 : len;
		ssize_t n;
		if (io->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			int r = SSL_write(io->ssl, p, (int)chunk);
			if (r <= 0) {
				int e = SSL_get_error(io->ssl, r);
				if (e == SSL_ERROR_SYSCALL && errno == EINTR)
					continue;
				if (e == SSL_ERROR_WANT_WRITE || errno == EAGAIN ||
				    errno == EWOULDBLOCK)
					return SMTPD_IO_TIMEOUT;
				return SMTPD_IO_ERROR;
			}
			n = r;
		} else {
			n = write(io->fd, p, chunk);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return errno == EAGAIN || errno == EWOULDBLOCK ? SMTPD_IO_TIMEOUT
				                                               : SMTPD_IO_ERROR;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void smtpd_io_close(struct smtpd_io *io)
{
	if (io->ssl != NULL) {
		SSL_shutdown(io->ssl); /* best effort: send close_notify */
		SSL_free(io->ssl);
		io->ssl = NULL;
	}
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
}
