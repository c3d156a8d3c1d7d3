/* mailstore-worker.c: one mailstore worker (forked by the dispatcher per
 * handed-off session). It redeems the login token at auth as root, drops to
 * the user's uid/gid for good, creates the Maildir root when missing, tells
 * the dispatcher it owns the session, then runs the protocol session. */
#include "mailstore-worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth-client.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "mailstore-userip.h"
#include "path-check.h"
#include "privdrop.h"
#include "sandbox.h"
#include "tcp.h"
#include "uid-range.h"
#include "wire.h"

#define WORKER_AUTH_TIMEOUT_MS 5000

const struct session_proto *worker_find_proto(const char *name)
{
	for (size_t i = 0; session_protos[i] != NULL; i++)
		if (strcmp(session_protos[i]->name, name) == 0)
			return session_protos[i];
	return NULL;
}

int worker_maildir_path(const char *mail, const char **path_r, const char **err_r)
{
	static const char prefix[] = "maildir:";
	if (strncmp(mail, prefix, sizeof(prefix) - 1) != 0)
		return *err_r = "mail location is not maildir:PATH", -1;
	const char *p = mail + sizeof(prefix) - 1;
	if (p[0] != '/')
		return *err_r = "maildir path is not absolute", -1;
	/* A path with .. could leave the place auth meant; nobody needs one. */
	if (path_has_dotdot(p, strlen(p)))
		return *err_r = "maildir path contains ..", -1;
	*path_r = p;
	return 0;
}

/* The dispatcher's signal dispositions and descriptors are not ours. */
/* Close every descriptor above stderr except keep1 and keep2, by ranges. */
static int worker_close_fds(int keep1, int keep2)
{
	if (keep1 < 3 || keep2 < 3 || keep1 == keep2)
		return -1; /* stdio is always open, so these never collide with it */
	unsigned lo = (unsigned)(keep1 < keep2 ? keep1 : keep2);
	unsigned hi = (unsigned)(keep1 < keep2 ? keep2 : keep1);
	if (lo > 3 && close_range(3, lo - 1, 0) < 0)
		return -1;
	if (hi > lo + 1 && close_range(lo + 1, hi - 1, 0) < 0)
		return -1;
	return close_range(hi + 1, ~0U, 0);
}

static void worker_reset_process(int keep1, int keep2)
{
	static const int sigs[] = {SIGTERM, SIGQUIT, SIGINT, SIGHUP, SIGCHLD, SIGUSR1};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The dispatcher's listeners, connections and other workers' pipes must
	 * not outlive the drop; a worker that cannot ensure it does not run. */
	if (worker_close_fds(keep1, keep2) < 0)
		_exit(1);
}

/* "FAIL reason=..", or "OK user=<name>" (the user as auth named it, which
 * the dispatcher counts for mail_max_userip_connections). */
static void worker_report(int fd, const char *verb, const char *reason, const char *user)
{
	struct buf b, kv;
	buf_init(&b, WIRE_MAX_LINE);
	buf_init(&kv, WIRE_MAX_LINE);
	if (reason != NULL)
		buf_printf(&kv, "reason=%s", reason);
	else if (user != NULL)
		buf_printf(&kv, "user=%s", user);
	const char *strs[] = {verb, kv.len > 0 ? kv.data : NULL, NULL};
	if (wire_encode_strs(&b, strs) == 0) {
		ssize_t r;
		do
			r = write(fd, b.data, b.len);
		while (r < 0 && errno == EINTR);
	}
	buf_free(&kv);
	buf_free(&b);
}

/* The dispatcher's answer to OK: 1 "GO" (run the session), 0 "LIMIT" (the
 * user+IP limit is reached), -1 no answer (the dispatcher is gone). */
static int worker_verdict(int fd)
{
	char line[16];
	size_t len = 0;
	while (len < sizeof(line)) {
		if (session_wait_fd(fd, POLLIN, WORKER_AUTH_TIMEOUT_MS) <= 0)
			return -1;
		ssize_t r = read(fd, line + len, sizeof(line) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		len += (size_t)r;
		if (memchr(line, '\n', len) != NULL)
			break;
	}
	if (len == 3 && memcmp(line, "GO\n", 3) == 0)
		return 1;
	if (len == 6 && memcmp(line, "LIMIT\n", 6) == 0)
		return 0;
	return -1;
}

/* Over the user+IP limit: the client reads why, then the connection ends. */
static void worker_refuse_limit(const struct worker_job *job)
{
	struct buf b;
	buf_init(&b, 1024);
	uint64_t limit = config_uint(job->cfg, "mail_max_userip_connections");
	const char *tag = job->req->tag[0] != '\0' ? job->req->tag : NULL;
	bool plumbing = false;
	if (userip_refusal(&b, job->req->proto, tag, limit) == 0)
		(void)session_flush(job->client_fd, &b, WORKER_AUTH_TIMEOUT_MS, &plumbing);
	buf_free(&b);
	close(job->client_fd);
	_exit(0);
}

/* mkdir -p with mode 0700 for the directories it creates. 0 or -1 (errno). */
static int worker_mkdirs(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
	struct buf b;
	buf_init(&b, 4096);
	if (buf_append_str(&b, path) < 0) {
		buf_free(&b);
		return errno = ENAMETOOLONG, -1;
	}
	int r = 0;
	for (char *s = b.data + 1; r == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(b.data, 0700) < 0 && errno != EEXIST)
			r = -1;
		*s = c;
		if (c == '\0')
			break;
	}
	buf_free(&b);
	return r;
}

struct worker_user {
	struct auth_client_reply rep;
	char *store;
	const char *maildir;
	const struct session_proto *proto;
};

/* Redeem and check everything that does not need the user's identity.
 * 0, or -1 with *reason_r (for the dispatcher's log line). */
static int worker_redeem(const struct worker_job *job, struct worker_user *u, const char **reason_r)
{
	u->proto = worker_find_proto(job->req->proto);
	if (u->proto == NULL)
		return *reason_r = "unknown protocol", -1;
	struct buf path;
	buf_init(&path, 4096);
	int fd = -1;
	if (buf_printf(&path, "%s/auth-master", config_str(job->cfg, "base_dir")) == 0)
		fd = auth_client_connect(path.data, WORKER_AUTH_TIMEOUT_MS, reason_r);
	buf_free(&path);
	if (fd < 0)
		return -1;
	int r = auth_client_redeem(fd, job->req->token, job->req->proto, WORKER_AUTH_TIMEOUT_MS,
	                           &u->rep, &u->store);
	close(fd);
	if (r < 0)
		return *reason_r = "auth did not answer", -1;
	if (u->rep.result != AUTH_CLIENT_OK) {
		*reason_r = u->rep.result == AUTH_CLIENT_TEMPFAIL ? "auth temporary failure"
		                                                  : "invalid token";
		return -1;
	}
	if (worker_maildir_path(u->rep.mail, &u->maildir, reason_r) < 0)
		return -1;
	if (geteuid() == 0 && u->rep.uid == 0)
		return *reason_r = "refusing to run a mail session as root", -1;
	/* only as root does the session become this uid (unprivileged mode
	 * stays the invoking user) */
	if (geteuid() == 0 &&
	    uid_range_check(u->rep.uid, u->rep.gid, config_uint(job->cfg, "first_valid_uid"),
	                    config_uint(job->cfg, "last_valid_uid"), reason_r) < 0)
		return -1;
	return 0;
}

/* Become the user for good (or stay the invoking user when not root). */
static int worker_become_user(const struct worker_user *u, char *err, size_t errlen)
{
	struct privdrop_spec spec = {.uid = u->rep.uid, .gid = u->rep.gid};
	if (geteuid() != 0) {
		spec.uid = getuid();
		spec.gid = getgid();
	}
	if (chdir("/") < 0) {
		snprintf(err, errlen, "chdir /: %s", strerror(errno));
		return -1;
	}
	if (privdrop_apply(&spec, err, errlen) < 0)
		return -1;
	/* A missing or unreadable home is no reason to refuse mail: the
	 * working directory simply stays "/". */
	if (u->rep.home[0] == '/' && chdir(u->rep.home) < 0)
		errno = 0;
	return 0;
}

void worker_main(const struct worker_job *job)
{
	const struct handoff_req *req = job->req;
	worker_reset_process(job->client_fd, job->report_fd);
	struct worker_user u;
	memset(&u, 0, sizeof(u));
	const char *reason = NULL;
	char err[512];
	if (worker_redeem(job, &u, &reason) < 0) {
		worker_report(job->report_fd, "FAIL", reason, NULL);
		_exit(1);
	}
	if (worker_become_user(&u, err, sizeof(err)) < 0) {
		log_msg(job->log, LOG_ERR, req->session, "dropping privileges to %s: %s",
		        u.rep.user, err);
		worker_report(job->report_fd, "FAIL", "cannot drop privileges", NULL);
		_exit(1);
	}
	const char *se = NULL;
	/* compiled by the dispatcher: building it here cost every session
	 * ~2,500 allocations (issue 16) */
	if (sandbox_enter_prepared(job->filter, "mailstore", STDERR_FILENO, &se) < 0) {
		log_msg(job->log, LOG_ERR, req->session, "%s", se);
		worker_report(job->report_fd, "FAIL", "cannot confine the session", NULL);
		_exit(1);
	}
	/* What redeeming and the drop allocated and freed again: hand those
	 * pages back, an idle session need not keep them (issue 16). */
	(void)malloc_trim(0);
	if (worker_mkdirs(u.maildir) < 0) {
		log_msg(job->log, LOG_ERR, req->session, "cannot create Maildir %s for %s: %s",
		        u.maildir, u.rep.user, strerror(errno));
		worker_report(job->report_fd, "FAIL", "cannot create Maildir", NULL);
		_exit(1);
	}
	/* Sessions do their own waiting; the login daemon may have left the
	 * descriptor non-blocking. */
	int fl = fcntl(job->client_fd, F_GETFL);
	if (fl >= 0)
		fcntl(job->client_fd, F_SETFL, fl & ~O_NONBLOCK);
	/* A plaintext client's TCP socket: the login daemon set TCP_NODELAY
	 * already; setting it here too keeps streamed FETCH responses from
	 * waiting on delayed ACKs whoever handed the socket over. */
	(void)tcp_nodelay(job->client_fd);
	worker_report(job->report_fd, "OK", NULL, u.rep.user);
	int verdict = worker_verdict(job->report_fd);
	close(job->report_fd);
	if (verdict < 0)
		_exit(1);
	if (verdict == 0)
		worker_refuse_limit(job);
	log_msg(job->log, LOG_INFO, req->session, "%s session for %s (uid %u) from %s", req->proto,
	        u.rep.user, (unsigned)getuid(), req->rip);
	struct session_env env = {
	    .fd = job->client_fd,
	    .user = u.rep.user,
	    .home = u.rep.home,
	    .maildir = u.maildir,
	    .preread = req->data,
	    .preread_len = req->data_len,
	    .tls = req->tls,
	    .rip = req->rip,
	    .lip = req->lip,
	    .session_id = req->session,
	    .login_tag = req->tag[0] != '\0' ? req->tag : NULL,
	    .cfg = job->cfg,
	    .log = job->log,
	};
	int status = u.proto->run(&env);
	close(job->client_fd);
	free(u.store);
	exit(status & 0xff);
}
