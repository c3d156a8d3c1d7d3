/* smtpd-conn.c: one SMTP client in a forked connection child. Blocking I/O
 * over the socket or TLS drives the smtp_session state machine: write its
 * replies, carry out the work its callbacks left pending (STARTTLS
 * handshake, AUTH relayed to loft-auth), read the next chunk with the
 * smtpd_timeout, feed it. Every 4xx/5xx reply is logged as a rejection. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "smtpd-private.h"

#define READ_CHUNK 65536 /* the session expects chunks of at most 64 KB */

static const char *mode_name(enum smtp_mode m)
{
	return m == SMTP_MODE_MX           ? "smtp"
	       : m == SMTP_MODE_SUBMISSION ? "submission"
	                                   : "submissions";
}

/* Textual address of a sockaddr; IPv4-mapped IPv6 as plain IPv4. */
static void addr_text(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	snprintf(out, outlen, "unknown");
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t)outlen);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out, (socklen_t)outlen);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)outlen);
	}
}

/* Log the 4xx/5xx replies in out[scanned..len) (complete lines only). */
static void log_rejections(struct smtpd_conn *c, const struct buf *out)
{
	while (c->scanned < out->len) {
		const char *p = out->data + c->scanned;
		const char *nl = memchr(p, '\n', out->len - c->scanned);
		if (nl == NULL)
			break;
		size_t len = (size_t)(nl - p) + 1;
		c->scanned += len;
		if (len > 5 && (p[0] == '4' || p[0] == '5') && p[3] == ' ')
			log_info(&c->ctx->log, "reject: from unknown[%s]: %.*s", c->ip,
			         (int)(len - 2), p);
	}
}

/* Write what the session queued. 0, or -1 when the client is gone. */
static int flush(struct smtpd_conn *c)
{
	struct buf *out = smtp_session_output(c->sess);
	log_rejections(c, out);
	if (out->len == 0)
		return 0;
	int rc = smtpd_io_write(&c->io, out->data, out->len);
	buf_consume(out, out->len);
	c->scanned = 0;
	return rc < 0 ? -1 : 0;
}

static void apply_auth_reply(struct smtpd_conn *c, const struct smtpd_auth_reply *rep)
{
	switch (rep->result) {
	case SMTPD_AUTH_CONTINUE:
		smtp_session_auth_challenge(c->sess, rep->chal);
		return;
	case SMTPD_AUTH_OK:
		log_info(&c->ctx->log, "client=unknown[%s], sasl_method=%s, sasl_username=%s",
		         c->ip, c->mech, rep->user);
		smtp_session_auth_done(c->sess, rep->user, false);
		return;
	case SMTPD_AUTH_FAIL:
		log_info(&c->ctx->log, "unknown[%s]: SASL %s authentication failed", c->ip,
		         c->mech);
		smtp_session_auth_done(c->sess, NULL, false);
		return;
	default:
		log_warning(&c->ctx->log, "unknown[%s]: SASL %s: loft-auth unreachable", c->ip,
		            c->mech);
		smtp_session_auth_done(c->sess, NULL, true);
		return;
	}
}

static void run_auth(struct smtpd_conn *c, bool start)
{
	struct smtpd_auth_reply rep;
	const char *d = c->auth_data;
	bool empty_initial = start && strcmp(d, "=") == 0;
	/* auth drops a connection carrying bad base64: refuse it here */
	if (c->auth_has_data && !empty_initial && !smtpd_auth_b64_ok(d, strlen(d))) {
		smtpd_auth_cancel(&c->auth);
		log_info(&c->ctx->log, "unknown[%s]: SASL %s: malformed base64", c->ip, c->mech);
		smtp_session_auth_done(c->sess, NULL, false);
		return;
	}
	if (start)
		smtpd_auth_start(&c->auth, c->mech, c->auth_has_data ? d : NULL, c->ip, c->lip,
		                 smtpd_conn_secured(c), &rep);
	else
		smtpd_auth_continue(&c->auth, d, strlen(d), &rep);
	apply_auth_reply(c, &rep);
}

/* Carry out what a callback left pending. 0, or -1 to end the connection. */
static int run_pending(struct smtpd_conn *c)
{
	enum smtpd_pending p = c->pending;
	c->pending = SMTPD_P_NONE;
	char err[256];
	switch (p) {
	case SMTPD_P_STARTTLS:
		/* the 220 is flushed; nothing read after STARTTLS is kept here */
		if (smtpd_tls_accept(&c->io, c->ctx->ssl_ctx, c->ctx->set.handshake_ms, err,
		                     sizeof(err)) < 0) {
			log_info(&c->ctx->log, "unknown[%s]: STARTTLS failed: %s", c->ip, err);
			return -1;
		}
		log_info(&c->ctx->log, "unknown[%s]: STARTTLS %s with cipher %s (%d bits)", c->ip,
		         c->io.proto, c->io.cipher, c->io.bits);
		smtp_session_tls_started(c->sess, c->io.proto, c->io.cipher, c->io.bits);
		return 0;
	case SMTPD_P_AUTH_START:
		run_auth(c, true);
		return 0;
	case SMTPD_P_AUTH_CONT:
		run_auth(c, false);
		return 0;
	default:
		return 0;
	}
}

static void timeout_reply(struct smtpd_conn *c)
{
	char line[400];
	int n = snprintf(line, sizeof(line), "421 4.4.2 %s Error: timeout exceeded\r\n",
	                 c->ctx->set.hostname);
	log_info(&c->ctx->log, "timeout after %d ms from unknown[%s]", c->ctx->set.timeout_ms,
	         c->ip);
	smtpd_io_write(&c->io, line, (size_t)n);
}

static void serve(struct smtpd_conn *c)
{
	char *chunk = malloc(READ_CHUNK);
	if (chunk == NULL)
		return;
	for (;;) {
		if (flush(c) < 0)
			break;
		if (smtp_session_closed(c->sess))
			break;
		if (c->pending != SMTPD_P_NONE) {
			if (run_pending(c) < 0)
				break;
			continue;
		}
		ssize_t n = smtpd_io_read(&c->io, chunk, READ_CHUNK);
		if (n == SMTPD_IO_TIMEOUT) {
			smtp_session_eof(c->sess); /* an open message is aborted */
			timeout_reply(c);
			break;
		}
		if (n <= 0) {
			smtp_session_eof(c->sess);
			break;
		}
		smtp_session_input(c->sess, chunk, (size_t)n);
	}
	free(chunk);
}

static void conn_opts(struct smtpd_conn *c)
{
	const struct smtpd_settings *set = &c->ctx->set;
	struct smtp_session_opts *o = &c->opts;
	o->mode = c->mode;
	o->hostname = set->hostname;
	o->mydomains = (const char *const *)set->mydomains;
	o->n_mydomains = set->n_mydomains;
	o->size_limit = set->size_limit;
	o->max_recipients = set->max_recipients;
	o->max_hops = set->max_hops;
	o->client_in_mynetworks = smtpd_addr_in_networks(set, c->ip);
	/* AUTH without TLS only where auth will call the client secured */
	o->client_loopback = c->loopback && set->loopback_secure;
	o->tls_available = c->ctx->ssl_ctx != NULL;
	o->client_ip = c->ip;
	o->client_rdns = NULL; /* no DNS in the chroot: Received says "unknown" */
	if (c->io.ssl != NULL) {
		o->tls_proto = c->io.proto;
		o->tls_cipher = c->io.cipher;
		o->tls_bits = c->io.bits;
	}
	o->cb = &c->cb;
	o->cb_ctx = c;
}

void smtpd_conn_run(struct smtpd_ctx *ctx, int fd, enum smtp_mode mode)
{
	struct smtpd_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->ctx = ctx;
	c->mode = mode;
	c->io.fd = fd;
	c->io.timeout_ms = ctx->set.timeout_ms;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		addr_text(&ss, c->ip, sizeof(c->ip));
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		addr_text(&ss, c->lip, sizeof(c->lip));
	c->loopback = netmask_is_loopback(c->ip);
	/* the net under OpenSSL's reads and writes (handshake included) */
	struct timeval tv = {.tv_sec = ctx->set.timeout_ms / 1000,
	                     .tv_usec = (ctx->set.timeout_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	smtpd_auth_init(&c->auth, ctx->set.auth_path);
	smtpd_queue_init(&c->queue, ctx->set.queue_path, ctx->set.timeout_ms);
	smtpd_callbacks_init(c);
	log_info(&ctx->log, "connect from unknown[%s] on %s", c->ip, mode_name(mode));
	char err[256];
	if (mode == SMTP_MODE_SUBMISSIONS &&
	    smtpd_tls_accept(&c->io, ctx->ssl_ctx, ctx->set.handshake_ms, err, sizeof(err)) < 0) {
		log_info(&ctx->log, "unknown[%s]: TLS handshake failed: %s", c->ip, err);
	} else {
		conn_opts(c);
		c->sess = smtp_session_new(&c->opts);
		if (c->sess != NULL)
			serve(c);
		smtp_session_free(c->sess);
	}
	log_info(&ctx->log, "disconnect from unknown[%s]", c->ip);
	smtpd_queue_close(&c->queue);
	smtpd_auth_close(&c->auth);
	smtpd_io_close(&c->io);
	free(c);
}
