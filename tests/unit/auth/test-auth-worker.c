/* test-auth-worker.c: the bound on the PAM worker pool's queue
 * (auth_worker_max_queue): with every worker busy, at most max_queue checks
 * wait; the pool says full beyond that, and a cancelled or dispatched check
 * makes room again. No event loop runs, so no PAM answer arrives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <syslog.h>

#include "auth-worker.h"
#include "log.h"

static void never(void *ctx, enum auth_pam_result res, const struct auth_user_info *info)
{
	(void)ctx;
	(void)res;
	(void)info;
	fail_msg("no callback expected without the event loop");
}

static void test_queue_bound(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct loft_log lg;
	log_open_pipe(&lg, "test-auth-worker", LOG_CRIT);
	char err[256];
	struct auth_pool *pool = auth_pool_new(base, 1, 2, "loft-unit-test", &lg, err, sizeof(err));
	assert_non_null(pool);
	assert_false(auth_pool_full(pool));
	/* The first goes to the one worker at once: nothing queued yet. */
	uint64_t h1 = auth_pool_submit(pool, "u1", "p", 1, "192.0.2.1", never, NULL);
	assert_true(h1 != 0);
	assert_false(auth_pool_full(pool));
	uint64_t h2 = auth_pool_submit(pool, "u2", "p", 1, "192.0.2.1", never, NULL);
	assert_false(auth_pool_full(pool));
	uint64_t h3 = auth_pool_submit(pool, "u3", "p", 1, "192.0.2.1", never, NULL);
	assert_true(h2 != 0 && h3 != 0);
	assert_true(auth_pool_full(pool)); /* two waiting = max_queue */
	auth_pool_cancel(pool, h2);
	assert_false(auth_pool_full(pool));
	auth_pool_cancel(pool, h1); /* the running one: the queue is unchanged */
	assert_false(auth_pool_full(pool));
	assert_true(auth_pool_submit(pool, "u4", "p", 1, "192.0.2.1", never, NULL) != 0);
	assert_true(auth_pool_full(pool));
	auth_pool_free(pool);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_queue_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
