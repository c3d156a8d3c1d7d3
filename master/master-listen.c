/* master-listen.c: the master's listening sockets. Parses listen words
 * ("*:143", "[::]:143", "127.0.0.1:10143", "host:25"), binds inet and unix
 * sockets for the enabled services, and reuses an already bound socket for an
 * unchanged address on reload. Bind failures name the address and errno. */
#include "master-ctx.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int master_owner(const struct master *m, const struct config *cfg, enum sock_owner o, uid_t *uid_r,
                 gid_t *gid_r, char *err, size_t errlen)
{
	static const char *const keys[] = {NULL, "login_user", "smtp_user", "queue_user"};
	if (!m->root) {
		*uid_r = m->uid;
		*gid_r = m->gid;
		return 0;
	}
	if (o == OWN_ROOT) {
		*uid_r = 0;
		*gid_r = 0;
		return 0;
	}
	const char *user = config_str(cfg, keys[o]);
	struct passwd pw, *res = NULL;
	char pwbuf[4096];
	if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &res) != 0 || res == NULL) {
		snprintf(err, errlen, "%s %s does not exist", keys[o], user);
		return -1;
	}
	*uid_r = pw.pw_uid;
	*gid_r = pw.pw_gid;
	return 0;
}

static const struct listener *lset_find(const struct lset *s, const char *name, const char *addr)
{
	for (size_t i = 0; s != NULL && i < s->n; i++) {
		if (strcmp(s->v[i].name, name) == 0 && strcmp(s->v[i].addr, addr) == 0)
			return &s->v[i];
	}
	return NULL;
}

static struct listener *lset_push(struct lset *s, const struct svc_def *svc, const char *name,
                                  const char *addr, bool is_unix)
{
	struct listener *v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	s->v = v;
	struct listener *l = &v[s->n++];
	memset(l, 0, sizeof(*l));
	l->svc = svc;
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	l->is_unix = is_unix;
	l->fd = -1;
	return l;
}

/* The socket for l: a dup of old's when old has the same one, else new. */
static int reuse_fd(const struct lset *old, struct listener *l)
{
	const struct listener *o = lset_find(old, l->name, l->addr);
	if (o == NULL)
		return 0;
	l->fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 3);
	return l->fd >= 0 ? 1 : -1;
}

static int bind_inet_one(struct listener *l, const struct addrinfo *ai, char *err, size_t errlen)
{
	int one = 1;
	l->fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ai->ai_family == AF_INET6 &&
	     setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(l->fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(l->fd, MASTER_LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "cannot listen on %s (%s): %s", l->addr, l->name,
		         strerror(errno));
		return -1;
	}
	return 0;
}

static int bind_inet_word(struct lset *out, const struct lset *old, const struct svc_def *svc,
                          const char *proto, const char *word, char *err, size_t errlen)
{
	char host[256], portstr[8];
	unsigned port;
	bool v6;
	if (listen_parse_addr(word, strlen(word), host, sizeof(host), &port, &v6, err, errlen) < 0)
		return -1;
	snprintf(portstr, sizeof(portstr), "%u", port);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	/* "*" is IPv4 only: "[::]" is its own word, bound v6-only beside it. */
	hints.ai_family = v6 ? AF_INET6 : (host[0] == '\0' ? AF_INET : AF_UNSPEC);
	if (v6)
		hints.ai_flags |= AI_NUMERICHOST;
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host[0] != '\0' ? host : NULL, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve listen address %s (%s): %s", word, proto,
		         gai_strerror(rc));
		return -1;
	}
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		char num[INET6_ADDRSTRLEN + 1], addr[160];
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num), NULL, 0,
		                NI_NUMERICHOST) != 0)
			continue;
		snprintf(addr, sizeof(addr), ai->ai_family == AF_INET6 ? "[%s]:%u" : "%s:%u", num,
		         port);
		if (lset_find(out, proto, addr) != NULL)
			continue; /* the same address listed twice */
		struct listener *l = lset_push(out, svc, proto, addr, false);
		if (l == NULL || (rc = reuse_fd(old, l)) < 0 ||
		    (rc == 0 && bind_inet_one(l, ai, err, errlen) < 0)) {
			if (l == NULL || rc < 0)
				snprintf(err, errlen, "cannot listen on %s: %s", addr,
				         strerror(errno));
			freeaddrinfo(res);
			return -1;
		}
	}
	freeaddrinfo(res);
	return 0;
}

static int bind_unix(const struct master *m, const struct config *cfg, struct lset *out,
                     const struct lset *old, const struct svc_def *svc, const struct svc_unix *su,
                     char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char addr[160];
	int n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", m->base_dir, su->file);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path %s/%s too long", m->base_dir, su->file);
		return -1;
	}
	snprintf(addr, sizeof(addr), "unix:%s", sun.sun_path);
	uid_t uid;
	gid_t gid;
	if (master_owner(m, cfg, su->owner, &uid, &gid, err, errlen) < 0)
		return -1;
	struct listener *l = lset_push(out, svc, su->name, addr, true);
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = reuse_fd(old, l);
	if (rc == 0) {
		struct stat st;
		if (lstat(sun.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(sun.sun_path); /* stale: we hold the pid file lock */
		l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			rc = -1;
	}
	if (rc < 0 || chmod(sun.sun_path, su->mode) < 0 ||
	    (m->root && chown(sun.sun_path, uid, gid) < 0) ||
	    listen(l->fd, MASTER_LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "cannot listen on %s (%s): %s", addr, su->name,
		         strerror(errno));
		return -1;
	}
	return 0;
}

int lset_build(const struct master *m, const struct config *cfg, const struct lset *old,
               struct lset *out, char *err, size_t errlen)
{
	out->v = NULL;
	out->n = 0;
	for (size_t i = 0; i < master_n_services; i++) {
		const struct svc_def *d = &master_services[i];
		if (!svc_enabled(d, cfg))
			continue;
		for (const char *const *p = d->inet; *p != NULL; p++) {
			if (!config_list_has(cfg, "protocols", *p))
				continue;
			char key[32];
			size_t nw;
			snprintf(key, sizeof(key), "%s_listen", *p);
			const char *const *words = config_list(cfg, key, &nw);
			for (size_t w = 0; w < nw; w++) {
				if (bind_inet_word(out, old, d, *p, words[w], err, errlen) < 0)
					goto fail;
			}
		}
		for (size_t s = 0; s < d->n_socks; s++) {
			if (bind_unix(m, cfg, out, old, d, &d->socks[s], err, errlen) < 0)
				goto fail;
		}
	}
	return 0;
fail:
	lset_close(out, old);
	return -1;
}

void lset_close(struct lset *s, const struct lset *keep)
{
	for (size_t i = 0; i < s->n; i++) {
		struct listener *l = &s->v[i];
		if (l->fd >= 0)
			close(l->fd);
		struct stat st;
		if (l->is_unix && lset_find(keep, l->name, l->addr) == NULL &&
		    lstat(l->addr + 5, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(l->addr + 5);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
