/* auth-main.c: loft-auth's entry point. As a daemon (`loft-auth -c CONF`,
 * spawned by loft-master per lib/core/service.h) it loads the config, drops
 * privileges, starts the PAM worker pool and serves the auth sockets; as
 * `loft-auth pw [-s SCHEME] [-p PASSWORD]` it prints a password hash. */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth-hash.h"
#include "auth-server.h"
#include "auth-settings.h"
#include "auth-worker.h"
#include "config.h"
#include "evloop.h"
#include "log.h"
#include "privdrop.h"
#include "sandbox.h"
#include "service.h"

/* Everything the daemon holds, in one place. */
struct auth_main {
	struct loft_log lg;
	struct config *cfg;
	struct auth_settings set;
	struct event_base *base;
	struct auth_pool *pool;
	struct auth_server *srv;
	struct event *sig_term, *sig_quit, *sig_chld, *sig_int;
};

static int pw_main(int argc, char **argv)
{
	enum auth_scheme scheme = AUTH_SCHEME_SHA512_CRYPT;
	const char *pw = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "s:p:")) != -1) {
		if (opt == 's' && auth_scheme_parse(optarg, strlen(optarg), &scheme) == 0)
			continue;
		if (opt == 'p') {
			pw = optarg;
			continue;
		}
		fprintf(stderr, "usage: loft-auth pw [-s SHA512-CRYPT|SHA256-CRYPT|BLF-CRYPT|"
		                "YESCRYPT|PLAIN] [-p PASSWORD]\n");
		return 2;
	}
	char line[1024];
	if (pw == NULL) {
		if (fgets(line, sizeof(line), stdin) == NULL) {
			fprintf(stderr, "loft-auth pw: no password on stdin\n");
			return 1;
		}
		line[strcspn(line, "\r\n")] = '\0';
		pw = line;
	}
	struct buf out;
	const char *err = NULL;
	buf_init(&out, 0);
	int rc = auth_hash_make(scheme, pw, &out, &err);
	OPENSSL_cleanse(line, sizeof(line));
	if (rc < 0) {
		fprintf(stderr, "loft-auth pw: %s: %s\n", auth_scheme_name(scheme), err);
		buf_free(&out);
		return 1;
	}
	printf("%s\n", out.data);
	buf_free(&out);
	return 0;
}

/* auth_user is root: keep uid 0 (pam_unix reads /etc/shadow as its owner)
 * but give up every capability for good, so root here is "the owner of
 * root's files" and nothing more: no DAC override, no setuid, no kill. */
static int harden_root(char *err, size_t errlen)
{
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0) {
		snprintf(err, errlen, "setgroups/setresgid: %s", strerror(errno));
		return -1;
	}
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
			snprintf(err, errlen, "PR_CAPBSET_DROP: %s", strerror(errno));
			return -1;
		}
	cap_t none = cap_init();
	int rc = none != NULL ? cap_set_proc(none) : -1;
	cap_free(none);
	if (rc < 0 || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "clearing capabilities: %s", strerror(errno));
		return -1;
	}
	/* Read it all back: a drop that silently failed must not run. */
	cap_t now = cap_get_proc(), empty = cap_init();
	bool same = now != NULL && empty != NULL && cap_compare(now, empty) == 0;
	cap_free(now);
	cap_free(empty);
	for (int cap = 0; same && cap <= CAP_LAST_CAP; cap++)
		same = prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1;
	if (!same || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(err, errlen, "capabilities still held after the drop");
		return -1;
	}
	return 0;
}

static int drop_privileges(const struct auth_settings *set, char *err, size_t errlen)
{
	struct privdrop_spec spec = {getuid(), getgid(), NULL, 0, NULL};
	if (geteuid() != 0)
		return privdrop_apply(&spec, err, errlen);
	if (privdrop_lookup(set->auth_user, &spec.uid, &spec.gid, err, errlen) < 0)
		return -1;
	if (spec.uid == 0)
		return harden_root(err, errlen);
	return privdrop_apply(&spec, err, errlen);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct auth_main *m = arg;
	event_base_loopbreak(m->base);
}

static void on_quit(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct auth_main *m = arg;
	log_info(&m->lg, "SIGQUIT: finishing open requests");
	auth_server_drain(m->srv);
}

static void on_chld(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct auth_main *m = arg;
	if (m->pool != NULL)
		auth_pool_reap(m->pool);
}

static int load_config(struct auth_main *m, const char *path)
{
	struct cfg_errors errs = {NULL, 0};
	m->cfg = config_load(path, &errs);
	if (m->cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			log_error(&m->lg, "%s:%u: %s", errs.v[i].file, errs.v[i].line,
			          errs.v[i].msg);
		if (errs.n == 0)
			log_error(&m->lg, "cannot load %s", path);
		cfg_errors_free(&errs);
		return -1;
	}
	char err[512];
	if (auth_settings_load(m->cfg, &m->set, err, sizeof(err)) < 0) {
		log_error(&m->lg, "%s: %s", path, err);
		return -1;
	}
	m->lg.min_prio = m->set.log_prio;
	return 0;
}

static int setup(struct auth_main *m, const char *conf)
{
	char err[512];
	if (load_config(m, conf) < 0)
		return -1;
	const char *fds = getenv("LOFT_LISTEN_FDS");
	struct service_listener ls[SERVICE_MAX_LISTENERS];
	int nl = fds != NULL ? service_parse_listen_fds(fds, ls, SERVICE_MAX_LISTENERS) : -1;
	if (nl <= 0) {
		log_error(&m->lg, "LOFT_LISTEN_FDS missing or malformed");
		return -1;
	}
	/* as root the mailstore delivers as the user's uid: smtpd's LOOKUP
	 * must then refuse system accounts (unprivileged: one uid for all) */
	m->set.uid_rule = geteuid() == 0;
	if (drop_privileges(&m->set, err, sizeof(err)) < 0) {
		log_error(&m->lg, "dropping privileges: %s", err);
		return -1;
	}
	const char *se = NULL;
	if (sandbox_enter(sandbox_kind_for(m->cfg, SANDBOX_AUTH), "auth", STDERR_FILENO, &se) < 0) {
		log_error(&m->lg, "%s", se);
		return -1;
	}
	m->base = evloop_new(err, sizeof(err));
	if (m->base == NULL) {
		log_error(&m->lg, "%s", err);
		return -1;
	}
	/* Workers are forked before the listeners are watched, but they close
	 * every inherited descriptor anyway (they are also restarted later). */
	if (m->set.passdb == AUTH_DB_PAM) {
		m->pool = auth_pool_new(m->base, m->set.worker_count, m->set.worker_max_queue,
		                        m->set.pam_service, &m->lg, err, sizeof(err));
		if (m->pool == NULL) {
			log_error(&m->lg, "%s", err);
			return -1;
		}
	}
	m->srv = auth_server_new(m->base, &m->set, &m->lg, m->pool, err, sizeof(err));
	if (m->srv == NULL) {
		log_error(&m->lg, "%s", err);
		return -1;
	}
	for (int i = 0; i < nl; i++) {
		enum auth_listener kind;
		if (auth_listener_parse(ls[i].proto, &kind) < 0) {
			log_error(&m->lg, "unknown auth listener '%s'", ls[i].proto);
			return -1;
		}
		if (auth_server_listen(m->srv, ls[i].fd, kind, err, sizeof(err)) < 0) {
			log_error(&m->lg, "%s", err);
			return -1;
		}
	}
	m->sig_term = evloop_add_signal(m->base, SIGTERM, on_term, m);
	m->sig_int = evloop_add_signal(m->base, SIGINT, on_term, m);
	m->sig_quit = evloop_add_signal(m->base, SIGQUIT, on_quit, m);
	m->sig_chld = evloop_add_signal(m->base, SIGCHLD, on_chld, m);
	signal(SIGHUP, SIG_IGN);
	return 0;
}

static void teardown(struct auth_main *m)
{
	auth_server_free(m->srv);
	auth_pool_free(m->pool);
	struct event *evs[] = {m->sig_term, m->sig_int, m->sig_quit, m->sig_chld};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	if (m->base != NULL)
		event_base_free(m->base);
	auth_settings_free(&m->set);
	config_free(m->cfg);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "pw") == 0)
		return pw_main(argc - 1, argv + 1);
	const char *conf = getenv("LOFT_CONF");
	int opt;
	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt != 'c') {
			fprintf(stderr, "usage: loft-auth -c CONFIG | loft-auth pw [-s SCHEME] "
			                "[-p PASSWORD]\n");
			return 2;
		}
		conf = optarg;
	}
	if (conf == NULL)
		conf = LOFT_CONF_DEFAULT;
	struct auth_main m;
	memset(&m, 0, sizeof(m));
	log_open_pipe(&m.lg, "auth", LOG_INFO);
	int rc = 1;
	if (setup(&m, conf) == 0) {
		log_info(&m.lg, "serving (passdb %s)",
		         m.set.passdb == AUTH_DB_PAM ? "pam" : "passwd-file");
		event_base_dispatch(m.base);
		rc = 0;
	}
	teardown(&m);
	return rc;
}
