/* session.h: the seam between mailstore's worker and the protocol sessions
 * (IMAP, POP3) that run inside it. By the time run() is called the worker
 * has redeemed the token, dropped to the user's uid/gid for good and checked
 * the mail location; the session only speaks its protocol on fd until the
 * client leaves, then returns. One session per worker process. */
#ifndef LOFT_SESSION_H
#define LOFT_SESSION_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct config;
struct loft_log;

struct session_env {
	int fd;              /* client stream (plain socket, or the TLS proxy's socketpair end) */
	const char *user;    /* canonical user, from auth */
	const char *home;    /* may be "" */
	const char *maildir; /* absolute Maildir root (mail_location expanded, no "maildir:") */
	const char *preread; /* client bytes the login daemon already read */
	size_t preread_len;
	bool tls;               /* the client is on TLS */
	const char *login_tag;  /* IMAP: tag of the login command to answer; NULL for POP3 */
	const char *rip, *lip;  /* addresses, for logs */
	const char *session_id; /* for log lines */
	const struct config *cfg;
	const struct loft_log *log;
};

struct session_proto {
	const char *name; /* "imap", "pop3" */
	/* Serve the session; returns the worker's exit status (0 = normal end). */
	int (*run)(const struct session_env *env);
};

/* Byte plumbing shared by the sessions (session-io.c). */
struct buf;
/* Wait up to idle_ms for events on fd: 1 ready, 0 timed out, -1 error. */
int session_wait_fd(int fd, short events, int idle_ms);
/* Read what the client sent (the fd may be blocking or not), waiting up to
 * idle_ms: > 0 bytes in chunk, 0 at EOF or on error, -1 when the client
 * stayed silent past the idle timeout. */
ssize_t session_read(int fd, char *chunk, size_t len, int idle_ms);
/* Write all of out to fd (waiting up to idle_ms for room), then empty out.
 * 0, or -1 when the client is gone. *not_socket caches "fd is a pipe". */
int session_flush(int fd, struct buf *out, int idle_ms, bool *not_socket);
/* A log line tagged with the session id (nothing when env->log is NULL). */
void session_vlog(const struct session_env *env, int prio, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* The protocols this mailstore build serves (NULL-terminated list). */
extern const struct session_proto *const session_protos[];

#endif
