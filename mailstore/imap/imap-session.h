/* imap-session.h: the IMAP session (RFC 3501, RFC 9051 clarifications) that
 * runs inside a mailstore worker after imap-login handed the authenticated
 * client over. Used by session-protos.c; tests call imap_session_run. */
#ifndef LOFT_IMAP_SESSION_H
#define LOFT_IMAP_SESSION_H

#include "session.h"

/* Serve one IMAP session on env->fd: open the Maildir store, answer
 * env->login_tag, then run commands until LOGOUT, EOF or the idle timeout.
 * Returns 0 on a normal end, nonzero when the session failed. */
int imap_session_run(const struct session_env *env);

#endif
