/* smtpd-main.c: start-up of loft-smtpd. Order matters: config, log, settings,
 * TLS context (the key is unreadable afterwards), listeners and signals --
 * connecting to nothing yet -- then, as root, chroot to base_dir (where the
 * "queue" and "auth-smtp" sockets live) and drop to smtp_user with every
 * capability gone and NO_NEW_PRIVS; unprivileged, stay the invoking user
 * without a chroot. Then the accept loop (smtpd-listen.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privdrop.h"
#include "sandbox.h"
#include "smtpd-private.h"
#include "service.h"

static int smtpd_drop(struct smtpd_ctx *ctx, char *err, size_t errlen)
{
	struct privdrop_spec spec = {.uid = getuid(), .gid = getgid()};
	bool root = geteuid() == 0;
	if (root) {
		if (privdrop_lookup(config_str(ctx->cfg, "smtp_user"), &spec.uid, &spec.gid, err,
		                    errlen) < 0)
			return -1;
		spec.chroot_dir = config_str(ctx->cfg, "base_dir");
	}
	if (privdrop_apply(&spec, err, errlen) < 0)
		return -1;
	ctx->chrooted = root;
	const char *e = NULL;
	if (sandbox_enter(sandbox_kind_for(ctx->cfg, SANDBOX_SMTPD), "smtpd", STDERR_FILENO, &e) <
	    0) {
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	return 0;
}

static int smtpd_setup(struct smtpd_ctx *ctx, const char *conf, char *err, size_t errlen)
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
	log_open_pipe(&ctx->log, "smtpd", prio < 0 ? LOG_INFO : prio);
	if (smtpd_settings_load(ctx, err, errlen) < 0 || smtpd_tls_load(ctx, err, errlen) < 0 ||
	    smtpd_listen_setup(ctx, err, errlen) < 0)
		return -1;
	return smtpd_drop(ctx, err, errlen);
}

int main(int argc, char **argv)
{
	struct smtpd_ctx ctx;
	char err[512];
	memset(&ctx, 0, sizeof(ctx));
	ctx.sigfd = -1;
	const char *conf = service_config_path(argc, argv, "loft-smtpd");
	if (conf == NULL)
		return 2;
	if (smtpd_setup(&ctx, conf, err, sizeof(err)) < 0) {
		if (ctx.cfg != NULL)
			log_error(&ctx.log, "%s", err);
		else
			fprintf(stderr, "smtpd: %s\n", err);
		smtpd_exit(&ctx, 1);
	}
	log_info(&ctx.log, "serving %zu listener(s)%s%s", ctx.nls,
	         ctx.ssl_ctx != NULL ? ", TLS on" : ", TLS off", ctx.chrooted ? ", chrooted" : "");
	int status = smtpd_listen_run(&ctx);
	for (size_t i = 0; i < ctx.nls; i++)
		close(ctx.ls[i].sl.fd);
	close(ctx.sigfd);
	smtpd_clients_free(&ctx.clients);
	if (ctx.ssl_ctx != NULL)
		SSL_CTX_free(ctx.ssl_ctx);
	smtpd_settings_free(&ctx.set);
	config_free(ctx.cfg);
	smtpd_exit(&ctx, status);
}
