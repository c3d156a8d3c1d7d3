/* mailstore-dispatch.h: loft-mailstore's root dispatcher. It accepts login
 * daemons on the `handoff` socket, forks one worker per SESSION, answers OK or
 * FAIL once the worker has redeemed the token, reaps workers (and LMTP session
 * children) and handles SIGTERM / SIGQUIT. See docs/handoff.md. */
#ifndef LOFT_MAILSTORE_DISPATCH_H
#define LOFT_MAILSTORE_DISPATCH_H

#include <stddef.h>

struct event_base;
struct config;
struct loft_log;
struct lmtp_server;
struct dispatch;

/* cfg, log and base must outlive it. Signal handlers are installed here.
 * NULL on failure. */
struct dispatch *dispatch_new(struct event_base *base, const struct config *cfg,
                              const struct loft_log *log);
/* Accept handoff connections on fd (owned from now on). 0 or -1. */
int dispatch_listen(struct dispatch *d, int fd);
/* The LMTP server whose children the dispatcher reaps and waits for. */
void dispatch_set_lmtp(struct dispatch *d, struct lmtp_server *lmtp);
/* Workers still running. */
size_t dispatch_workers(const struct dispatch *d);
/* Frees everything; workers still running are left alone. */
void dispatch_free(struct dispatch *d);

#endif
