/* master-spawn.c: starting one child of a service per lib/core/service.h -- fd 0
 * /dev/null, fds 1-2 a log pipe, its listeners from fd 3 on, LOFT_* in the
 * environment -- and reading every child's log pipe into the master's log,
 * line by line (bounded), flushing a partial last line at EOF. */
#include "master-ctx.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evloop.h"
#include "service.h"

extern char **environ;

#define LOGPIPE_CHUNK 4096

static void logpipe_free(struct logpipe *lp)
{
	struct master *m = lp->m;
	for (struct logpipe **pp = &m->pipes; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == lp) {
			*pp = lp->next;
			break;
		}
	}
	if (lp->ev != NULL)
		event_free(lp->ev);
	close(lp->fd);
	buf_free(&lp->line);
	free(lp);
}

/* Forward every complete line; over-long lines go out in LOG_LINE_MAX pieces. */
static void logpipe_lines(struct logpipe *lp, bool eof)
{
	for (;;) {
		ssize_t n = line_find(lp->line.data, lp->line.len, LOG_LINE_MAX);
		size_t take, fwd;
		if (n > 0) {
			take = (size_t)n;
			fwd = take - 1;
			if (fwd > 0 && lp->line.data[fwd - 1] == '\r')
				fwd--;
		} else if (n < 0) {
			take = fwd = LOG_LINE_MAX;
		} else if (eof && lp->line.len > 0) {
			take = fwd = lp->line.len;
		} else {
			return;
		}
		log_forward_line(&lp->m->log, lp->line.data, fwd);
		buf_consume(&lp->line, take);
	}
}

/* Read what is there; true when the pipe is finished (EOF or error). */
static bool logpipe_read(struct logpipe *lp)
{
	char chunk[LOGPIPE_CHUNK];
	for (;;) {
		ssize_t n = read(lp->fd, chunk, sizeof(chunk));
		if (n > 0) {
			if (buf_append(&lp->line, chunk, (size_t)n) < 0)
				return true; /* cannot happen: lines are cut at LOG_LINE_MAX */
			logpipe_lines(lp, false);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return !(n < 0 && errno == EAGAIN);
	}
}

static void on_logpipe(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct logpipe *lp = arg;
	if (logpipe_read(lp)) {
		logpipe_lines(lp, true);
		logpipe_free(lp);
	}
}

static int logpipe_new(struct master *m, int fd)
{
	struct logpipe *lp = calloc(1, sizeof(*lp));
	if (lp == NULL)
		return -1;
	lp->m = m;
	lp->fd = fd;
	buf_init(&lp->line, LOG_LINE_MAX + 2 * LOGPIPE_CHUNK);
	if (evloop_set_nonblock(fd) < 0 ||
	    (lp->ev = evloop_add_read(m->base, fd, on_logpipe, lp)) == NULL) {
		free(lp);
		return -1;
	}
	lp->next = m->pipes;
	m->pipes = lp;
	return 0;
}

void master_logpipes_drain(struct master *m)
{
	while (m->pipes != NULL) {
		struct logpipe *lp = m->pipes;
		logpipe_read(lp);
		logpipe_lines(lp, true);
		logpipe_free(lp);
	}
}

/* What the child needs, built before fork so the child only dups and execs. */
struct spawn_plan {
	char path[PATH_MAX];
	char conf[PATH_MAX + 32];
	char *argv[4];
	char **envp;
	int src[SERVICE_MAX_LISTENERS];
	size_t n;
};

static char **spawn_env(const char *const *ours, size_t n_ours)
{
	size_t n = 0;
	while (environ[n] != NULL)
		n++;
	char **env = calloc(n + n_ours + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "LOFT_", 5) != 0)
			env[k++] = environ[i];
	}
	for (size_t i = 0; i < n_ours; i++)
		env[k++] = (char *)ours[i];
	return env;
}

/* In the child: never returns. */
static void child_exec(const struct spawn_plan *sp, int devnull, int logw)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	/* Lift every source above the target range first, so no dup2 below
	 * overwrites a source still to be placed. */
	int floor = 3 + (int)sp->n + 1;
	int dn = fcntl(devnull, F_DUPFD, floor), lw = fcntl(logw, F_DUPFD, floor);
	int hi[SERVICE_MAX_LISTENERS];
	for (size_t i = 0; i < sp->n; i++)
		hi[i] = fcntl(sp->src[i], F_DUPFD, floor);
	if (dn < 0 || lw < 0 || dup2(dn, 0) < 0 || dup2(lw, 1) < 0 || dup2(lw, 2) < 0)
		_exit(127);
	for (size_t i = 0; i < sp->n; i++) {
		if (hi[i] < 0 || dup2(hi[i], 3 + (int)i) < 0)
			_exit(127);
	}
	if (close_range(3 + (unsigned)sp->n, ~0U, 0) < 0) {
		for (int fd = 3 + (int)sp->n; fd < 65536; fd++)
			close(fd);
	}
	execve(sp->path, sp->argv, sp->envp);
	dprintf(2, "cannot exec %s: %s\n", sp->path, strerror(errno));
	_exit(127);
}

static int spawn_plan_make(struct child *c, struct spawn_plan *sp, struct buf *fds, char **vars)
{
	struct master *m = c->m;
	sp->n = 0;
	for (size_t i = 0; i < m->ls.n && sp->n < SERVICE_MAX_LISTENERS; i++) {
		if (m->ls.v[i].svc != c->svc)
			continue;
		if (buf_printf(fds, "%s%s:%zu", sp->n > 0 ? " " : "", m->ls.v[i].name, 3 + sp->n) <
		    0)
			return -1;
		sp->src[sp->n++] = m->ls.v[i].fd;
	}
	snprintf(sp->path, sizeof(sp->path), "%s/%s", config_str(m->cfg, "libexec_dir"),
	         c->svc->exe);
	sp->argv[0] = (char *)c->svc->exe;
	sp->argv[1] = (char *)"-c";
	master_snapshot_path(m, c->generation, sp->conf, sizeof(sp->conf));
	sp->argv[2] = sp->conf;
	sp->argv[3] = NULL;
	if (asprintf(&vars[0], "LOFT_LISTEN_FDS=%s", fds->data != NULL ? fds->data : "") < 0 ||
	    asprintf(&vars[1], "LOFT_SERVICE=%s", c->svc->name) < 0 ||
	    asprintf(&vars[2], "LOFT_CONF=%s", sp->conf) < 0 ||
	    asprintf(&vars[3], "LOFT_GENERATION=%u", c->generation) < 0)
		return -1;
	sp->envp = spawn_env((const char *const *)vars, 4);
	return sp->envp != NULL ? 0 : -1;
}

int master_spawn(struct child *c)
{
	struct master *m = c->m;
	struct spawn_plan sp;
	struct buf fds;
	char *vars[4] = {NULL, NULL, NULL, NULL};
	int logp[2] = {-1, -1}, devnull = -1, rc = -1;
	buf_init(&fds, 4096);
	memset(&sp, 0, sizeof(sp));
	if (spawn_plan_make(c, &sp, &fds, vars) < 0 || pipe2(logp, O_CLOEXEC) < 0 ||
	    (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		log_error(&m->log, "cannot spawn service %s: %s", c->svc->name, strerror(errno));
		goto out;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_error(&m->log, "cannot fork for service %s: %s", c->svc->name, strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(&sp, devnull, logp[1]);
	close(logp[1]);
	logp[1] = -1;
	if (logpipe_new(m, logp[0]) < 0)
		close(logp[0]); /* the child's stderr then just gets EPIPE */
	logp[0] = -1;
	c->pid = pid;
	c->state = CHILD_RUNNING;
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	log_info(&m->log, "spawned service %s (pid %ld, generation %u): %s", c->svc->name,
	         (long)pid, c->generation, fds.data != NULL ? fds.data : "no listeners");
	rc = 0;
out:
	if (logp[0] >= 0)
		close(logp[0]);
	if (logp[1] >= 0)
		close(logp[1]);
	if (devnull >= 0)
		close(devnull);
	for (size_t i = 0; i < 4; i++)
		free(vars[i]);
	free(sp.envp);
	buf_free(&fds);
	return rc;
}
