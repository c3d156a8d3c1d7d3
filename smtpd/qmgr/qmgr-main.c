/* qmgr-main.c: loft-queue, the queue manager, spawned by loft-master
 * (lib/core/service.h) with the unix listeners "queue" and "pickup". As root it
 * makes sure <state_dir>/queue belongs to queue_user (mode 0700), drops to
 * that user with no capabilities, opens the spool, runs recovery, learns
 * the queue and serves. SIGTERM: stop now (open writers aborted, job
 * children stopped; nothing acknowledged is lost). SIGQUIT: close the
 * listeners, finish open connections and running jobs, then exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evloop.h"
#include "privdrop.h"
#include "sandbox.h"
#include "qmgr.h"
#include "service.h"

void qmgr_fatal(struct qmgr *q, const char *what, const char *error)
{
	log_error(&q->lg, "fatal: %s: %s", what, error);
	q->exit_code = 1;
	event_base_loopbreak(q->base);
}

static int load_config(struct qmgr *q, const char *path)
{
	struct cfg_errors errs = {NULL, 0};
	q->cfg = config_load(path, &errs);
	if (q->cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			log_error(&q->lg, "%s:%u: %s", errs.v[i].file, errs.v[i].line,
			          errs.v[i].msg);
		if (errs.n == 0)
			log_error(&q->lg, "cannot load %s", path);
		cfg_errors_free(&errs);
		return -1;
	}
	int prio = log_prio_parse(config_str(q->cfg, "log_level"));
	if (prio >= 0)
		q->lg.min_prio = prio;
	struct qmgr_settings *s = &q->set;
	s->lifetime_ms = config_time_ms(q->cfg, "queue_lifetime");
	s->retry_min_ms = config_time_ms(q->cfg, "queue_retry_min");
	s->retry_max_ms = config_time_ms(q->cfg, "queue_retry_max");
	s->size_limit = config_size(q->cfg, "message_size_limit");
	s->timeout_ms = config_time_ms(q->cfg, "smtpd_timeout");
	s->concurrency = (unsigned)config_uint(q->cfg, "smtp_destination_concurrency");
	s->base_dir = config_str(q->cfg, "base_dir");
	s->route.mydomains = config_list(q->cfg, "mydomains", &s->route.nmydomains);
	s->route.postmaster_user = config_str(q->cfg, "postmaster_user");
	s->limits.queue_max = (size_t)config_uint(q->cfg, "queue_max_connections");
	s->limits.pickup_max = (size_t)config_uint(q->cfg, "pickup_max_connections");
	s->limits.pickup_per_uid = (size_t)config_uint(q->cfg, "pickup_max_connections_per_uid");
	s->limits.queue_idle_ms = config_time_ms(q->cfg, "queue_idle_timeout");
	s->limits.pickup_idle_ms = config_time_ms(q->cfg, "pickup_idle_timeout");
	const char *hn = config_str(q->cfg, "myhostname");
	if (hn[0] != '\0')
		snprintf(s->hostname, sizeof(s->hostname), "%s", hn);
	else if (gethostname(s->hostname, sizeof(s->hostname) - 1) < 0 || s->hostname[0] == '\0')
		snprintf(s->hostname, sizeof(s->hostname), "localhost");
	return 0;
}

/* As root: <state_dir>/queue exists, belongs to uid/gid, mode 0700, and so
 * do its folders (the spool must be loft-queue's alone). */
static int prepare_spool(const char *state_dir, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	static const char *const subs[] = {"incoming", "active",  "deferred",
	                                   "hold",     "corrupt", "state"};
	if (mkdir(state_dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", state_dir, strerror(errno));
		return -1;
	}
	int sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0) {
		snprintf(err, errlen, "open %s: %s", state_dir, strerror(errno));
		return -1;
	}
	int rc = -1;
	if (mkdirat(sfd, "queue", 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s/queue: %s", state_dir, strerror(errno));
		goto out;
	}
	int qfd = openat(sfd, "queue", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (qfd < 0 || fchown(qfd, uid, gid) < 0 || fchmod(qfd, 0700) < 0) {
		snprintf(err, errlen, "%s/queue: %s", state_dir, strerror(errno));
		if (qfd >= 0)
			close(qfd);
		goto out;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		/* Folders made by an earlier run as another user are handed
		 * over; their files are the queue's anyway. */
		if (fchownat(qfd, subs[i], uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT) {
			snprintf(err, errlen, "%s/queue/%s: %s", state_dir, subs[i],
			         strerror(errno));
			close(qfd);
			goto out;
		}
	}
	close(qfd);
	rc = 0;
out:
	close(sfd);
	return rc;
}

static int drop_privileges(struct qmgr *q, char *err, size_t errlen)
{
	struct privdrop_spec spec = {getuid(), getgid(), NULL, 0, NULL};
	if (geteuid() == 0) {
		if (privdrop_lookup(config_str(q->cfg, "queue_user"), &spec.uid, &spec.gid, err,
		                    errlen) < 0)
			return -1;
		if (prepare_spool(config_str(q->cfg, "state_dir"), spec.uid, spec.gid, err,
		                  errlen) < 0)
			return -1;
	}
	if (privdrop_apply(&spec, err, errlen) < 0)
		return -1;
	const char *e = NULL;
	if (sandbox_enter(sandbox_kind_for(q->cfg, SANDBOX_QUEUE), "queue", STDERR_FILENO, &e) <
	    0) {
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	return 0;
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct qmgr *q = arg;
	log_info(&q->lg, "SIGTERM: stopping");
	event_base_loopbreak(q->base);
}

static void drain_check(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct qmgr *q = arg;
	if (qmgr_server_nconns(q->server) == 0 && qmgr_sched_idle(q->sched))
		event_base_loopbreak(q->base);
}

static void on_quit(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct qmgr *q = arg;
	if (q->draining)
		return;
	log_info(&q->lg, "SIGQUIT: finishing open connections and deliveries");
	q->draining = true;
	qmgr_server_close_listeners(q->server);
	qmgr_sched_drain(q->sched);
	struct event *ev = event_new(q->base, -1, EV_PERSIST, drain_check, q);
	struct timeval tv = {0, 100 * 1000};
	if (ev == NULL || event_add(ev, &tv) < 0)
		event_base_loopbreak(q->base);
}

/* Job children are watched through their pipes; here they are only reaped. */
static void on_chld(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* The limits only protect the loop if accept() never runs out of
 * descriptors first: say so when they do not fit under RLIMIT_NOFILE
 * (64 kept for the spool, job pipes and refusals waiting). */
static void check_fd_budget(struct qmgr *q)
{
	struct rlimit rl;
	const struct qmgr_limits *l = &q->set.limits;
	uint64_t want = (uint64_t)l->queue_max + l->pickup_max + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    want > rl.rlim_cur)
		log_warning(
		    &q->lg,
		    "queue_max_connections + pickup_max_connections (%zu + %zu) leave too few "
		    "of the %llu descriptors RLIMIT_NOFILE allows",
		    l->queue_max, l->pickup_max, (unsigned long long)rl.rlim_cur);
}

static int attach_listeners(struct qmgr *q)
{
	const char *fds = getenv("LOFT_LISTEN_FDS");
	struct service_listener ls[SERVICE_MAX_LISTENERS];
	int n = fds != NULL ? service_parse_listen_fds(fds, ls, SERVICE_MAX_LISTENERS) : -1;
	if (n <= 0) {
		log_error(&q->lg, "LOFT_LISTEN_FDS missing or malformed");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		bool pickup = strcmp(ls[i].proto, "pickup") == 0;
		if (!pickup && strcmp(ls[i].proto, "queue") != 0) {
			log_warning(&q->lg, "unknown listener %s (fd %d) closed", ls[i].proto,
			            ls[i].fd);
			close(ls[i].fd);
			continue;
		}
		if (qmgr_server_listen(q->server, ls[i].fd, pickup) < 0) {
			log_error(&q->lg, "cannot serve listener %s", ls[i].proto);
			return -1;
		}
	}
	return 0;
}

static int setup(struct qmgr *q, const char *conf)
{
	char err[512];
	const char *e;
	struct queue_recover_stats st;
	if (load_config(q, conf) < 0)
		return -1;
	if (drop_privileges(q, err, sizeof(err)) < 0) {
		log_error(&q->lg, "dropping privileges: %s", err);
		return -1;
	}
	if (queue_store_open(&q->qs, config_str(q->cfg, "state_dir"), &e) < 0) {
		log_error(&q->lg, "spool: %s", e);
		return -1;
	}
	q->qs_open = true;
	q->qs.log = &q->lg;
	if (queue_store_recover(&q->qs, &st, &e) < 0) {
		log_error(&q->lg, "recovery: %s", e);
		return -1;
	}
	log_info(&q->lg, "recovery: %zu messages, %zu incomplete removed, %zu corrupt", st.ok,
	         st.incoming_removed, st.corrupt);
	q->base = evloop_new(err, sizeof(err));
	if (q->base == NULL) {
		log_error(&q->lg, "%s", err);
		return -1;
	}
	q->sched = qmgr_sched_new(q);
	q->server = qmgr_server_new(q);
	if (q->sched == NULL || q->server == NULL ||
	    evloop_add_signal(q->base, SIGTERM, on_term, q) == NULL ||
	    evloop_add_signal(q->base, SIGQUIT, on_quit, q) == NULL ||
	    evloop_add_signal(q->base, SIGCHLD, on_chld, q) == NULL) {
		log_error(&q->lg, "out of memory");
		return -1;
	}
	check_fd_budget(q);
	if (attach_listeners(q) < 0 || qmgr_sched_load(q->sched) < 0)
		return -1;
	return 0;
}

static void teardown(struct qmgr *q)
{
	qmgr_server_free(q->server);
	qmgr_sched_free(q->sched);
	if (q->base != NULL)
		event_base_free(q->base);
	if (q->qs_open)
		queue_store_close(&q->qs);
	config_free(q->cfg);
}

int main(int argc, char **argv)
{
	const char *conf = service_config_path(argc, argv, "loft-queue");
	if (conf == NULL)
		return 2;
	struct qmgr q;
	memset(&q, 0, sizeof(q));
	log_open_pipe(&q.lg, "queue", LOG_INFO);
	int rc = 1;
	bool root = geteuid() == 0;
	if (setup(&q, conf) == 0) {
		log_info(&q.lg, "serving (%s)", root ? "as queue_user" : "unprivileged");
		event_base_dispatch(q.base);
		rc = q.exit_code;
	}
	teardown(&q);
	return rc;
}
