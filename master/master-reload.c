/* master-reload.c: SIGHUP. Loads the config again and, only if all of it is
 * good (parses, daemons installed, listeners bind), starts a new generation
 * of every enabled service on the new listeners and lets the old generation
 * drain (SIGQUIT). Any failure logs `reload failed: ...` and leaves the old
 * config and its children serving untouched. */
#include "master-ctx.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reload_log_errors(struct master *m, const struct cfg_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++) {
		const struct cfg_error *e = &errs->v[i];
		if (e->line > 0)
			log_error(&m->log, "reload failed: %s:%u: %s", e->file, e->line, e->msg);
		else
			log_error(&m->log, "reload failed: %s: %s", e->file, e->msg);
	}
	if (errs->n == 0)
		log_error(&m->log, "reload failed: %s: cannot load", m->conf);
}

/* Reopen the log when its settings changed; keep the old one on failure. */
static void reload_log(struct master *m, const struct config *cfg)
{
	if (strcmp(config_str(cfg, "log_path"), config_str(m->cfg, "log_path")) == 0 &&
	    strcmp(config_str(cfg, "syslog_facility"), config_str(m->cfg, "syslog_facility")) ==
	        0 &&
	    strcmp(config_str(cfg, "log_level"), config_str(m->cfg, "log_level")) == 0)
		return;
	struct loft_log lg;
	int prio = log_prio_parse(config_str(cfg, "log_level"));
	if (log_open_master(&lg, "master", config_str(cfg, "log_path"),
	                    config_str(cfg, "syslog_facility"), prio < 0 ? LOG_INFO : prio) < 0) {
		log_error(&m->log, "reload: cannot open the new log; keeping the old one");
		return;
	}
	log_close(&m->log);
	m->log = lg;
}

static void reload_apply(struct master *m, struct config *cfg, struct lset *ls)
{
	struct lset old_ls = m->ls;
	struct config *old_cfg = m->cfg;
	struct child *old = m->children;
	m->children = NULL;
	reload_log(m, cfg);
	m->cfg = cfg;
	m->ls = *ls;
	m->generation++;
	char err[MASTER_ERR_MAX];
	if (master_spawn_all(m, true, err, sizeof(err)) < 0)
		log_error(&m->log, "reload: %s", err);
	/* The old generation drains: SIGQUIT to the running, and a pending
	 * restart of a crashed one is simply dropped. */
	struct child **tail = &m->children;
	while (*tail != NULL)
		tail = &(*tail)->next;
	while (old != NULL) {
		struct child *c = old;
		old = c->next;
		c->next = NULL;
		if (c->timer != NULL) {
			event_free(c->timer);
			c->timer = NULL;
		}
		if (c->pid <= 0) {
			free(c);
			continue;
		}
		c->state = CHILD_DRAINING;
		kill(c->pid, SIGQUIT);
		*tail = c;
		tail = &c->next;
	}
	master_snapshot_release(m, m->generation - 1);
	lset_close(&old_ls, &m->ls);
	config_free(old_cfg);
	log_notice(&m->log, "reloaded %s: generation %u", m->conf, m->generation);
	master_status_write(m);
}

void master_on_sighup(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct master *m = arg;
	if (m->stopping)
		return;
	log_notice(&m->log, "reloading %s", m->conf);
	struct cfg_errors errs = {NULL, 0};
	struct config *cfg = config_load(m->conf, &errs);
	if (cfg == NULL) {
		reload_log_errors(m, &errs);
		cfg_errors_free(&errs);
		return;
	}
	cfg_errors_free(&errs);
	char err[MASTER_ERR_MAX];
	struct lset ls;
	if (svc_check_exes(cfg, err, sizeof(err)) < 0 ||
	    master_snapshot_write(m, cfg, m->generation + 1, err, sizeof(err)) < 0) {
		log_error(&m->log, "reload failed: %s", err);
		config_free(cfg);
		return;
	}
	if (lset_build(m, cfg, &m->ls, &ls, err, sizeof(err)) < 0) {
		log_error(&m->log, "reload failed: %s", err);
		master_snapshot_remove(m, m->generation + 1);
		config_free(cfg);
		return;
	}
	reload_apply(m, cfg, &ls);
}
