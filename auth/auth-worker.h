/* auth-worker.h: the main process's side of the PAM worker pool: forks
 * auth_worker_count workers at start, hands each PAM request to an idle one
 * (queueing when all are busy), kills a worker stuck past a timeout and
 * restarts any worker that dies. Results come back through a callback. */
#ifndef LOFT_AUTH_WORKER_H
#define LOFT_AUTH_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "auth-token.h"
#include "log.h"

#define AUTH_WORKER_TIMEOUT_MS 30000 /* a PAM conversation longer than this is killed */

enum auth_pam_result {
	AUTH_PAM_OK,   /* info filled */
	AUTH_PAM_FAIL, /* wrong credentials, locked/expired account, unknown user */
	AUTH_PAM_TEMP, /* worker died or timed out, PAM misconfigured */
};

typedef void auth_pam_cb(void *ctx, enum auth_pam_result res, const struct auth_user_info *info);

struct auth_pool;

/* Fork count workers (each closes every inherited descriptor but its socket
 * and 0-2). Workers that fail to start are retried later; NULL with err only
 * when none could be started. At most max_queue checks wait for a worker:
 * PAM can be slow (pam_faildelay, a remote LDAP), and an unbounded queue
 * would let a flood grow memory and make every real login wait behind it. */
struct auth_pool *auth_pool_new(struct event_base *base, unsigned count, unsigned max_queue,
                                const char *pam_service, const struct loft_log *lg, char *err,
                                size_t errlen);
/* No room for another check: max_queue are waiting (callers answer a
 * temporary failure instead of submitting). */
bool auth_pool_full(const struct auth_pool *pool);
/* Kill (SIGTERM) and reap the workers, drop queued requests without callbacks. */
void auth_pool_free(struct auth_pool *pool);
/* Queue a check. Returns a handle (> 0) for auth_pool_cancel, or 0 when out
 * of memory. cb is called exactly once unless cancelled first. */
uint64_t auth_pool_submit(struct auth_pool *pool, const char *user, const char *pass,
                          size_t passlen, const char *rip, auth_pam_cb *cb, void *ctx);
/* Forget a request: its callback will not be called. */
void auth_pool_cancel(struct auth_pool *pool, uint64_t handle);
/* Reap exited children (call on SIGCHLD). */
void auth_pool_reap(struct auth_pool *pool);

#endif
