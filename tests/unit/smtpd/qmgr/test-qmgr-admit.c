/* test-qmgr-admit.c: loft-queue's connection limits (smtpd/qmgr/qmgr-
 * admit.c): each listener counted apart, the per-uid cap on pickup only,
 * root exempt from it but not from the socket's own limit, 0 = no per-uid
 * cap, and the refusal texts naming the key that was hit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "qmgr-admit.h"

static const struct qmgr_limits lim = {
    .queue_max = 4, .pickup_max = 3, .pickup_per_uid = 2, .queue_idle_ms = 1, .pickup_idle_ms = 1};

static void test_listeners_apart(void **state)
{
	(void)state;
	/* the queue socket: only its own count matters, never a uid */
	assert_int_equal(qmgr_admit_check(&lim, false, false, 3, 100), QMGR_ADMIT_OK);
	assert_int_equal(qmgr_admit_check(&lim, false, false, 4, 0), QMGR_ADMIT_FULL);
	assert_int_equal(qmgr_admit_check(&lim, false, true, 5, 0), QMGR_ADMIT_FULL);
	/* pickup has the smaller limit of its own */
	assert_int_equal(qmgr_admit_check(&lim, true, true, 2, 0), QMGR_ADMIT_OK);
	assert_int_equal(qmgr_admit_check(&lim, true, true, 3, 0), QMGR_ADMIT_FULL);
}

static void test_per_uid(void **state)
{
	(void)state;
	assert_int_equal(qmgr_admit_check(&lim, true, false, 1, 1), QMGR_ADMIT_OK);
	assert_int_equal(qmgr_admit_check(&lim, true, false, 2, 2), QMGR_ADMIT_UID_FULL);
	/* a full socket is reported as such, even for a uid over its cap */
	assert_int_equal(qmgr_admit_check(&lim, true, false, 3, 2), QMGR_ADMIT_FULL);
	/* root (exempt) passes its cap, not the socket's */
	assert_int_equal(qmgr_admit_check(&lim, true, true, 2, 2), QMGR_ADMIT_OK);
	struct qmgr_limits nocap = lim;
	nocap.pickup_per_uid = 0;
	assert_int_equal(qmgr_admit_check(&nocap, true, false, 2, 2), QMGR_ADMIT_OK);
	assert_int_equal(qmgr_admit_check(&nocap, true, false, 3, 3), QMGR_ADMIT_FULL);
}

static void test_texts(void **state)
{
	(void)state;
	char t[200];
	qmgr_admit_text(&lim, QMGR_ADMIT_UID_FULL, true, 65534, t, sizeof(t));
	assert_string_equal(t, "4.7.0 too many connections from uid 65534 to the pickup socket "
	                       "(pickup_max_connections_per_uid 2); try again later");
	qmgr_admit_text(&lim, QMGR_ADMIT_FULL, true, 1000, t, sizeof(t));
	assert_string_equal(t, "4.3.2 too many connections to the pickup socket "
	                       "(pickup_max_connections 3); try again later");
	qmgr_admit_text(&lim, QMGR_ADMIT_FULL, false, 999, t, sizeof(t));
	assert_string_equal(t, "4.3.2 too many connections to the queue socket "
	                       "(queue_max_connections 4); try again later");
	qmgr_admit_text(&lim, QMGR_ADMIT_OK, false, 0, t, sizeof(t));
	assert_string_equal(t, "");
	/* a short buffer is cut, never overrun */
	char small[8];
	qmgr_admit_text(&lim, QMGR_ADMIT_FULL, false, 0, small, sizeof(small));
	assert_string_equal(small, "4.3.2 t");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listeners_apart),
	    cmocka_unit_test(test_per_uid),
	    cmocka_unit_test(test_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
