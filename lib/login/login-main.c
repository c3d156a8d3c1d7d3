/* login-main.c: start-up and life of a login daemon. Order matters: config,
 * log, TLS certificate and key, the connections to loft-auth (auth-login)
 * and mailstore (handoff) -- all before the privilege drop, because after
 * the chroot none of those paths can be opened again -- then privdrop to
 * login_user in login_chroot (as root), then the event loop. SIGTERM ends at
 * once; SIGQUIT stops accepting and ends when the last client and proxy are
 * gone. Losing auth or mailstore outside a drain ends the daemon (crash-only,
 * docs/login.md). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "evloop.h"
#include "login-private.h"
#include "privdrop.h"
#include "sandbox.h"
#include "tls.h"
#include "service.h"

#define LOGIN_POP3_MAX_LINE 8192

void login_ctx_exit(const struct login_ctx *ctx, int status)
{
	/* Inside the chroot there is no /proc for LeakSanitizer: skip atexit. */
	if (ctx->chrooted)
		_exit(status);
	exit(status);
}

void login_ctx_check_drained(struct login_ctx *ctx)
{
	if (ctx->draining && ctx->clients == NULL && ctx->proxies == NULL) {
		log_info(&ctx->log, "drained; exiting");
		event_base_loopbreak(ctx->base);
	}
}

static void on_lost_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct login_ctx *ctx = arg;
	if (ctx->draining)
		return;
	log_error(&ctx->log, "exiting so the master restarts this daemon and it connects afresh");
	login_ctx_exit(ctx, 1);
}

void login_ctx_lost(struct login_ctx *ctx, const char *what)
{
	if (ctx->draining) {
		log_info(&ctx->log, "%s while draining", what);
		return;
	}
	log_warning(&ctx->log, "%s", what);
	if (ctx->lost_timer == NULL)
		ctx->lost_timer =
		    evloop_add_timer(ctx->base, LOGIN_LOST_GRACE_MS, on_lost_timer, ctx);
	if (ctx->lost_timer == NULL)
		login_ctx_exit(ctx, 1);
}

static void on_sigterm(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct login_ctx *ctx = arg;
	log_info(&ctx->log, "stopping on SIGTERM");
	event_base_loopbreak(ctx->base);
}

static void on_sigquit(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct login_ctx *ctx = arg;
	if (ctx->draining)
		return;
	ctx->draining = true;
	login_listen_stop(ctx);
	log_info(&ctx->log, "draining on SIGQUIT");
	login_ctx_check_drained(ctx);
}

static int login_load_tls(struct login_ctx *ctx, char *err, size_t errlen)
{
	const char *ssl = config_str(ctx->cfg, "ssl");
	ctx->ssl_required = strcmp(ssl, "required") == 0;
	if (strcmp(ssl, "no") == 0)
		return 0;
	const char *chain = config_str(ctx->cfg, "ssl_cert_chain");
	if (tls_check_key_file(config_str(ctx->cfg, "ssl_key"), err, errlen) < 0)
		return -1;
	ctx->ssl_ctx = tls_server_ctx_new(
	    config_str(ctx->cfg, "ssl_cert"), config_str(ctx->cfg, "ssl_key"),
	    chain[0] != '\0' ? chain : NULL, config_str(ctx->cfg, "ssl_min_protocol"), err, errlen);
	return ctx->ssl_ctx != NULL ? 0 : -1;
}

/* The mechanisms: what auth offered (it read auth_mechanisms), with its
 * plaintext flags. */
static int login_load_mechs(struct login_ctx *ctx, char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/auth-login", config_str(ctx->cfg, "base_dir"));
	ctx->auth = auth_client_new(ctx->base, path);
	const char *const *names;
	const bool *plain;
	size_t n = ctx->auth != NULL ? auth_client_mechs(ctx->auth, &names, &plain) : 0;
	if (n == 0) {
		snprintf(err, errlen, "cannot reach loft-auth at %.400s", path);
		return -1;
	}
	for (size_t i = 0; i < n && ctx->nmechs < LOGIN_MAX_MECHS; i++) {
		if ((ctx->mechs[ctx->nmechs] = strdup(names[i])) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		ctx->mech_plain[ctx->nmechs++] = plain[i];
	}
	return 0;
}

static int login_drop(struct login_ctx *ctx, char *err, size_t errlen)
{
	struct privdrop_spec spec = {.uid = getuid(), .gid = getgid()};
	bool root = geteuid() == 0;
	if (root) {
		if (privdrop_lookup(config_str(ctx->cfg, "login_user"), &spec.uid, &spec.gid, err,
		                    errlen) < 0)
			return -1;
		spec.chroot_dir = config_str(ctx->cfg, "login_chroot");
	}
	if (privdrop_apply(&spec, err, errlen) < 0)
		return -1;
	ctx->chrooted = root;
	const char *e = NULL;
	if (sandbox_enter(sandbox_kind_for(ctx->cfg, SANDBOX_LOGIN), ctx->proto->name,
	                  STDERR_FILENO, &e) < 0) {
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	return 0;
}

/* mynetworks: trusted networks (an office NAT, a webmail host) that are not
 * held to the per-address limit, as Postfix exempts $mynetworks. */
static int login_load_exempt(struct login_ctx *ctx, char *err, size_t errlen)
{
	size_t n;
	const char *const *v = config_list(ctx->cfg, "mynetworks", &n);
	ctx->exempt = calloc(n + 1, sizeof(*ctx->exempt));
	if (ctx->exempt == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (netmask_parse(v[i], strlen(v[i]), &ctx->exempt[i]) < 0) {
			snprintf(err, errlen, "mynetworks: bad entry '%.200s'", v[i]);
			return -1;
		}
		ctx->nexempt++;
	}
	return 0;
}

static int login_setup(struct login_ctx *ctx, const char *conf, char *err, size_t errlen)
{
	struct cfg_errors errs = {NULL, 0};
	ctx->cfg = config_load(conf, &errs);
	if (ctx->cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s:%u: %s\n", errs.v[i].file, errs.v[i].line,
			        errs.v[i].msg);
		cfg_errors_free(&errs);
		snprintf(err, errlen, "cannot load %s", conf);
		return -1;
	}
	int prio = log_prio_parse(config_str(ctx->cfg, "log_level"));
	log_open_pipe(&ctx->log, ctx->proto->name, prio < 0 ? LOG_INFO : prio);
	ctx->disable_plaintext = config_bool(ctx->cfg, "disable_plaintext_auth");
	ctx->loopback_secure = config_bool(ctx->cfg, "auth_loopback_secure");
	ctx->max_per_ip = (size_t)config_uint(ctx->cfg, "login_max_connections_per_ip");
	uint64_t pfx = config_uint(ctx->cfg, "login_ipv6_prefix");
	ctx->ipv6_prefix = pfx > 128 ? 128 : (unsigned)pfx;
	ctx->max_clients = (size_t)config_uint(ctx->cfg, "login_max_clients");
	ctx->handshake_ms = config_time_ms(ctx->cfg, "ssl_handshake_timeout");
	if (ctx->handshake_ms == 0)
		ctx->handshake_ms = 5000;
	if (login_load_exempt(ctx, err, errlen) < 0)
		return -1;
	ctx->idle_ms = config_time_ms(ctx->cfg, "login_idle_timeout");
	ctx->max_line = (size_t)config_size(ctx->cfg, "login_max_line_length");
	/* The 64k default is for IMAP, where an RFC 2971 ID command may reach
	 * ~32k. A POP3 line is 255 octets (RFC 2449): unless the key is set,
	 * pop3-login keeps its tighter 8k bound. */
	if (strcmp(ctx->proto->service, "pop3") == 0 &&
	    !config_source(ctx->cfg, "login_max_line_length", NULL, NULL))
		ctx->max_line = LOGIN_POP3_MAX_LINE;
	if (ctx->idle_ms == 0)
		ctx->idle_ms = 180000;
	if (ctx->max_line < 64)
		ctx->max_line = 64;
	if ((ctx->base = evloop_new(err, errlen)) == NULL)
		return -1;
	if (login_load_tls(ctx, err, errlen) < 0 || login_load_mechs(ctx, err, errlen) < 0 ||
	    login_handoff_connect(ctx, err, errlen) < 0 || login_listen_start(ctx, err, errlen) < 0)
		return -1;
	return login_drop(ctx, err, errlen);
}

static void login_teardown(struct login_ctx *ctx)
{
	while (ctx->clients != NULL) {
		ctx->clients->close_reason = "Server shutting down";
		login_client_free(ctx->clients);
	}
	login_proxy_free_all(ctx);
	login_listen_stop(ctx);
	if (ctx->lost_timer != NULL)
		event_free(ctx->lost_timer);
	auth_client_free(ctx->auth);
	if (ctx->hev != NULL)
		event_free(ctx->hev);
	if (ctx->handoff_fd >= 0 && !ctx->handoff_dead) {
		wire_conn_clear(&ctx->hconn);
		close(ctx->handoff_fd);
	}
	if (ctx->ssl_ctx != NULL)
		SSL_CTX_free(ctx->ssl_ctx);
	free(ctx->ips);
	free(ctx->exempt);
	for (size_t i = 0; i < ctx->nmechs; i++)
		free(ctx->mechs[i]);
	config_free(ctx->cfg);
}

int login_daemon_main(const struct login_proto *proto, int argc, char **argv)
{
	struct login_ctx ctx;
	char err[512];
	memset(&ctx, 0, sizeof(ctx));
	ctx.proto = proto;
	ctx.handoff_fd = -1;
	char name[64];
	snprintf(name, sizeof(name), "loft-%s", proto->name);
	const char *conf = service_config_path(argc, argv, name);
	if (conf == NULL)
		return 2;
	if (login_setup(&ctx, conf, err, sizeof(err)) < 0) {
		if (ctx.cfg != NULL)
			log_error(&ctx.log, "%s", err);
		else
			fprintf(stderr, "%s: %s\n", proto->name, err);
		login_ctx_exit(&ctx, 1);
	}
	struct event *term = evloop_add_signal(ctx.base, SIGTERM, on_sigterm, &ctx);
	struct event *quit = evloop_add_signal(ctx.base, SIGQUIT, on_sigquit, &ctx);
	if (term == NULL || quit == NULL) {
		log_error(&ctx.log, "cannot set up signal handlers");
		login_ctx_exit(&ctx, 1);
	}
	log_info(&ctx.log, "serving %zu listener(s)%s%s", ctx.nls,
	         ctx.ssl_ctx != NULL ? ", TLS on" : ", TLS off", ctx.chrooted ? ", chrooted" : "");
	event_base_dispatch(ctx.base);
	login_teardown(&ctx);
	event_free(term);
	event_free(quit);
	event_base_free(ctx.base);
	login_ctx_exit(&ctx, 0);
}
