/* auth-worker.c: PAM worker pool. Workers are forked (not exec'd) from the
 * auth process, so they run with its credentials; each child keeps only its
 * socketpair end and fds 0-2. A worker that dies or overruns its timeout has
 * its request answered as a temporary failure and is restarted after 1 s. */
#include "auth-worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth-pam.h"
#include "evloop.h"
#include "wire.h"

#define RESPAWN_DELAY_MS 1000

struct pool_req {
	uint64_t handle;
	char *user, *pass, *rip;
	size_t passlen;
	auth_pam_cb *cb; /* NULL once cancelled */
	void *ctx;
	struct pool_req *next;
};

struct pool_worker {
	struct auth_pool *pool;
	pid_t pid;
	int fd;
	struct wire_conn conn;
	struct event *ev, *timer, *respawn;
	struct pool_req *req;
};

struct auth_pool {
	struct event_base *base;
	const struct loft_log *lg;
	char *service;
	unsigned count;
	struct pool_worker *w;
	struct pool_req *qhead, *qtail;
	size_t queued, max_queue; /* requests waiting for a worker */
	uint64_t next_handle;
};

static void pool_dispatch(struct auth_pool *pool);

static void req_free(struct pool_req *r)
{
	OPENSSL_cleanse(r->pass, r->passlen);
	free(r->user);
	free(r->pass);
	free(r->rip);
	free(r);
}

static void req_finish(struct pool_req *r, enum auth_pam_result res,
                       const struct auth_user_info *info)
{
	if (r->cb != NULL)
		r->cb(r->ctx, res, info);
	req_free(r);
}

/* Child side: keep only the socket (as fd 3) and stdio, then serve. */
static void worker_child(struct auth_pool *pool, int sock)
{
	int sigs[] = {SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGINT};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (sock != 3 && dup2(sock, 3) < 0)
		_exit(1);
	close_range(4, ~0U, 0);
	_exit(auth_pam_worker_run(3, pool->service, pool->lg));
}

static void worker_read_cb(evutil_socket_t fd, short what, void *arg);
static void worker_respawn_cb(evutil_socket_t fd, short what, void *arg);

static int worker_spawn(struct pool_worker *w)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0)
		worker_child(w->pool, sv[1]);
	close(sv[1]);
	evloop_set_nonblock(sv[0]);
	w->pid = pid;
	w->fd = sv[0];
	wire_conn_init(&w->conn, sv[0]);
	w->ev = evloop_add_read(w->pool->base, sv[0], worker_read_cb, w);
	if (w->ev == NULL) {
		kill(pid, SIGKILL);
		wire_conn_clear(&w->conn);
		close(sv[0]);
		w->fd = -1;
		return -1;
	}
	return 0;
}

static void worker_dead(struct pool_worker *w, const char *why)
{
	struct auth_pool *pool = w->pool;
	log_error(pool->lg, "PAM worker %ld %s; restarting it", (long)w->pid, why);
	event_free(w->ev);
	w->ev = NULL;
	if (w->timer != NULL)
		event_free(w->timer);
	w->timer = NULL;
	kill(w->pid, SIGKILL);
	if (w->conn.in.data != NULL)
		OPENSSL_cleanse(w->conn.in.data, w->conn.in.cap);
	wire_conn_clear(&w->conn);
	close(w->fd);
	w->fd = -1;
	struct pool_req *r = w->req;
	w->req = NULL;
	w->respawn = evloop_add_timer(pool->base, RESPAWN_DELAY_MS, worker_respawn_cb, w);
	if (r != NULL)
		req_finish(r, AUTH_PAM_TEMP, NULL);
}

static void worker_respawn_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct pool_worker *w = arg;
	event_free(w->respawn);
	w->respawn = NULL;
	if (worker_spawn(w) < 0) {
		log_error(w->pool->lg, "cannot restart a PAM worker: %s", strerror(errno));
		w->respawn =
		    evloop_add_timer(w->pool->base, RESPAWN_DELAY_MS, worker_respawn_cb, w);
		return;
	}
	pool_dispatch(w->pool);
}

static void worker_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct pool_worker *w = arg;
	/* The EOF that follows the kill ends the request as temporary. */
	log_error(w->pool->lg, "PAM worker %ld timed out; killing it", (long)w->pid);
	kill(w->pid, SIGKILL);
}

static int parse_id(const char *s, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

/* Handle one reply line; -1 when it does not belong to the current request. */
static int worker_reply(struct pool_worker *w, const struct wire_field *f, int n)
{
	struct pool_req *r = w->req;
	unsigned long id, uid, gid;
	if (r == NULL || n < 2 || parse_id(f[1].p, &id) < 0 || id != r->handle)
		return -1;
	w->req = NULL;
	event_free(w->timer);
	w->timer = NULL;
	if (wire_field_eq(&f[0], "OK") && n == 6 && parse_id(f[3].p, &uid) == 0 &&
	    parse_id(f[4].p, &gid) == 0) {
		struct auth_user_info info = {(char *)f[2].p, (uid_t)uid, (gid_t)gid,
		                              (char *)f[5].p, NULL};
		req_finish(r, AUTH_PAM_OK, &info);
	} else if (wire_field_eq(&f[0], "FAIL") && n == 3 && wire_field_eq(&f[2], "error")) {
		req_finish(r, AUTH_PAM_TEMP, NULL);
	} else if (wire_field_eq(&f[0], "FAIL")) {
		req_finish(r, AUTH_PAM_FAIL, NULL);
	} else {
		req_finish(r, AUTH_PAM_TEMP, NULL);
		return -1;
	}
	return 0;
}

static void worker_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct pool_worker *w = arg;
	ssize_t r = wire_conn_read(&w->conn);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		worker_dead(w, r == 0 ? "exited" : "failed");
		return;
	}
	struct wire_field f[8];
	int n;
	while ((n = wire_conn_next(&w->conn, f, 8)) > 0) {
		if (worker_reply(w, f, n) < 0) {
			worker_dead(w, "sent an unexpected reply");
			return;
		}
	}
	if (n < 0) {
		worker_dead(w, "sent a malformed reply");
		return;
	}
	pool_dispatch(w->pool);
}

/* Send queued requests to idle workers. */
static void pool_dispatch(struct auth_pool *pool)
{
	for (unsigned i = 0; i < pool->count && pool->qhead != NULL; i++) {
		struct pool_worker *w = &pool->w[i];
		if (w->fd < 0 || w->req != NULL)
			continue;
		struct pool_req *r = pool->qhead;
		pool->qhead = r->next;
		if (pool->qhead == NULL)
			pool->qtail = NULL;
		pool->queued--;
		char id[24];
		snprintf(id, sizeof(id), "%llu", (unsigned long long)r->handle);
		struct wire_field f[5] = {{"PAM", 3},
		                          {id, strlen(id)},
		                          {r->user, strlen(r->user)},
		                          {r->pass, r->passlen},
		                          {r->rip, strlen(r->rip)}};
		struct buf out;
		buf_init(&out, 0);
		int rc = wire_encode(&out, f, 5);
		if (rc == 0)
			rc = wire_send(w->fd, out.data, out.len, NULL, 0);
		if (out.data != NULL)
			OPENSSL_cleanse(out.data, out.cap);
		buf_free(&out);
		if (rc < 0) {
			/* Back to the head of the queue for another worker; no
			 * callback runs from inside auth_pool_submit. */
			r->next = pool->qhead;
			pool->qhead = r;
			if (pool->qtail == NULL)
				pool->qtail = r;
			pool->queued++;
			worker_dead(w, "cannot be written to");
			continue;
		}
		w->req = r;
		w->timer =
		    evloop_add_timer(pool->base, AUTH_WORKER_TIMEOUT_MS, worker_timeout_cb, w);
	}
}

struct auth_pool *auth_pool_new(struct event_base *base, unsigned count, unsigned max_queue,
                                const char *pam_service, const struct loft_log *lg, char *err,
                                size_t errlen)
{
	struct auth_pool *pool = calloc(1, sizeof(*pool));
	if (pool == NULL || count == 0) {
		snprintf(err, errlen, count == 0 ? "auth_worker_count is 0" : "out of memory");
		free(pool);
		return NULL;
	}
	pool->base = base;
	pool->lg = lg;
	pool->count = count;
	pool->max_queue = max_queue > 0 ? max_queue : 1;
	pool->next_handle = 1;
	pool->service = strdup(pam_service);
	pool->w = calloc(count, sizeof(*pool->w));
	if (pool->service == NULL || pool->w == NULL) {
		snprintf(err, errlen, "out of memory");
		free(pool->service);
		free(pool->w);
		free(pool);
		return NULL;
	}
	unsigned started = 0;
	for (unsigned i = 0; i < count; i++) {
		pool->w[i].pool = pool;
		pool->w[i].fd = -1;
		if (worker_spawn(&pool->w[i]) == 0)
			started++;
		else
			pool->w[i].respawn = evloop_add_timer(base, RESPAWN_DELAY_MS,
			                                      worker_respawn_cb, &pool->w[i]);
	}
	if (started == 0) {
		snprintf(err, errlen, "cannot start PAM workers: %s", strerror(errno));
		auth_pool_free(pool);
		return NULL;
	}
	return pool;
}

void auth_pool_free(struct auth_pool *pool)
{
	if (pool == NULL)
		return;
	for (unsigned i = 0; i < pool->count; i++) {
		struct pool_worker *w = &pool->w[i];
		if (w->respawn != NULL)
			event_free(w->respawn);
		if (w->timer != NULL)
			event_free(w->timer);
		if (w->fd >= 0) {
			event_free(w->ev);
			wire_conn_clear(&w->conn);
			close(w->fd);
			kill(w->pid, SIGTERM);
			waitpid(w->pid, NULL, 0);
		}
		if (w->req != NULL)
			req_free(w->req);
	}
	while (pool->qhead != NULL) {
		struct pool_req *r = pool->qhead;
		pool->qhead = r->next;
		req_free(r);
	}
	free(pool->w);
	free(pool->service);
	free(pool);
}

uint64_t auth_pool_submit(struct auth_pool *pool, const char *user, const char *pass,
                          size_t passlen, const char *rip, auth_pam_cb *cb, void *ctx)
{
	struct pool_req *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return 0;
	r->user = strdup(user);
	r->rip = strdup(rip);
	r->pass = malloc(passlen + 1);
	if (r->user == NULL || r->rip == NULL || r->pass == NULL) {
		free(r->user);
		free(r->rip);
		free(r->pass);
		free(r);
		return 0;
	}
	memcpy(r->pass, pass, passlen);
	r->pass[passlen] = '\0';
	r->passlen = passlen;
	r->cb = cb;
	r->ctx = ctx;
	r->handle = pool->next_handle++;
	if (pool->qtail != NULL)
		pool->qtail->next = r;
	else
		pool->qhead = r;
	pool->qtail = r;
	pool->queued++;
	uint64_t h = r->handle;
	pool_dispatch(pool);
	return h;
}

bool auth_pool_full(const struct auth_pool *pool)
{
	return pool->queued >= pool->max_queue;
}

void auth_pool_cancel(struct auth_pool *pool, uint64_t handle)
{
	for (unsigned i = 0; i < pool->count; i++)
		if (pool->w[i].req != NULL && pool->w[i].req->handle == handle)
			pool->w[i].req->cb = NULL;
	struct pool_req **pp = &pool->qhead, *prev = NULL;
	while (*pp != NULL) {
		struct pool_req *r = *pp;
		if (r->handle == handle) {
			*pp = r->next;
			if (pool->qtail == r)
				pool->qtail = prev;
			pool->queued--;
			req_free(r);
			return;
		}
		prev = r;
		pp = &r->next;
	}
}

void auth_pool_reap(struct auth_pool *pool)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
			log_error(pool->lg, "PAM worker %ld killed by signal %d", (long)pid,
			          WTERMSIG(status));
		else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			log_error(pool->lg, "PAM worker %ld exited with status %d", (long)pid,
			          WEXITSTATUS(status));
	}
}
