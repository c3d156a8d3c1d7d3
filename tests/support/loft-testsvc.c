/* loft-testsvc: a generic daemon for the master's integration tests. It obeys
 * the lib/core/service.h contract (listeners from LOFT_LISTEN_FDS, log lines on
 * stderr, SIGTERM = stop now, SIGQUIT = drain), greets every connection with
 * its service, protocol, pid and generation, and echoes each line back. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "evloop.h"
#include "log.h"
#include "privdrop.h"
#include "service.h"

#define TESTSVC_LINE_MAX 8192

struct testsvc;

struct tlisten {
	struct testsvc *t;
	struct service_listener sl;
	struct event *ev;
};

struct tconn {
	struct testsvc *t;
	const char *proto;
	int fd;
	struct event *ev;
	struct buf in;
	struct tconn *next;
};

struct testsvc {
	struct event_base *base;
	struct loft_log log;
	const char *service;
	const char *generation;
	struct tlisten ls[SERVICE_MAX_LISTENERS];
	size_t nls;
	struct tconn *conns;
	bool draining;
	bool chrooted;
};

/* Inside the chroot there is no /proc, which LeakSanitizer needs at exit:
 * a chrooted test service leaves without the atexit handlers. */
__attribute__((noreturn)) static void testsvc_exit(const struct testsvc *t, int status)
{
	if (t->chrooted)
		_exit(status);
	exit(status);
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a test client that stops reading loses the rest */
		p += w;
		n -= (size_t)w;
	}
}

static void conn_close(struct tconn *c)
{
	struct testsvc *t = c->t;
	for (struct tconn **pp = &t->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	event_free(c->ev);
	close(c->fd);
	buf_free(&c->in);
	free(c);
	if (t->draining && t->conns == NULL)
		event_base_loopbreak(t->base);
}

static void on_conn_read(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct tconn *c = arg;
	char chunk[4096];
	ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || buf_append(&c->in, chunk, (size_t)n) < 0) {
		conn_close(c);
		return;
	}
	ssize_t len;
	while ((len = line_find(c->in.data, c->in.len, TESTSVC_LINE_MAX)) > 0) {
		size_t l = (size_t)len - 1;
		if (l > 0 && c->in.data[l - 1] == '\r')
			l--;
		struct buf out;
		buf_init(&out, TESTSVC_LINE_MAX + 16);
		if (buf_append_str(&out, "echo ") == 0 && buf_append(&out, c->in.data, l) == 0 &&
		    buf_append_str(&out, "\r\n") == 0)
			send_all(c->fd, out.data, out.len);
		buf_free(&out);
		buf_consume(&c->in, (size_t)len);
	}
	if (len < 0)
		conn_close(c);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct tlisten *l = arg;
	struct testsvc *t = l->t;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	struct tconn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(cfd);
		return;
	}
	c->t = t;
	c->proto = l->sl.proto;
	c->fd = cfd;
	buf_init(&c->in, TESTSVC_LINE_MAX * 2);
	c->ev = evloop_add_read(t->base, cfd, on_conn_read, c);
	if (c->ev == NULL) {
		close(cfd);
		free(c);
		return;
	}
	c->next = t->conns;
	t->conns = c;
	char greet[256];
	int n = snprintf(greet, sizeof(greet),
	                 "* OK loft-testsvc service=%s proto=%s pid=%ld gen=%s\r\n", t->service,
	                 c->proto, (long)getpid(), t->generation);
	send_all(cfd, greet, (size_t)n);
	log_info(&t->log, "connection on %s", c->proto);
}

static void on_sigterm(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct testsvc *t = arg;
	log_info(&t->log, "stopping on SIGTERM");
	testsvc_exit(t, 0);
}

static void on_sigquit(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct testsvc *t = arg;
	if (t->draining)
		return;
	t->draining = true;
	for (size_t i = 0; i < t->nls; i++) {
		event_free(t->ls[i].ev);
		close(t->ls[i].sl.fd);
	}
	t->nls = 0;
	log_info(&t->log, "draining on SIGQUIT");
	if (t->conns == NULL)
		event_base_loopbreak(t->base);
}

static bool has_inet(const struct testsvc *t)
{
	for (size_t i = 0; i < t->nls; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (getsockname(t->ls[i].sl.fd, (struct sockaddr *)&ss, &sl) == 0 &&
		    ss.ss_family != AF_UNIX)
			return true;
	}
	return false;
}

/* Root with inet listeners: become login_user inside login_chroot, like a
 * real login daemon, so tests can check what the master's children get. */
static void testsvc_drop(struct testsvc *t, const struct config *cfg)
{
	char err[256];
	uid_t uid;
	gid_t gid;
	if (geteuid() != 0 || !has_inet(t))
		return;
	struct privdrop_spec spec = {.chroot_dir = config_str(cfg, "login_chroot")};
	if (privdrop_lookup(config_str(cfg, "login_user"), &uid, &gid, err, sizeof(err)) < 0 ||
	    (spec.uid = uid, spec.gid = gid, privdrop_apply(&spec, err, sizeof(err))) < 0) {
		log_error(&t->log, "privilege drop failed: %s", err);
		exit(1);
	}
	t->chrooted = true;
}

int main(int argc, char **argv)
{
	struct testsvc t;
	const char *conf = NULL;
	char err[256];
	memset(&t, 0, sizeof(t));
	if (argc == 3 && strcmp(argv[1], "-c") == 0)
		conf = argv[2];
	t.service = getenv("LOFT_SERVICE") != NULL ? getenv("LOFT_SERVICE") : "testsvc";
	t.generation = getenv("LOFT_GENERATION") != NULL ? getenv("LOFT_GENERATION") : "0";
	if (conf == NULL) {
		fprintf(stderr, "usage: loft-testsvc -c FILE\n");
		return 2;
	}
	struct cfg_errors errs = {NULL, 0};
	struct config *cfg = config_load(conf, &errs);
	if (cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s:%u: %s\n", errs.v[i].file, errs.v[i].line,
			        errs.v[i].msg);
		cfg_errors_free(&errs);
		return 1;
	}
	int prio = log_prio_parse(config_str(cfg, "log_level"));
	log_open_pipe(&t.log, t.service, prio < 0 ? LOG_INFO : prio);
	struct service_listener sl[SERVICE_MAX_LISTENERS];
	const char *fds = getenv("LOFT_LISTEN_FDS");
	int n = service_parse_listen_fds(fds != NULL ? fds : "", sl, SERVICE_MAX_LISTENERS);
	if (n < 0) {
		log_error(&t.log, "bad LOFT_LISTEN_FDS '%s'", fds);
		return 1;
	}
	if ((t.base = evloop_new(err, sizeof(err))) == NULL) {
		log_error(&t.log, "%s", err);
		return 1;
	}
	struct event *term = evloop_add_signal(t.base, SIGTERM, on_sigterm, &t);
	struct event *quit = evloop_add_signal(t.base, SIGQUIT, on_sigquit, &t);
	if (term == NULL || quit == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		struct tlisten *l = &t.ls[t.nls++];
		l->t = &t;
		l->sl = sl[i];
		if (evloop_set_nonblock(l->sl.fd) < 0 || evloop_set_cloexec(l->sl.fd, true) < 0 ||
		    (l->ev = evloop_add_read(t.base, l->sl.fd, on_accept, l)) == NULL) {
			log_error(&t.log, "cannot watch listener %s:%d", l->sl.proto, l->sl.fd);
			return 1;
		}
	}
	testsvc_drop(&t, cfg);
	config_free(cfg);
	log_info(&t.log, "started: %d listeners, generation %s", n, t.generation);
	event_base_dispatch(t.base);
	log_info(&t.log, "exiting");
	event_free(term);
	event_free(quit);
	event_base_free(t.base);
	testsvc_exit(&t, 0);
}
