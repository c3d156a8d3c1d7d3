/* smtpd-listen.c: the parent of loft-smtpd. It takes the "smtp",
 * "submission" and "submissions" listeners from the master, accepts, enforces
 * smtpd_max_connections_per_ip over its live children (421 4.7.0 and close
 * when over), forks one child per connection and reaps them. Signals arrive
 * through a signalfd: SIGTERM ends the children and the daemon, SIGQUIT
 * closes the listeners and waits for the children to finish. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "addr-key.h"
#include "smtpd-private.h"
#include "tcp.h"

void smtpd_exit(const struct smtpd_ctx *ctx, int status)
{
	/* Inside the chroot there is no /proc for LeakSanitizer: skip atexit. */
	if (ctx->chrooted)
		_exit(status);
	exit(status);
}

static int mode_of(const char *proto, enum smtp_mode *m)
{
	if (strcmp(proto, "smtp") == 0)
		*m = SMTP_MODE_MX;
	else if (strcmp(proto, "submission") == 0)
		*m = SMTP_MODE_SUBMISSION;
	else if (strcmp(proto, "submissions") == 0)
		*m = SMTP_MODE_SUBMISSIONS;
	else
		return -1;
	return 0;
}

int smtpd_listen_setup(struct smtpd_ctx *ctx, char *err, size_t errlen)
{
	struct service_listener sl[SERVICE_MAX_LISTENERS];
	const char *fds = getenv("LOFT_LISTEN_FDS");
	int n = service_parse_listen_fds(fds != NULL ? fds : "", sl, SERVICE_MAX_LISTENERS);
	if (n < 0) {
		snprintf(err, errlen, "bad LOFT_LISTEN_FDS '%.200s'", fds != NULL ? fds : "");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct smtpd_listener *l = &ctx->ls[ctx->nls];
		if (mode_of(sl[i].proto, &l->mode) < 0) {
			log_warning(&ctx->log, "ignoring unexpected listener %s (fd %d)",
			            sl[i].proto, sl[i].fd);
			close(sl[i].fd);
			continue;
		}
		if (l->mode == SMTP_MODE_SUBMISSIONS && ctx->ssl_ctx == NULL)
			log_error(&ctx->log, "listener submissions needs TLS but ssl = no: its "
			                     "clients are disconnected at once");
		l->sl = sl[i];
		int fl = fcntl(l->sl.fd, F_GETFL);
		if (fl < 0 || fcntl(l->sl.fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(l->sl.fd, F_SETFD, FD_CLOEXEC) < 0) {
			snprintf(err, errlen, "listener %s: %s", sl[i].proto, strerror(errno));
			return -1;
		}
		ctx->nls++;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (ctx->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void close_listeners(struct smtpd_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nls; i++)
		close(ctx->ls[i].sl.fd);
	ctx->nls = 0;
}

static void reap(struct smtpd_ctx *ctx)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		smtpd_clients_remove(&ctx->clients, pid);
		if (WIFSIGNALED(st) && WTERMSIG(st) != SIGTERM)
			log_warning(&ctx->log, "connection child %d killed by signal %d", (int)pid,
			            WTERMSIG(st));
	}
}

/* In the new child: drop what belongs to the parent, serve, leave. */
__attribute__((noreturn)) static void child(struct smtpd_ctx *ctx, int fd, enum smtp_mode mode)
{
	close_listeners(ctx);
	close(ctx->sigfd);
	smtpd_clients_free(&ctx->clients);
	sigset_t set;
	sigemptyset(&set);
	signal(SIGTERM, SIG_DFL);
	signal(SIGQUIT, SIG_IGN); /* a reload lets open sessions finish */
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (mode == SMTP_MODE_SUBMISSIONS && ctx->ssl_ctx == NULL)
		close(fd);
	else
		smtpd_conn_run(ctx, fd, mode);
	if (ctx->ssl_ctx != NULL)
		SSL_CTX_free(ctx->ssl_ctx);
	smtpd_settings_free(&ctx->set);
	config_free(ctx->cfg);
	smtpd_exit(ctx, 0);
}

static void refuse(struct smtpd_ctx *ctx, int fd, const char *ip, enum smtp_mode mode, bool global)
{
	if (global)
		log_warning(&ctx->log, "smtpd_max_clients (%u) reached; refused %s",
		            ctx->set.max_clients, ip);
	else
		log_warning(&ctx->log, "too many connections from %s", ip);
	/* an implicit-TLS client could not read a clear-text reply */
	if (mode != SMTP_MODE_SUBMISSIONS) {
		char line[400];
		int n = global ? snprintf(line, sizeof(line),
		                          "421 4.3.2 %s Service busy, too many connections; try "
		                          "again later\r\n",
		                          ctx->set.hostname)
		               : snprintf(line, sizeof(line),
		                          "421 4.7.0 %s Error: too many connections from %s\r\n",
		                          ctx->set.hostname, ip);
		/* best effort, never blocking the parent */
		if (send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			log_debug(&ctx->log, "421 to %s not sent: %s", ip, strerror(errno));
	}
	close(fd);
}

static void peer_ip(int fd, char *ip, size_t iplen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	snprintf(ip, iplen, "unknown");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, (socklen_t)iplen);
	} else if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], ip, (socklen_t)iplen);
		else
			inet_ntop(AF_INET6, a, ip, (socklen_t)iplen);
	}
}

static void accept_one(struct smtpd_ctx *ctx, const struct smtpd_listener *l)
{
	int fd = accept4(l->sl.fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warning(&ctx->log, "accept on %s: %s", l->sl.proto, strerror(errno));
		return;
	}
	/* Multi-line replies (EHLO) must not wait for the client's delayed ACK. */
	(void)tcp_nodelay(fd);
	char ip[64], key[ADDR_KEY_MAX] = "";
	peer_ip(fd, ip, sizeof(ip));
	if (ctx->set.max_clients > 0 && ctx->clients.n >= ctx->set.max_clients) {
		refuse(ctx, fd, ip, l->mode, true);
		return;
	}
	/* $mynetworks is exempt, as Postfix's smtpd_client_connection_limit_exceptions */
	if (!smtpd_addr_in_networks(&ctx->set, ip))
		(void)addr_key(ip, strlen(ip), ctx->set.ipv6_prefix, key);
	if (key[0] != '\0' && ctx->set.max_per_ip > 0 &&
	    smtpd_clients_count(&ctx->clients, key) >= ctx->set.max_per_ip) {
		refuse(ctx, fd, ip, l->mode, false);
		return;
	}
	pid_t pid = fork();
	if (pid == 0)
		child(ctx, fd, l->mode);
	close(fd);
	if (pid < 0) {
		log_error(&ctx->log, "fork: %s", strerror(errno));
		return;
	}
	if (smtpd_clients_add(&ctx->clients, pid, key) < 0)
		log_error(&ctx->log, "out of memory counting connections");
}

/* One signal from the signalfd. false when the loop should end now. */
static bool on_signal(struct smtpd_ctx *ctx)
{
	struct signalfd_siginfo si;
	while (read(ctx->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap(ctx);
		} else if (si.ssi_signo == SIGQUIT) {
			if (!ctx->draining)
				log_info(&ctx->log, "draining on SIGQUIT (%zu connection(s) open)",
				         ctx->clients.n);
			ctx->draining = true;
			close_listeners(ctx);
		} else {
			log_info(&ctx->log, "stopping on signal %u", si.ssi_signo);
			for (size_t i = 0; i < ctx->clients.n; i++)
				kill(ctx->clients.v[i].pid, SIGTERM);
			return false;
		}
	}
	return true;
}

int smtpd_listen_run(struct smtpd_ctx *ctx)
{
	struct pollfd p[SERVICE_MAX_LISTENERS + 1];
	for (;;) {
		reap(ctx);
		if (ctx->draining && ctx->clients.n == 0) {
			log_info(&ctx->log, "drained; exiting");
			return 0;
		}
		p[0] = (struct pollfd){.fd = ctx->sigfd, .events = POLLIN};
		for (size_t i = 0; i < ctx->nls; i++)
			p[i + 1] = (struct pollfd){.fd = ctx->ls[i].sl.fd, .events = POLLIN};
		int n = poll(p, ctx->nls + 1, -1);
		if (n < 0 && errno != EINTR) {
			log_error(&ctx->log, "poll: %s", strerror(errno));
			return 1;
		}
		if (n <= 0)
			continue;
		if ((p[0].revents & POLLIN) && !on_signal(ctx))
			return 0;
		for (size_t i = 0; i < ctx->nls; i++)
			if (p[i + 1].revents & POLLIN)
				accept_one(ctx, &ctx->ls[i]);
	}
}
