/* lmtp-deliver.c: writing one spooled message into one user's Maildir INBOX,
 * for LMTP and loft-deliver. The write happens in a child that has dropped to
 * the user for good (as root), so no user file is ever touched as root; the
 * child fsyncs file and directory (maildir_delivery_commit) before exit 0.
 * With a queue id (LMTP from loft-queue) the file gets a name derived from
 * the id and the SHA-256 of its bytes, and is stored only if no message of
 * that name is there yet: a retried delivery is not stored twice. */
#include "lmtp.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "maildir.h"
#include "path-check.h"
#include "privdrop.h"
#include "sandbox.h"

#define CHILD_OK      0
#define CHILD_TMPFAIL 75
#define CHILD_ALREADY 10 /* a message of the same delivery id was there */

void lmtp_user_clear(struct lmtp_user *u)
{
	free(u->user);
	free(u->home);
	free(u->maildir);
	memset(u, 0, sizeof(*u));
}

char *lmtp_maildir_path(const char *location, bool from_config, const char *user, const char *home,
                        const char **err_r)
{
	const char *path = location;
	if (strncmp(path, "maildir:", 8) == 0)
		path += 8;
	else if (strchr(path, ':') != NULL) {
		*err_r = "mail location is not maildir:";
		return NULL;
	}
	char *res;
	if (from_config) {
		struct expand_vars v = {.user = user, .home = home};
		res = config_expand(path, &v, err_r);
	} else {
		res = strdup(path);
		if (res == NULL)
			*err_r = "out of memory";
	}
	if (res != NULL && res[0] != '/') {
		*err_r = "mail location is not an absolute path";
		free(res);
		res = NULL;
	}
	/* the worker's rule: a path with .. could leave the place auth meant */
	if (res != NULL && path_has_dotdot(res, strlen(res))) {
		*err_r = "maildir path contains ..";
		free(res);
		res = NULL;
	}
	return res;
}

/* Write the two envelope headers then the spool into d; every byte written
 * also goes into md when it is not NULL. */
static int write_message(struct maildir_delivery *d, int spool_fd, const char *sender,
                         const char *rcpt, EVP_MD_CTX *md, const char **err_r)
{
	struct buf hdr;
	buf_init(&hdr, 4096);
	if (buf_printf(&hdr, "Return-Path: <%s>\nDelivered-To: <%s>\n", sender, rcpt) < 0) {
		buf_free(&hdr);
		*err_r = "header too long";
		return -1;
	}
	int r = maildir_delivery_write(d, hdr.data, hdr.len, err_r);
	if (r == 0 && md != NULL && EVP_DigestUpdate(md, hdr.data, hdr.len) != 1) {
		*err_r = "SHA-256 failed";
		r = -1;
	}
	buf_free(&hdr);
	char chunk[65536];
	off_t off = 0;
	while (r == 0) {
		ssize_t n = pread(spool_fd, chunk, sizeof(chunk), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err_r = "reading the spool failed";
			return -1;
		}
		if (n == 0)
			break;
		off += n;
		r = maildir_delivery_write(d, chunk, (size_t)n, err_r);
		if (r == 0 && md != NULL && EVP_DigestUpdate(md, chunk, (size_t)n) != 1) {
			*err_r = "SHA-256 failed";
			r = -1;
		}
	}
	return r;
}

/* Write the message and commit it: under a unique name, or with qid under
 * its delivery id (lmtp_dedup_base over the bytes written) unless that is
 * there already. 0, 1 (already there) or -1. */
static int store_message(struct maildir_store *st, struct maildir_delivery *d, int spool_fd,
                         const char *qid, const char *sender, const char *rcpt, char **base_r,
                         const char **e)
{
	if (qid == NULL) {
		if (write_message(d, spool_fd, sender, rcpt, NULL, e) < 0)
			return -1;
		return maildir_delivery_commit(d, base_r, e);
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	char base[256];
	int r = -1;
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		*e = "SHA-256 unavailable";
	} else if (write_message(d, spool_fd, sender, rcpt, md, e) == 0) {
		if (EVP_DigestFinal_ex(md, digest, &dlen) != 1 ||
		    lmtp_dedup_base(qid, digest, dlen, st->host, base, sizeof(base)) < 0)
			*e = "cannot name the delivery";
		else
			r = maildir_delivery_commit_once(d, base, base_r, e);
	}
	EVP_MD_CTX_free(md);
	if (r == 1 && base_r != NULL && (*base_r = strdup(base)) == NULL)
		*e = "out of memory"; /* only the log line misses it */
	return r;
}

/* mkdir -p the Maildir root's missing components (mode 0700), as the user:
 * virtual users' mail/%d/%n trees come into being on first delivery. */
static void make_parents(const char *root)
{
	char *p = strdup(root);
	if (p == NULL)
		return;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0700);
		*s = '/';
	}
	mkdir(p, 0700);
	free(p);
}

/* The child: drop, open the store, write, commit. Never returns. */
static void deliver_child(int spool_fd, const char *qid, const char *sender, const char *rcpt,
                          const struct lmtp_user *u, bool drop_privs, const struct loft_log *log)
{
	char err[256];
	const char *e = NULL;
	signal(SIGCHLD, SIG_DFL);
	if (drop_privs) {
		struct privdrop_spec spec = {.uid = u->uid, .gid = u->gid};
		/* the lookup refused these already; never write mail as root */
		if (u->uid == 0 || u->gid == 0) {
			if (log)
				log_error(log, "delivery to %s: refusing uid %u gid %u", rcpt,
				          (unsigned)u->uid, (unsigned)u->gid);
			_exit(CHILD_TMPFAIL);
		}
		if (privdrop_apply(&spec, err, sizeof(err)) < 0) {
			if (log)
				log_error(log, "delivery to %s: privilege drop: %s", rcpt, err);
			_exit(CHILD_TMPFAIL);
		}
	}
	if (sandbox_enter(u->seccomp ? SANDBOX_MAILBOX : SANDBOX_NONE, "lmtp", STDERR_FILENO, &e) <
	    0) {
		if (log)
			log_error(log, "delivery to %s: %s", rcpt, e);
		_exit(CHILD_TMPFAIL);
	}
	struct maildir_store st;
	struct maildir_delivery d;
	char *base = NULL;
	make_parents(u->maildir);
	int r = -1;
	if (maildir_store_init(&st, u->maildir, '/', NULL, &e) == 0 &&
	    maildir_delivery_begin(&st, "INBOX", &d, &e) == 0) {
		r = store_message(&st, &d, spool_fd, qid, sender, rcpt, &base, &e);
		maildir_delivery_abort(&d);
	}
	/* e may point into st: log before st goes away. */
	if (log && r == 0)
		log_info(log, "delivered to %s (user %s): %s", rcpt, u->user, base ? base : "");
	else if (log && r == 1)
		log_info(log, "already delivered to %s (user %s): %s", rcpt, u->user,
		         base ? base : "");
	else if (log)
		log_error(log, "delivery to %s (user %s, %s) failed: %s", rcpt, u->user, u->maildir,
		          e ? e : "?");
	free(base);
	maildir_store_deinit(&st);
	_exit(r == 0 ? CHILD_OK : r == 1 ? CHILD_ALREADY : CHILD_TMPFAIL);
}

int lmtp_deliver_user(int spool_fd, const char *sender, const char *rcpt, const struct lmtp_user *u,
                      bool drop_privs, const struct loft_log *log, char *err, size_t errlen)
{
	return lmtp_deliver_once(spool_fd, NULL, sender, rcpt, u, drop_privs, log, err, errlen) == 0
	           ? 0
	           : -1;
}

int lmtp_deliver_once(int spool_fd, const char *qid, const char *sender, const char *rcpt,
                      const struct lmtp_user *u, bool drop_privs, const struct loft_log *log,
                      char *err, size_t errlen)
{
	if (qid != NULL && !lmtp_qid_valid(qid, strlen(qid))) {
		snprintf(err, errlen, "bad queue id");
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		deliver_child(spool_fd, qid, sender, rcpt, u, drop_privs, log);
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_ALREADY && qid != NULL)
		return 1;
	if (WIFSIGNALED(status))
		snprintf(err, errlen, "delivery process killed by signal %d", WTERMSIG(status));
	else
		snprintf(err, errlen, "delivery process failed (status %d)", WEXITSTATUS(status));
	return -1;
}
