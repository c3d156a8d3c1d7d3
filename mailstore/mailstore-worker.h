/* mailstore-worker.h: the life of one mailstore worker, the child the
 * dispatcher forks per handed-off session: redeem the token at auth, become
 * the user for good, make sure the Maildir exists, report to the dispatcher,
 * run the protocol session. See docs/handoff.md. */
#ifndef LOFT_MAILSTORE_WORKER_H
#define LOFT_MAILSTORE_WORKER_H

#include "handoff.h"
#include "sandbox.h"
#include "session.h"

struct config;
struct loft_log;

struct worker_job {
	const struct config *cfg;
	const struct loft_log *log;
	int client_fd; /* the client stream handed over */
	/* socket to the dispatcher: one "FAIL reason=.." or "OK user=.." line;
	 * after OK the dispatcher answers "GO" or "LIMIT" */
	int report_fd;
	const struct handoff_req *req;
	const struct sandbox_filter *filter; /* seccomp filter to install; NULL: none */
};

/* Child side, right after fork(); never returns (exits with the session's
 * status, or 1 when the session could not start). */
void worker_main(const struct worker_job *job) __attribute__((noreturn));

/* The session implementation for a protocol name, or NULL. Pure. */
const struct session_proto *worker_find_proto(const char *name);

/* The Maildir root of a mail location as auth returns it: "maildir:/ABS/PATH"
 * (nothing else is supported). *path_r points into mail. 0, or -1 with
 * *err_r a static reason. Pure. */
int worker_maildir_path(const char *mail, const char **path_r, const char **err_r);

#endif
