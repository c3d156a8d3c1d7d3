/* lmtp-server.c: LMTP listeners inside loft-mailstore's dispatcher. Accepting
 * is the only thing done in the dispatcher: every connection is served by a
 * forked child running the blocking session (lmtp-session.c), so a slow
 * client or a slow disk never blocks the dispatcher. */
#include "lmtp.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "config.h"
#include "evloop.h"
#include "log.h"
#include "tcp.h"

#define MAX_LISTENERS   8
#define LMTP_TIMEOUT_MS (5 * 60 * 1000)

struct lmtp_listener {
	struct lmtp_server *srv;
	int fd;
	bool is_tcp;
	struct event *ev;
};

struct lmtp_server {
	struct event_base *base;
	const struct config *cfg;
	const struct loft_log *log;
	struct lmtp_listener listeners[MAX_LISTENERS];
	size_t nlisteners;
	pid_t *children;
	size_t nchildren, capchildren;
	unsigned long counter; /* session ids */
	/* Local clients only (the queue, loopback MTAs), but a bound all the
	 * same: lmtp_max_sessions; 0 = none */
	uint64_t max_sessions;
	char hostname[256];
	char *spool_dir; /* <state_dir>/lmtp-spool */
};

struct lmtp_server *lmtp_server_new(struct event_base *base, const struct config *cfg,
                                    const struct loft_log *log)
{
	struct lmtp_server *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->base = base;
	s->cfg = cfg;
	s->log = log;
	const char *hn = config_str(cfg, "myhostname");
	if (hn[0] != '\0')
		snprintf(s->hostname, sizeof(s->hostname), "%s", hn);
	else if (gethostname(s->hostname, sizeof(s->hostname) - 1) < 0)
		snprintf(s->hostname, sizeof(s->hostname), "localhost");
	s->max_sessions = config_uint(cfg, "lmtp_max_sessions");
	struct buf path;
	buf_init(&path, 4096);
	char err[512];
	if (buf_printf(&path, "%s/lmtp-spool", config_str(cfg, "state_dir")) < 0 ||
	    (s->spool_dir = buf_steal(&path)) == NULL) {
		buf_free(&path);
		free(s);
		return NULL;
	}
	/* Without it DATA is answered 451 4.3.0, never spooled to memory. */
	if (lmtp_spool_prepare(s->spool_dir, err, sizeof(err)) < 0)
		log_error(log, "LMTP spool directory: %s", err);
	return s;
}

/* In the session child: give up the dispatcher's signal handling and
 * listeners, serve the one connection, exit. */
static void session_child(struct lmtp_server *s, int cfd, bool is_tcp)
{
	char sid[48];
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].fd >= 0)
			close(s->listeners[i].fd);
	snprintf(sid, sizeof(sid), "lmtp-%ld-%lu", (long)getpid(), s->counter);
	struct lmtp_auth_lookup al;
	lmtp_auth_lookup_init(&al, s->cfg, s->log);
	uint64_t idle = config_time_ms(s->cfg, "smtpd_timeout");
	struct lmtp_session_opts o = {
	    .hostname = s->hostname,
	    .size_limit = config_size(s->cfg, "message_size_limit"),
	    .max_recipients = (unsigned)config_uint(s->cfg, "smtpd_max_recipients"),
	    .timeout_ms = idle > 0 && idle < INT32_MAX ? (int)idle : LMTP_TIMEOUT_MS,
	    .drop_privs = geteuid() == 0,
	    .lookup = lmtp_lookup_auth,
	    .lookup_ctx = &al,
	    .session_id = sid,
	    .spool_dir = s->spool_dir,
	    .log = s->log,
	};
	log_msg(s->log, LOG_DEBUG, sid, "LMTP connection on %s", is_tcp ? "TCP" : "UNIX socket");
	int r = lmtp_session_run(cfd, &o);
	lmtp_auth_lookup_deinit(&al);
	close(cfd);
	_exit(r < 0 ? 1 : 0);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct lmtp_listener *l = arg;
	struct lmtp_server *s = l->srv;
	(void)what;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_error(s->log, "LMTP accept: %s", strerror(errno));
		return;
	}
	/* lmtp_listen is TCP: pipelined replies must not wait for a delayed
	 * ACK (a no-op on the UNIX socket the queue uses). */
	(void)tcp_nodelay(cfd);
	if (s->max_sessions > 0 && lmtp_server_active(s) >= s->max_sessions) {
		static const char busy[] = "421 4.3.2 Too many LMTP sessions, try again later\r\n";
		log_warning(s->log,
		            "LMTP: %llu sessions running (lmtp_max_sessions), connection refused",
		            (unsigned long long)s->max_sessions);
		if (write(cfd, busy, sizeof(busy) - 1) < 0) {
			/* the client is gone already: nothing to tell */
		}
		close(cfd);
		return;
	}
	if (s->nchildren == s->capchildren) {
		size_t cap = s->capchildren ? s->capchildren * 2 : 16;
		pid_t *v = realloc(s->children, cap * sizeof(*v));
		if (v == NULL) {
			close(cfd);
			return;
		}
		s->children = v;
		s->capchildren = cap;
	}
	s->counter++;
	pid_t pid = fork();
	if (pid < 0) {
		log_error(s->log, "LMTP fork: %s", strerror(errno));
		close(cfd);
		return;
	}
	if (pid == 0)
		session_child(s, cfd, l->is_tcp);
	close(cfd);
	s->children[s->nchildren++] = pid;
}

int lmtp_server_listen(struct lmtp_server *s, int fd, bool is_tcp)
{
	if (s->nlisteners >= MAX_LISTENERS || evloop_set_nonblock(fd) < 0)
		return -1;
	struct lmtp_listener *l = &s->listeners[s->nlisteners];
	l->srv = s;
	l->fd = fd;
	l->is_tcp = is_tcp;
	l->ev = evloop_add_read(s->base, fd, on_accept, l);
	if (l->ev == NULL)
		return -1;
	s->nlisteners++;
	return 0;
}

void lmtp_server_close_listeners(struct lmtp_server *s)
{
	for (size_t i = 0; i < s->nlisteners; i++) {
		struct lmtp_listener *l = &s->listeners[i];
		if (l->ev != NULL)
			event_free(l->ev);
		l->ev = NULL;
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
	}
}

/* Children not yet exited. waitid(WNOWAIT) only peeks, so this stays right
 * even when the dispatcher's reaper never calls lmtp_server_child_exited. */
size_t lmtp_server_active(const struct lmtp_server *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nchildren; i++) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)s->children[i], &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si.si_pid == 0)
			n++;
	}
	return n;
}

bool lmtp_server_child_exited(struct lmtp_server *s, pid_t pid, int status)
{
	for (size_t i = 0; i < s->nchildren; i++) {
		if (s->children[i] != pid)
			continue;
		s->children[i] = s->children[--s->nchildren];
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			log_warning(s->log, "LMTP session process %ld ended abnormally (status %d)",
			            (long)pid, status);
		return true;
	}
	return false;
}

void lmtp_server_free(struct lmtp_server *s)
{
	if (s == NULL)
		return;
	lmtp_server_close_listeners(s);
	free(s->children);
	free(s->spool_dir);
	free(s);
}
