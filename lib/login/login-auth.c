/* login-auth.c: a login client's way through authentication: the SASL
 * mechanisms it may see, the relay of each SASL step to loft-auth
 * (lib/ipc/auth-client.h), and the handoff to mailstore once auth said OK
 * (plain clients pass their socket; TLS clients a socketpair end that the
 * daemon then proxies). Log lines follow Dovecot's "Login: user=<...>". */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "evloop.h"
#include "handoff.h"
#include "login-private.h"

bool login_mech_known(const struct login_ctx *ctx, const char *mech, bool *plaintext_r)
{
	for (size_t i = 0; i < ctx->nmechs; i++) {
		if (strcasecmp(ctx->mechs[i], mech) == 0) {
			*plaintext_r = ctx->mech_plain[i];
			return true;
		}
	}
	return false;
}

size_t login_client_mechs(const struct login_client *c, const char **names, size_t max)
{
	size_t n = 0;
	bool plain_ok = login_client_plaintext_allowed(c);
	for (size_t i = 0; i < c->ctx->nmechs && n < max; i++)
		if (plain_ok || !c->ctx->mech_plain[i])
			names[n++] = c->ctx->mechs[i];
	return n;
}

/* The failure delay is over: give the protocol the failure auth sent. */
static void on_delay_over(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct login_client *c = arg;
	event_free(c->delay_timer);
	c->delay_timer = NULL;
	struct auth_client_reply rep = {.result = AUTH_CLIENT_FAIL, .reason = c->delay_reason};
	c->auth_cb(c, &rep);
	login_client_kick(c);
}

/* Auth answered a failed login at once (its request slot is free again) and
 * said how long to make the client wait: hold it here, input paused, so a
 * flood of wrong passwords costs the attacker time but costs auth nothing. */
static bool hold_failure(struct login_client *c, const struct auth_client_reply *rep)
{
	if (rep->result != AUTH_CLIENT_FAIL || rep->delay_ms == 0)
		return false;
	snprintf(c->delay_reason, sizeof(c->delay_reason), "%s",
	         rep->reason != NULL ? rep->reason : "");
	c->delay_timer = evloop_add_timer(c->ctx->base, rep->delay_ms, on_delay_over, c);
	return c->delay_timer != NULL; /* no timer: answer now rather than never */
}

static void on_auth_reply(const struct auth_client_reply *rep, void *arg)
{
	struct login_client *c = arg;
	if (rep->result != AUTH_CLIENT_CONTINUE)
		c->auth_id = 0;
	if (hold_failure(c, rep))
		return;
	/* lib/ipc/auth-client.c's reason when it cannot (re)connect: from inside
	 * the chroot the auth socket is out of reach for good. */
	if (rep->result == AUTH_CLIENT_TEMPFAIL && c->ctx->chrooted && rep->reason != NULL &&
	    strcmp(rep->reason, "auth unavailable") == 0)
		login_ctx_lost(c->ctx, "connection to loft-auth lost");
	if (rep->result == AUTH_CLIENT_OK && rep->user != NULL)
		login_client_set_user(c, rep->user, strlen(rep->user));
	c->auth_cb(c, rep);
	login_client_kick(c);
}

static void set_method(struct login_client *c, const char *mech)
{
	size_t i;
	for (i = 0; mech[i] != '\0' && i + 1 < sizeof(c->method); i++)
		c->method[i] = (char)toupper((unsigned char)mech[i]);
	c->method[i] = '\0';
}

int login_client_auth_start(struct login_client *c, const char *mech, const unsigned char *resp,
                            size_t resp_len, bool has_resp, login_auth_cb *cb)
{
	if (c->auth_id != 0)
		return -1;
	set_method(c, mech);
	c->auth_cb = cb;
	c->auth_attempts++;
	uint32_t id =
	    auth_client_auth(c->ctx->auth, c->method, c->ctx->proto->service, c->rip, c->lip,
	                     login_client_secured(c), resp, resp_len, has_resp, on_auth_reply, c);
	if (id == 0)
		return -1;
	c->auth_id = id;
	c->state = LC_AUTH;
	bufferevent_disable(c->bev, EV_READ);
	return 0;
}

int login_client_auth_cont(struct login_client *c, const unsigned char *resp, size_t len)
{
	if (c->auth_id == 0 || auth_client_cont(c->ctx->auth, c->auth_id, resp, len) < 0)
		return -1;
	c->state = LC_AUTH;
	bufferevent_disable(c->bev, EV_READ);
	return 0;
}

void login_client_auth_abort(struct login_client *c)
{
	if (c->auth_id != 0)
		auth_client_cancel(c->ctx->auth, c->auth_id);
	c->auth_id = 0;
	if (c->state == LC_AUTH)
		login_client_resume(c);
}

struct login_client *login_client_find_handoff(struct login_ctx *ctx, uint32_t id)
{
	for (struct login_client *c = ctx->clients; c != NULL; c = c->next)
		if (c->state == LC_HANDOFF && (c->handoff_id == id || id == 0))
			return c;
	return NULL;
}

static void handoff_refuse(struct login_client *c, const char *why)
{
	log_warning(&c->ctx->log, "sess=%s: handoff of user=<%s> failed: %s", c->session, c->user,
	            why);
	c->state = LC_ACTIVE; /* so close() below takes effect */
	if (c->fail_line.len > 0)
		login_client_send(c, c->fail_line.data, c->fail_line.len);
	login_client_close(c, "Internal login failure");
	bufferevent_enable(c->bev, EV_WRITE);
}

void login_client_handoff(struct login_client *c, const char *user, const char *token,
                          const char *method, const char *fail_line)
{
	login_client_set_user(c, user, strlen(user));
	if (method != NULL)
		set_method(c, method);
	buf_reset(&c->fail_line);
	buf_append_str(&c->fail_line, fail_line);
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in);
	if (len > HANDOFF_MAX_DATA) {
		handoff_refuse(c, "too much pipelined input");
		return;
	}
	const char *data = len > 0 ? (const char *)evbuffer_pullup(in, -1) : NULL;
	int fd = bufferevent_getfd(c->bev);
	if (c->tls) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			handoff_refuse(c, strerror(errno));
			return;
		}
		c->pair_fd = sv[0];
		c->pair_peer = sv[1];
		fd = sv[1];
	}
	c->state = LC_HANDOFF;
	bufferevent_disable(c->bev, EV_READ);
	if (login_handoff_send(c->ctx, c, token, fd, data, len) < 0) {
		char why[128];
		snprintf(why, sizeof(why), "send failed: %s", strerror(errno));
		if (c->ctx->handoff_dead)
			handoff_refuse(c, "no connection to mailstore");
		else
			login_handoff_lost(c->ctx, why); /* answers c too */
	}
}

void login_client_set_handoff_tag(struct login_client *c, const char *tag)
{
	size_t n = strnlen(tag, sizeof(c->handoff_tag) - 1);
	memcpy(c->handoff_tag, tag, n);
	c->handoff_tag[n] = '\0';
}

void login_client_handoff_done(struct login_client *c, bool ok, const char *reason)
{
	struct login_ctx *ctx = c->ctx;
	if (!ok) {
		handoff_refuse(c, reason[0] ? reason : "refused by mailstore");
		login_client_kick(c);
		return;
	}
	log_info(&ctx->log, "Login: user=<%s>, method=%s, rip=%s, lip=%s,%s session=<%s>", c->user,
	         c->method, c->rip, c->lip, c->tls ? " TLS," : "", c->session);
	/* Bytes that went with the handoff belong to the session now. */
	struct evbuffer *in = bufferevent_get_input(c->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	struct bufferevent *bev = c->bev;
	if (c->tls) {
		close(c->pair_peer);
		c->pair_peer = -1;
		int store_fd = c->pair_fd;
		c->pair_fd = -1;
		c->bev = NULL;
		if (login_proxy_start(ctx, bev, store_fd, c->session) < 0) {
			log_error(&ctx->log, "sess=%s: cannot start the TLS proxy", c->session);
			close(store_fd);
			bufferevent_free(bev);
		}
	} else {
		/* Mailstore holds its own copy of the socket; ours just closes. */
		c->bev = NULL;
		bufferevent_free(bev);
	}
	struct login_client **pp;
	for (pp = &ctx->clients; *pp != NULL && *pp != c; pp = &(*pp)->next)
		;
	if (*pp == c)
		*pp = c->next;
	ctx->nclients--;
	if (c->ip_counted)
		login_ip_release(ctx, c->rip);
	if (c->hs_timer != NULL)
		event_free(c->hs_timer);
	if (c->delay_timer != NULL)
		event_free(c->delay_timer);
	if (ctx->proto->free_state != NULL)
		ctx->proto->free_state(c);
	buf_free(&c->fail_line);
	free(c);
	login_ctx_check_drained(ctx);
}
