/* relay-client.h: one outbound SMTP connection of loft-relay, with blocking
 * I/O bounded by socket timeouts: connect, read replies, send commands,
 * STARTTLS, and the DATA transfer (dot-stuffing, CRLF line ends). Errors are
 * -1 with a one-line text in c->err ("4.4.2 ..."), for a recipient result. */
#ifndef LOFT_RELAY_CLIENT_H
#define LOFT_RELAY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "relay.h"

#define RELAY_CMD_MAX 1200 /* MAIL FROM:<512-byte path> and parameters */

struct relay_conn {
	int fd;
	SSL *ssl;
	char *in; /* received bytes not yet parsed */
	size_t inlen, incap;
	char peer[RELAY_DNS_NAME + 64]; /* "mx1.example[127.0.0.1]" for texts */
	char err[RELAY_TEXT_MAX];
};

/* Connect to address ai of h within timeout_ms. */
int relay_conn_open(struct relay_conn *c, const struct relay_host *h, size_t ai, int timeout_ms);
void relay_conn_close(struct relay_conn *c);

/* Read one reply. */
int relay_conn_reply(struct relay_conn *c, struct relay_reply *r);
/* Send one command line (CRLF added) and read its reply. */
int relay_conn_cmd(struct relay_conn *c, struct relay_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* TLS handshake after a 220 to STARTTLS; bytes buffered before it are
 * dropped (STARTTLS injection). verify: certificate chain + host name. */
int relay_conn_starttls(struct relay_conn *c, SSL_CTX *ctx, const char *host, bool verify);
/* Send the body of the spool file (after a 354) and the final ".". */
int relay_conn_data(struct relay_conn *c, const char *spool, size_t len, const struct queue_msg *m);

/* The body has a byte >= 0x80 (BODY=8BITMIME is then asked for). */
bool relay_body_8bit(const char *spool, size_t len, const struct queue_msg *m);

#endif
