/* session.h: the seam between mailstore's worker and the protocol sessions
 * (IMAP, POP3) that run inside it. By the time run() is called the worker
 * has redeemed the token, dropped to the user's uid/gid for good and checked
 * the mail location; the session only speaks its protocol on fd until the
 * client leaves, then returns. One session per worker process. */
#ifndef LOFT_SESSION_H
#define LOFT_SESSION_H

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

/* The protocols this mailstore build serves (NULL-terminated list). */
extern const struct session_proto *const session_protos[];

#endif
