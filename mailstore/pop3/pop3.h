/* pop3.h: the POP3 session (RFC 1939, 2449, 3206) that runs inside a
 * mailstore worker after pop3-login handed the authenticated client over.
 * Used by session-protos.c; tests call pop3_session_run directly. */
#ifndef LOFT_POP3_H
#define LOFT_POP3_H

#include "session.h"

/* Serve one POP3 session on env->fd: open and lock the maildrop, answer the
 * authenticating command, then TRANSACTION until QUIT or disconnect.
 * Returns 0 on a normal end, nonzero when the session failed. */
int pop3_session_run(const struct session_env *env);

#endif
