/* login-proxy.c: after a TLS client was handed off, the login daemon keeps
 * its TLS connection and copies bytes both ways between it and the
 * socketpair end whose twin the mailstore worker holds, until either side
 * closes; then it flushes what is queued for the other side and ends both.
 * A side with LOGIN_PROXY_HIGH bytes queued pauses the other's reading; a
 * side whose queued output makes no progress for LOGIN_PROXY_STALL_S is
 * taken as dead, so a vanished peer cannot pin a proxy forever. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "login-private.h"

#define LOGIN_PROXY_STALL_S 300

static void proxy_free(struct login_proxy *p)
{
	struct login_ctx *ctx = p->ctx;
	for (struct login_proxy **pp = &ctx->proxies; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	bufferevent_free(p->client);
	bufferevent_free(p->store);
	free(p);
	login_ctx_check_drained(ctx);
}

static struct bufferevent *proxy_other(struct login_proxy *p, struct bufferevent *bev)
{
	return bev == p->client ? p->store : p->client;
}

static bool proxy_flushed(struct login_proxy *p)
{
	return evbuffer_get_length(bufferevent_get_output(p->client)) == 0 &&
	       evbuffer_get_length(bufferevent_get_output(p->store)) == 0;
}

static void on_proxy_read(struct bufferevent *bev, void *arg)
{
	struct login_proxy *p = arg;
	struct bufferevent *to = proxy_other(p, bev);
	bufferevent_write_buffer(to, bufferevent_get_input(bev));
	if (evbuffer_get_length(bufferevent_get_output(to)) >= LOGIN_PROXY_HIGH)
		bufferevent_disable(bev, EV_READ);
}

static void on_proxy_write(struct bufferevent *bev, void *arg)
{
	struct login_proxy *p = arg;
	if (p->closing) {
		if (proxy_flushed(p))
			proxy_free(p);
		return;
	}
	/* This side drained below the mark: the other may read again. */
	bufferevent_enable(proxy_other(p, bev), EV_READ);
}

static void on_proxy_event(struct bufferevent *bev, short what, void *arg)
{
	struct login_proxy *p = arg;
	(void)what;
	if (p->closing) {
		proxy_free(p);
		return;
	}
	/* One side ended: pass on what it sent last, then close both. */
	struct bufferevent *to = proxy_other(p, bev);
	bufferevent_write_buffer(to, bufferevent_get_input(bev));
	p->closing = true;
	bufferevent_disable(p->client, EV_READ);
	bufferevent_disable(p->store, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		evbuffer_drain(bufferevent_get_output(bev), (size_t)-1); /* nobody to read it */
	if (proxy_flushed(p))
		proxy_free(p);
}

int login_proxy_start(struct login_ctx *ctx, struct bufferevent *client, int store_fd,
                      const char *session)
{
	struct login_proxy *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -1;
	p->store = bufferevent_socket_new(ctx->base, store_fd,
	                                  BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (p->store == NULL) {
		free(p);
		return -1;
	}
	p->ctx = ctx;
	p->client = client;
	memcpy(p->session, session, sizeof(p->session));
	p->session[sizeof(p->session) - 1] = '\0';
	/* Reading never times out (the session has its own idle timeout);
	 * writing does when the peer stops taking bytes. */
	struct timeval stall = {LOGIN_PROXY_STALL_S, 0};
	bufferevent_set_timeouts(client, NULL, &stall);
	bufferevent_set_timeouts(p->store, NULL, &stall);
	bufferevent_setwatermark(client, EV_READ, 0, 0);
	bufferevent_setcb(client, on_proxy_read, on_proxy_write, on_proxy_event, p);
	bufferevent_setcb(p->store, on_proxy_read, on_proxy_write, on_proxy_event, p);
	bufferevent_enable(client, EV_READ | EV_WRITE);
	bufferevent_enable(p->store, EV_READ | EV_WRITE);
	p->next = ctx->proxies;
	ctx->proxies = p;
	return 0;
}

void login_proxy_free_all(struct login_ctx *ctx)
{
	while (ctx->proxies != NULL)
		proxy_free(ctx->proxies);
}
