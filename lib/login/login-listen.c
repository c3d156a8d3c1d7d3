/* login-listen.c: accepting clients on the listeners a login daemon inherits
 * from the master, with the per-address connection limit
 * (login_max_connections_per_ip, IPv6 counted by its login_ipv6_prefix
 * network, mynetworks exempt) counted over clients still before login. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evloop.h"
#include "login-private.h"
#include "tcp.h"

bool login_ip_exempt(const struct login_ctx *ctx, const char *ip)
{
	return netmask_list_match(ctx->exempt, ctx->nexempt, ip);
}

bool login_ip_take(struct login_ctx *ctx, const char *rip)
{
	char ip[ADDR_KEY_MAX];
	(void)addr_key(rip, strlen(rip), ctx->ipv6_prefix, ip);
	struct login_ipcount *free_slot = NULL;
	for (size_t i = 0; i < ctx->nips; i++) {
		struct login_ipcount *e = &ctx->ips[i];
		if (e->n > 0 && strcmp(e->ip, ip) == 0) {
			if (ctx->max_per_ip > 0 && e->n >= ctx->max_per_ip)
				return false;
			e->n++;
			return true;
		}
		if (e->n == 0 && free_slot == NULL)
			free_slot = e;
	}
	if (free_slot == NULL) {
		if (ctx->nips == ctx->capips) {
			size_t cap = ctx->capips ? ctx->capips * 2 : 64;
			struct login_ipcount *v = realloc(ctx->ips, cap * sizeof(*v));
			if (v == NULL)
				return false;
			ctx->ips = v;
			ctx->capips = cap;
		}
		free_slot = &ctx->ips[ctx->nips++];
	}
	snprintf(free_slot->ip, sizeof(free_slot->ip), "%s", ip);
	free_slot->n = 1;
	return true;
}

void login_ip_release(struct login_ctx *ctx, const char *rip)
{
	char ip[ADDR_KEY_MAX];
	(void)addr_key(rip, strlen(rip), ctx->ipv6_prefix, ip);
	for (size_t i = 0; i < ctx->nips; i++) {
		if (ctx->ips[i].n > 0 && strcmp(ctx->ips[i].ip, ip) == 0) {
			ctx->ips[i].n--;
			break;
		}
	}
	/* Trailing empty slots are dropped so the table shrinks back. */
	while (ctx->nips > 0 && ctx->ips[ctx->nips - 1].n == 0)
		ctx->nips--;
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct login_listener *l = arg;
	for (int i = 0; i < 16; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warning(&l->ctx->log, "accept on %s: %s", l->sl.proto,
				            strerror(errno));
			return;
		}
		/* Responses are streamed, and proxied for TLS: their last
		 * segment must not wait for the client's delayed ACK. A
		 * plaintext client's socket keeps the option when it is
		 * handed to the mailstore worker. */
		(void)tcp_nodelay(cfd);
		if (l->tls && l->ctx->ssl_ctx == NULL)
			close(cfd); /* ssl = no: an implicit-TLS port cannot be served */
		else
			login_client_new(l->ctx, cfd, l->tls);
	}
}

int login_listen_start(struct login_ctx *ctx, char *err, size_t errlen)
{
	struct service_listener sl[SERVICE_MAX_LISTENERS];
	const char *fds = getenv("LOFT_LISTEN_FDS");
	int n = service_parse_listen_fds(fds != NULL ? fds : "", sl, SERVICE_MAX_LISTENERS);
	if (n < 0) {
		snprintf(err, errlen, "bad LOFT_LISTEN_FDS '%s'", fds != NULL ? fds : "");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		bool tls = strcmp(sl[i].proto, ctx->proto->tls_listener) == 0;
		if (!tls && strcmp(sl[i].proto, ctx->proto->plain_listener) != 0) {
			log_warning(&ctx->log, "ignoring unexpected listener %s (fd %d)",
			            sl[i].proto, sl[i].fd);
			close(sl[i].fd);
			continue;
		}
		if (tls && ctx->ssl_ctx == NULL)
			log_error(&ctx->log,
			          "listener %s needs TLS but ssl = no: its clients are "
			          "disconnected at once",
			          sl[i].proto);
		struct login_listener *l = &ctx->ls[ctx->nls];
		l->ctx = ctx;
		l->sl = sl[i];
		l->tls = tls;
		if (evloop_set_nonblock(l->sl.fd) < 0 || evloop_set_cloexec(l->sl.fd, true) < 0 ||
		    (l->ev = evloop_add_read(ctx->base, l->sl.fd, on_accept, l)) == NULL) {
			snprintf(err, errlen, "listener %s fd %d: %s", sl[i].proto, sl[i].fd,
			         strerror(errno));
			return -1;
		}
		ctx->nls++;
	}
	return 0;
}

void login_listen_stop(struct login_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nls; i++) {
		event_free(ctx->ls[i].ev);
		close(ctx->ls[i].sl.fd);
	}
	ctx->nls = 0;
}
