/* mailstore-main.c: loft-mailstore, spawned by loft-master (lib/core/service.h)
 * with the listeners `handoff`, `lmtp-local` and (with lmtp on) `lmtp`. It
 * stays root: the dispatcher forks per-user workers for handed-off sessions
 * and the LMTP server forks per-connection delivery children. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "evloop.h"
#include "lmtp.h"
#include "log.h"
#include "mailstore-dispatch.h"
#include "service.h"

struct mailstore_main {
	struct loft_log lg;
	struct config *cfg;
	struct event_base *base;
	struct dispatch *dispatch;
	struct lmtp_server *lmtp;
};

static int load_config(struct mailstore_main *m, const char *path)
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
	int prio = log_prio_parse(config_str(m->cfg, "log_level"));
	if (prio >= 0)
		m->lg.min_prio = prio;
	return 0;
}

/* Hand each listener to its owner; unknown names are closed. */
static int attach_listeners(struct mailstore_main *m, struct service_listener *ls, int n)
{
	int nhandoff = 0;
	for (int i = 0; i < n; i++) {
		int r = -1;
		if (strcmp(ls[i].proto, "handoff") == 0) {
			r = dispatch_listen(m->dispatch, ls[i].fd);
			nhandoff += r == 0;
		} else if (strcmp(ls[i].proto, "lmtp-local") == 0 ||
		           strcmp(ls[i].proto, "lmtp") == 0) {
			r = lmtp_server_listen(m->lmtp, ls[i].fd, strcmp(ls[i].proto, "lmtp") == 0);
		} else {
			log_warning(&m->lg, "unknown listener %s (fd %d) closed", ls[i].proto,
			            ls[i].fd);
			close(ls[i].fd);
			continue;
		}
		if (r < 0) {
			log_error(&m->lg, "cannot serve listener %s", ls[i].proto);
			return -1;
		}
	}
	if (nhandoff == 0)
		log_warning(&m->lg, "no handoff listener: serving LMTP only");
	return 0;
}

static int setup(struct mailstore_main *m, const char *conf)
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
	m->base = evloop_new(err, sizeof(err));
	if (m->base == NULL) {
		log_error(&m->lg, "%s", err);
		return -1;
	}
	m->dispatch = dispatch_new(m->base, m->cfg, &m->lg);
	m->lmtp = lmtp_server_new(m->base, m->cfg, &m->lg);
	if (m->dispatch == NULL || m->lmtp == NULL) {
		log_error(&m->lg, "out of memory");
		return -1;
	}
	dispatch_set_lmtp(m->dispatch, m->lmtp);
	return attach_listeners(m, ls, nl);
}

static void teardown(struct mailstore_main *m)
{
	dispatch_free(m->dispatch);
	if (m->lmtp != NULL)
		lmtp_server_free(m->lmtp);
	if (m->base != NULL)
		event_base_free(m->base);
	config_free(m->cfg);
}

int main(int argc, char **argv)
{
	const char *conf = service_config_path(argc, argv, "loft-mailstore");
	if (conf == NULL)
		return 2;
	struct mailstore_main m;
	memset(&m, 0, sizeof(m));
	log_open_pipe(&m.lg, "mailstore", LOG_INFO);
	int rc = 1;
	if (setup(&m, conf) == 0) {
		log_info(&m.lg, "serving (%s)", geteuid() == 0 ? "root" : "unprivileged");
		event_base_dispatch(m.base);
		rc = 0;
	}
	teardown(&m);
	return rc;
}
