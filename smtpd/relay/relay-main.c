/* relay-main.c: loft-relay, spawned by loft-master (lib/core/service.h) with the
 * unix listener "relay" that only loft-queue reaches. It reads its config,
 * builds the STARTTLS client context, drops to smtp_user (as root) with no
 * capabilities and NO_NEW_PRIVS, then accepts: each connection is one job,
 * served by a forked child with blocking I/O (relay-server.c); the parent
 * only accepts and reaps. SIGTERM stops (children too), SIGQUIT drains. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "evloop.h"
#include "log.h"
#include "privdrop.h"
#include "sandbox.h"
#include "relay-self.h"
#include "relay.h"
#include "service.h"
#include "tls.h"

#define RELAY_MAX_JOBS   200
#define RELAY_TIMEOUT_MS (5 * 60 * 1000)

struct relay_main {
	struct loft_log lg;
	struct config *cfg;
	struct event_base *base;
	struct event *ev_accept, *ev_term, *ev_quit, *ev_chld;
	int lfd;
	pid_t *kids;
	size_t nkids;
	bool draining;
	char hostname[256];
	struct relay_opts opts;
	struct relay_self self;
};

static int load_config(struct relay_main *m, const char *path)
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

/* A listen host given by name: every address it has at start-up. */
static int resolve_listen(const char *host, bool v6, struct relay_self *s, uint16_t port)
{
	struct addrinfo hints = {.ai_family = v6 ? AF_INET6 : AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0; /* the master could not bind it either */
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		char num[INET6_ADDRSTRLEN + 1];
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num), NULL, 0,
		                NI_NUMERICHOST) == 0 &&
		    relay_self_add_numeric(s, num, ai->ai_family == AF_INET6, port) < 0)
			break; /* full: what we have still catches most loops */
	}
	freeaddrinfo(res);
	return 0;
}

/* Our SMTP listeners on smtp_remote_port: where a loop would land. */
static int setup_self(struct relay_main *m, uint16_t port)
{
	static const char *const protos[] = {"smtp", "submission", "submissions", NULL};
	for (const char *const *p = protos; *p != NULL; p++) {
		if (!config_list_has(m->cfg, "protocols", *p))
			continue;
		char key[40];
		size_t n = 0;
		snprintf(key, sizeof(key), "%s_listen", *p);
		const char *const *words = config_list(m->cfg, key, &n);
		for (size_t i = 0; i < n; i++) {
			const char *e = NULL;
			if (relay_self_add_list(&m->self, words[i], port, resolve_listen, &e) < 0) {
				log_error(&m->lg, "%s: %s: %s", key, words[i], e);
				return -1;
			}
		}
	}
	m->opts.self = &m->self;
	return 0;
}

static int setup_opts(struct relay_main *m)
{
	char err[512];
	const char *hn = config_str(m->cfg, "myhostname");
	if (hn[0] != '\0')
		snprintf(m->hostname, sizeof(m->hostname), "%s", hn);
	else if (gethostname(m->hostname, sizeof(m->hostname) - 1) < 0 || m->hostname[0] == '\0')
		snprintf(m->hostname, sizeof(m->hostname), "localhost");
	uint64_t port = config_uint(m->cfg, "smtp_remote_port");
	if (port == 0 || port > 65535) {
		log_error(&m->lg, "smtp_remote_port %llu out of range", (unsigned long long)port);
		return -1;
	}
	const char *ca = config_str(m->cfg, "smtp_tls_ca");
	struct relay_opts *o = &m->opts;
	o->hostname = m->hostname;
	o->relayhost = config_str(m->cfg, "relayhost");
	o->dns_server = config_str(m->cfg, "smtp_dns_server");
	o->port = (uint16_t)port;
	if (setup_self(m, o->port) < 0)
		return -1;
	o->timeout_ms = RELAY_TIMEOUT_MS;
	o->tls_verify = ca[0] != '\0';
	/* Built before the drop: the CA file may be readable by root only. */
	o->tls = tls_client_ctx_new(o->tls_verify ? ca : NULL, o->tls_verify, err, sizeof(err));
	if (o->tls == NULL) {
		/* still deliver, just without STARTTLS */
		log_error(&m->lg, "STARTTLS disabled: %s", err);
	}
	return 0;
}

static int drop_privileges(struct relay_main *m)
{
	char err[512];
	struct privdrop_spec spec = {.uid = getuid(), .gid = getgid()};
	if (geteuid() == 0 && privdrop_lookup(config_str(m->cfg, "smtp_user"), &spec.uid, &spec.gid,
	                                      err, sizeof(err)) < 0) {
		log_error(&m->lg, "%s", err);
		return -1;
	}
	if (privdrop_apply(&spec, err, sizeof(err)) < 0) {
		log_error(&m->lg, "privilege drop: %s", err);
		return -1;
	}
	const char *e = NULL;
	if (sandbox_enter(sandbox_kind_for(m->cfg, SANDBOX_RELAY), "relay", STDERR_FILENO, &e) <
	    0) {
		log_error(&m->lg, "%s", e);
		return -1;
	}
	return 0;
}

/* The job child: plain signals, no listener, one connection, exit. */
static void job_child(struct relay_main *m, int cfd)
{
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	close(m->lfd);
	int r = relay_server_serve(cfd, &m->opts, &m->lg);
	close(cfd);
	_exit(r < 0 ? 1 : 0);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct relay_main *m = arg;
	(void)what;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_error(&m->lg, "accept: %s", strerror(errno));
		return;
	}
	if (m->nkids >= RELAY_MAX_JOBS) {
		/* The queue sees the connection close without DONE and retries. */
		log_warning(&m->lg, "%d jobs running: connection refused", RELAY_MAX_JOBS);
		close(cfd);
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_error(&m->lg, "fork: %s", strerror(errno));
		close(cfd);
		return;
	}
	if (pid == 0)
		job_child(m, cfd);
	close(cfd);
	m->kids[m->nkids++] = pid;
}

static void stop_listening(struct relay_main *m)
{
	if (m->ev_accept != NULL)
		event_free(m->ev_accept);
	m->ev_accept = NULL;
	if (m->lfd >= 0)
		close(m->lfd);
	m->lfd = -1;
}

static void on_chld(evutil_socket_t sig, short what, void *arg)
{
	struct relay_main *m = arg;
	(void)sig;
	(void)what;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < m->nkids; i++) {
			if (m->kids[i] == pid) {
				m->kids[i] = m->kids[--m->nkids];
				break;
			}
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			log_warning(&m->lg, "job process %ld ended abnormally (status %d)",
			            (long)pid, status);
	}
	if (m->draining && m->nkids == 0)
		event_base_loopbreak(m->base);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	struct relay_main *m = arg;
	(void)what;
	stop_listening(m);
	if (sig == SIGQUIT) {
		log_info(&m->lg, "draining %zu jobs", m->nkids);
		m->draining = true;
		if (m->nkids == 0)
			event_base_loopbreak(m->base);
		return;
	}
	/* A job cut short has sent no DONE: the queue retries it. */
	for (size_t i = 0; i < m->nkids; i++)
		kill(m->kids[i], SIGTERM);
	event_base_loopbreak(m->base);
}

static int setup(struct relay_main *m, const char *conf)
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
	for (int i = 0; i < nl; i++) {
		if (strcmp(ls[i].proto, "relay") == 0 && m->lfd < 0) {
			m->lfd = ls[i].fd;
		} else {
			log_warning(&m->lg, "unknown listener %s (fd %d) closed", ls[i].proto,
			            ls[i].fd);
			close(ls[i].fd);
		}
	}
	if (m->lfd < 0) {
		log_error(&m->lg, "no relay listener");
		return -1;
	}
	if (setup_opts(m) < 0 || drop_privileges(m) < 0)
		return -1;
	m->kids = calloc(RELAY_MAX_JOBS, sizeof(pid_t));
	m->base = evloop_new(err, sizeof(err));
	if (m->kids == NULL || m->base == NULL) {
		log_error(&m->lg, "%s", m->base == NULL ? err : "out of memory");
		return -1;
	}
	if (evloop_set_nonblock(m->lfd) < 0 ||
	    (m->ev_accept = evloop_add_read(m->base, m->lfd, on_accept, m)) == NULL ||
	    (m->ev_term = evloop_add_signal(m->base, SIGTERM, on_term, m)) == NULL ||
	    (m->ev_quit = evloop_add_signal(m->base, SIGQUIT, on_term, m)) == NULL ||
	    (m->ev_chld = evloop_add_signal(m->base, SIGCHLD, on_chld, m)) == NULL) {
		log_error(&m->lg, "event setup failed");
		return -1;
	}
	return 0;
}

static void teardown(struct relay_main *m)
{
	stop_listening(m);
	struct event *evs[] = {m->ev_term, m->ev_quit, m->ev_chld};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	if (m->base != NULL)
		event_base_free(m->base);
	if (m->opts.tls != NULL)
		SSL_CTX_free(m->opts.tls);
	free(m->kids);
	config_free(m->cfg);
}

int main(int argc, char **argv)
{
	const char *conf = service_config_path(argc, argv, "loft-relay");
	if (conf == NULL)
		return 2;
	struct relay_main m;
	memset(&m, 0, sizeof(m));
	m.lfd = -1;
	log_open_pipe(&m.lg, "relay", LOG_INFO);
	int rc = 1;
	bool root = geteuid() == 0;
	if (setup(&m, conf) == 0) {
		log_info(&m.lg, "serving (%s)", root ? "as smtp_user" : "unprivileged");
		event_base_dispatch(m.base);
		rc = 0;
	}
	teardown(&m);
	return rc;
}
