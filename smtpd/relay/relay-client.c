/* relay-client.c: the byte level of loft-relay's SMTP client. One blocking
 * connection (plain or TLS) whose every read and write is bounded by
 * SO_RCVTIMEO / SO_SNDTIMEO; replies are cut out of the input by the pure
 * parser in relay-reply.c. The session logic lives in relay-deliver.c. */
#include "relay-client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "relay-data.h"
#include "tls.h"

#define RELAY_IN_MAX  (RELAY_REPLY_LINE + 2) * RELAY_REPLY_LINES
#define RELAY_OUT_BUF 65536

static void set_err(struct relay_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(struct relay_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

static void peer_text(struct relay_conn *c, const struct relay_host *h,
                      const struct sockaddr_storage *ss)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof(a));
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof(a));
	snprintf(c->peer, sizeof(c->peer), "%s[%s]", h->name, a);
}

int relay_conn_open(struct relay_conn *c, const struct relay_host *h, size_t ai, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	const struct sockaddr_storage *ss = &h->addr[ai];
	peer_text(c, h, ss);
	c->incap = RELAY_IN_MAX;
	c->in = malloc(c->incap);
	if (c->in == NULL) {
		set_err(c, "4.3.0 out of memory");
		return -1;
	}
	c->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		set_err(c, "4.4.1 socket: %s", strerror(errno));
		return -1;
	}
	int r = connect(c->fd, (const struct sockaddr *)ss, h->addrlen[ai]);
	if (r < 0 && errno == EINPROGRESS) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
		int pr;
		while ((pr = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR) {
		}
		int soerr = ETIMEDOUT;
		socklen_t sl = sizeof(soerr);
		if (pr > 0)
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		errno = soerr;
		r = soerr == 0 ? 0 : -1;
	}
	if (r < 0) {
		set_err(c, "4.4.1 connect to %s: %s", c->peer, strerror(errno));
		return -1;
	}
	int fl = fcntl(c->fd, F_GETFL);
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	if (fl < 0 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		set_err(c, "4.4.1 socket options: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void relay_conn_close(struct relay_conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->in);
	c->in = NULL;
}

static ssize_t conn_read(struct relay_conn *c, char *p, size_t n)
{
	if (c->ssl == NULL) {
		ssize_t r;
		while ((r = read(c->fd, p, n)) < 0 && errno == EINTR) {
		}
		return r;
	}
	int r = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
	return r > 0 ? r : -1;
}

static int conn_write(struct relay_conn *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w;
		if (c->ssl != NULL) {
			int r = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
			w = r > 0 ? r : -1;
		} else {
			w = send(c->fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
		}
		if (w <= 0) {
			set_err(c, "4.4.2 %s: lost connection while sending", c->peer);
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int relay_conn_reply(struct relay_conn *c, struct relay_reply *r)
{
	for (;;) {
		int n = relay_reply_parse(c->in, c->inlen, r);
		if (n > 0) {
			memmove(c->in, c->in + n, c->inlen - (size_t)n);
			c->inlen -= (size_t)n;
			return 0;
		}
		if (n < 0 || c->inlen == c->incap) {
			set_err(c, "4.4.2 %s: malformed SMTP reply", c->peer);
			return -1;
		}
		ssize_t got = conn_read(c, c->in + c->inlen, c->incap - c->inlen);
		if (got <= 0) {
			set_err(c, "4.4.2 %s: %s while reading a reply", c->peer,
			        got == 0          ? "connection closed"
			        : errno == EAGAIN ? "timeout"
			                          : "lost connection");
			return -1;
		}
		c->inlen += (size_t)got;
	}
}

int relay_conn_cmd(struct relay_conn *c, struct relay_reply *r, const char *fmt, ...)
{
	char line[RELAY_CMD_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2) {
		set_err(c, "4.3.0 command too long");
		return -1;
	}
	memcpy(line + n, "\r\n", 2);
	if (conn_write(c, line, (size_t)n + 2) < 0)
		return -1;
	return relay_conn_reply(c, r);
}

int relay_conn_starttls(struct relay_conn *c, SSL_CTX *ctx, const char *host, bool verify)
{
	c->inlen = 0; /* nothing sent before the handshake may count after it */
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		set_err(c, "4.7.5 %s: TLS setup failed", c->peer);
		return -1;
	}
	/* SNI only for names (not address literals). */
	if (strchr(host, ':') == NULL && host[strspn(host, "0123456789.")] != '\0')
		SSL_set_tlsext_host_name(c->ssl, host);
	if (verify) {
		SSL_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
		if (SSL_set1_host(c->ssl, host) != 1) {
			set_err(c, "4.7.5 %s: cannot verify host name", c->peer);
			return -1;
		}
	}
	if (SSL_connect(c->ssl) != 1) {
		char e[256];
		tls_errors(e, sizeof(e));
		set_err(c, "4.7.5 %s: TLS handshake failed: %s", c->peer, e);
		return -1;
	}
	return 0;
}

bool relay_body_8bit(const char *spool, size_t len, const struct queue_msg *m)
{
	size_t pos = m->body_off;
	const char *chunk;
	size_t n;
	while (queue_body_next(spool, len, &pos, &chunk, &n) == 1) {
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)chunk[i] >= 0x80)
				return true;
	}
	return false;
}

int relay_conn_data(struct relay_conn *c, const char *spool, size_t len, const struct queue_msg *m)
{
	char *out = malloc(RELAY_OUT_BUF * RELAY_DATA_GROWTH + RELAY_DATA_TAIL);
	if (out == NULL) {
		set_err(c, "4.3.0 out of memory");
		return -1;
	}
	struct relay_data_enc enc;
	relay_data_init(&enc);
	size_t pos = m->body_off;
	const char *chunk;
	size_t n;
	int rc = 0;
	while (rc == 0 && queue_body_next(spool, len, &pos, &chunk, &n) == 1) {
		for (size_t i = 0; rc == 0 && i < n; i += RELAY_OUT_BUF) {
			size_t part = n - i < RELAY_OUT_BUF ? n - i : RELAY_OUT_BUF;
			size_t o = relay_data_encode(&enc, chunk + i, part, out);
			if (o > 0)
				rc = conn_write(c, out, o);
		}
	}
	if (rc == 0)
		rc = conn_write(c, out, relay_data_finish(&enc, out));
	free(out);
	return rc;
}
