/* login-client.c: one pre-login client of a login daemon: its bufferevent
 * (plain or OpenSSL), the bounded line reader, idle timeout, STLS/STARTTLS
 * upgrade that discards everything received before the handshake, orderly
 * close after the output is flushed, and the Dovecot-style log lines. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/rand.h>

#include "base64.h"
#include "evloop.h"
#include "login-private.h"
#include "tls.h"

static void client_process_input(struct login_client *c);
static void client_settle(struct login_client *c);

static void addr_text(const struct sockaddr_storage *ss, char *ip, size_t iplen, unsigned *port)
{
	snprintf(ip, iplen, "unknown");
	*port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, ip, (socklen_t)iplen);
		*port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, (socklen_t)iplen);
		*port = ntohs(s6->sin6_port);
	}
}

static void client_addrs(struct login_client *c, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		ss.ss_family = AF_UNSPEC;
	addr_text(&ss, c->rip, sizeof(c->rip), &c->rport);
	sl = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		ss.ss_family = AF_UNSPEC;
	addr_text(&ss, c->lip, sizeof(c->lip), &c->lport);
}

/* A short random session id (Dovecot uses base64 of random bytes too). */
static void client_session_id(struct login_client *c)
{
	unsigned char raw[9];
	struct buf b;
	buf_init(&b, sizeof(c->session) - 1);
	if (RAND_bytes(raw, sizeof(raw)) != 1 || base64_encode(&b, raw, sizeof(raw)) < 0)
		snprintf(c->session, sizeof(c->session), "%lx", (unsigned long)random());
	else
		snprintf(c->session, sizeof(c->session), "%s", b.data);
	buf_free(&b);
}

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

static void client_setup_bev(struct login_client *c)
{
	struct timeval tv = {(time_t)(c->ctx->idle_ms / 1000),
	                     (suseconds_t)(c->ctx->idle_ms % 1000) * 1000};
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	/* Stop reading once a full line's worth is queued: bounded memory. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, c->ctx->max_line + 2);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static struct bufferevent *client_tls_bev(struct login_ctx *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx->ssl_ctx);
	if (ssl == NULL)
		return NULL;
	struct bufferevent *bev =
	    bufferevent_openssl_socket_new(ctx->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL)
		SSL_free(ssl);
	else
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* A limit refused the client: a plaintext one is told why (best effort, the
 * socket is new and its buffer empty); TLS clients only see the close, as
 * nothing can be said before a handshake we will not spend on them. */
static void client_refuse(struct login_ctx *ctx, int fd, bool tls, const char *why)
{
	if (!tls && ctx->proto->refuse_prefix != NULL) {
		char line[256];
		int n = snprintf(line, sizeof(line), "%s%s\r\n", ctx->proto->refuse_prefix, why);
		if (n > 0 && (size_t)n < sizeof(line))
			(void)send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	close(fd);
}

static void on_handshake_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct login_client *c = arg;
	log_info(&c->ctx->log, "sess=%s: TLS handshake timed out: rip=%s", c->session, c->rip);
	c->close_reason = "TLS handshake timed out";
	login_client_free(c);
}

/* A half-open handshake holds a per-address and a global slot: it gets
 * ssl_handshake_timeout, not the (much longer) idle timeout. */
static void client_arm_handshake(struct login_client *c)
{
	if (c->hs_timer != NULL)
		event_free(c->hs_timer);
	c->hs_timer = evloop_add_timer(c->ctx->base, c->ctx->handshake_ms, on_handshake_timeout, c);
}

static void client_disarm_handshake(struct login_client *c)
{
	if (c->hs_timer != NULL)
		event_free(c->hs_timer);
	c->hs_timer = NULL;
}

void login_client_new(struct login_ctx *ctx, int fd, bool tls)
{
	if (ctx->draining) {
		close(fd);
		return;
	}
	if (ctx->max_clients > 0 && ctx->nclients >= ctx->max_clients) {
		log_warning(&ctx->log, "Disconnected: login_max_clients (%zu) reached",
		            ctx->max_clients);
		client_refuse(ctx, fd, tls, "Server busy, too many connections; try again later.");
		return;
	}
	struct login_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->ctx = ctx;
	c->pair_fd = c->pair_peer = -1;
	c->created = time(NULL);
	buf_init(&c->fail_line, 1024);
	client_addrs(c, fd);
	client_session_id(c);
	c->ip_counted = !login_ip_exempt(ctx, c->rip);
	if (c->ip_counted && !login_ip_take(ctx, c->rip)) {
		log_notice(&ctx->log, "Disconnected: too many connections from rip=%s (limit %zu)",
		           c->rip, ctx->max_per_ip);
		client_refuse(ctx, fd, tls, "Too many connections from your address.");
		buf_free(&c->fail_line);
		free(c);
		return;
	}
	if (tls) {
		c->bev = client_tls_bev(ctx, fd);
		c->state = LC_HANDSHAKE;
	} else {
		c->bev = bufferevent_socket_new(ctx->base, fd,
		                                BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		c->state = LC_ACTIVE;
	}
	if (c->bev == NULL) {
		log_error(&ctx->log, "cannot set up client from rip=%s", c->rip);
		if (c->ip_counted)
			login_ip_release(ctx, c->rip);
		close(fd);
		buf_free(&c->fail_line);
		free(c);
		return;
	}
	c->next = ctx->clients;
	ctx->clients = c;
	ctx->nclients++;
	if (tls)
		client_arm_handshake(c);
	client_setup_bev(c);
	if (!tls) {
		c->greeted = true;
		ctx->proto->greet(c);
	}
}

static void client_log_end(struct login_client *c)
{
	long secs = (long)(time(NULL) - c->created);
	char what[128];
	if (c->close_reason != NULL)
		snprintf(what, sizeof(what), "%s", c->close_reason);
	else if (c->auth_attempts == 0)
		snprintf(what, sizeof(what), "no auth attempts in %ld secs", secs);
	else
		snprintf(what, sizeof(what), "auth failed, %u attempts in %ld secs",
		         c->auth_attempts, secs);
	log_info(&c->ctx->log, "Disconnected (%s): user=<%s>, %s%s%srip=%s, lip=%s,%s session=<%s>",
	         what, c->user, c->method[0] ? "method=" : "", c->method, c->method[0] ? ", " : "",
	         c->rip, c->lip, c->tls ? " TLS," : "", c->session);
}

/* Unlink c and release its resources; the bufferevent only when bev_too. */
static void client_unlink(struct login_client *c)
{
	struct login_ctx *ctx = c->ctx;
	for (struct login_client **pp = &ctx->clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ctx->nclients--;
	if (c->ip_counted)
		login_ip_release(ctx, c->rip);
	if (c->auth_id != 0 && ctx->auth != NULL)
		auth_client_cancel(ctx->auth, c->auth_id);
	client_disarm_handshake(c);
	if (c->delay_timer != NULL)
		event_free(c->delay_timer);
	c->delay_timer = NULL;
	if (c->pair_fd >= 0)
		close(c->pair_fd);
	if (c->pair_peer >= 0)
		close(c->pair_peer);
	if (ctx->proto->free_state != NULL)
		ctx->proto->free_state(c);
	buf_free(&c->fail_line);
}

void login_client_free(struct login_client *c)
{
	struct login_ctx *ctx = c->ctx;
	client_log_end(c);
	client_unlink(c);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	free(c);
	login_ctx_check_drained(ctx);
}

void *login_client_state(struct login_client *c)
{
	return c->proto_state;
}

void login_client_set_state(struct login_client *c, void *state)
{
	c->proto_state = state;
}

const struct login_ctx *login_client_ctx(const struct login_client *c)
{
	return c->ctx;
}

void login_client_set_user(struct login_client *c, const char *p, size_t len)
{
	log_sanitise(c->user, sizeof(c->user), p, len);
}

void login_client_send(struct login_client *c, const char *p, size_t len)
{
	bufferevent_write(c->bev, p, len);
}

void login_client_printf(struct login_client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
	va_end(ap);
}

void login_client_close(struct login_client *c, const char *reason)
{
	if (c->state == LC_CLOSING)
		return;
	c->state = LC_CLOSING;
	if (c->close_reason == NULL)
		c->close_reason = reason;
	bufferevent_disable(c->bev, EV_READ);
}

bool login_client_is_tls(const struct login_client *c)
{
	return c->tls;
}

bool login_client_tls_available(const struct login_client *c)
{
	return c->ctx->ssl_ctx != NULL && !c->tls;
}

bool login_client_secured(const struct login_client *c)
{
	return c->tls || (c->ctx->loopback_secure && netmask_is_loopback(c->rip));
}

bool login_client_plaintext_allowed(const struct login_client *c)
{
	if (c->ctx->ssl_required)
		return c->tls; /* ssl = required: no login at all without TLS */
	return !c->ctx->disable_plaintext || login_client_secured(c);
}

bool login_client_bad_command(struct login_client *c)
{
	if (++c->bad_commands < LOGIN_MAX_BAD_COMMANDS)
		return false;
	login_client_close(c, "Too many invalid commands");
	return true;
}

void login_client_start_tls(struct login_client *c)
{
	c->state = LC_STARTTLS;
	bufferevent_disable(c->bev, EV_READ);
}

/* The STLS reply is on the wire: drop what the client pipelined behind it
 * (it came in plaintext and must never be taken as protected), then run the
 * TLS handshake on the same socket. */
static void client_switch_tls(struct login_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t dropped = evbuffer_get_length(in);
	evbuffer_drain(in, dropped);
	if (dropped > 0)
		log_info(&c->ctx->log, "sess=%s: discarded %zu bytes sent before the TLS handshake",
		         c->session, dropped);
	int fd = fcntl(bufferevent_getfd(c->bev), F_DUPFD_CLOEXEC, 3);
	bufferevent_free(c->bev);
	c->bev = fd < 0 ? NULL : client_tls_bev(c->ctx, fd);
	if (c->bev == NULL) {
		if (fd >= 0)
			close(fd);
		c->close_reason = "TLS setup failed";
		login_client_free(c);
		return;
	}
	c->state = LC_HANDSHAKE;
	client_arm_handshake(c);
	client_setup_bev(c);
}

/* Called at the end of every entry point: finish a close or an upgrade whose
 * output has drained. May free c. */
static void client_settle(struct login_client *c)
{
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		return;
	if (c->state == LC_CLOSING)
		login_client_free(c);
	else if (c->state == LC_STARTTLS)
		client_switch_tls(c);
}

static void client_process_input(struct login_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	const struct login_proto *proto = c->ctx->proto;
	if (c->in_input)
		return;
	c->in_input = true;
	while (c->state == LC_ACTIVE) {
		struct evbuffer_ptr p = evbuffer_search(in, "\n", 1, NULL);
		if (p.pos < 0 ? evbuffer_get_length(in) > c->ctx->max_line
		              : (size_t)p.pos > c->ctx->max_line) {
			proto->too_long(c);
			login_client_close(c, "Input line too long");
			break;
		}
		if (p.pos < 0)
			break;
		size_t len = (size_t)p.pos;
		char *line = malloc(len + 1);
		if (line == NULL) {
			login_client_close(c, "Out of memory");
			break;
		}
		evbuffer_remove(in, line, len + 1);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		proto->line(c, line, len);
		explicit_bzero(line, len); /* may have held a password */
		free(line);
	}
	c->in_input = false;
}

void login_client_resume(struct login_client *c)
{
	if (c->state != LC_AUTH && c->state != LC_ACTIVE)
		return;
	c->state = LC_ACTIVE;
	bufferevent_enable(c->bev, EV_READ);
}

/* After an asynchronous callback (auth, handoff): deliver lines buffered
 * while the client was paused, then settle. May free c. */
void login_client_kick(struct login_client *c)
{
	if (c->state == LC_ACTIVE)
		client_process_input(c);
	client_settle(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct login_client *c = arg;
	client_process_input(c);
	client_settle(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	client_settle(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct login_client *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		client_disarm_handshake(c);
		c->tls = true;
		c->state = LC_ACTIVE;
		if (!c->greeted) {
			c->greeted = true;
			c->ctx->proto->greet(c);
		}
		login_client_kick(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (c->state == LC_ACTIVE && c->greeted)
			c->ctx->proto->idle(c);
		login_client_close(c, "Disconnected for inactivity");
		bufferevent_enable(bev, EV_WRITE);
		client_settle(c);
		return;
	}
	if (c->state == LC_HANDSHAKE) {
		char err[256];
		tls_errors(err, sizeof(err));
		log_info(&c->ctx->log, "sess=%s: TLS handshake failed: rip=%s: %s", c->session,
		         c->rip, err[0] ? err : "connection closed");
		c->close_reason = "TLS handshake failed";
	}
	login_client_free(c);
}
