/* qmgr-admit.c: the connection limits of loft-queue (qmgr-admit.h). */
#include "qmgr-admit.h"

#include <stdio.h>

enum qmgr_admit qmgr_admit_check(const struct qmgr_limits *l, bool pickup, bool exempt,
                                 size_t n_listener, size_t n_uid)
{
	if (n_listener >= (pickup ? l->pickup_max : l->queue_max))
		return QMGR_ADMIT_FULL;
	if (pickup && !exempt && l->pickup_per_uid > 0 && n_uid >= l->pickup_per_uid)
		return QMGR_ADMIT_UID_FULL;
	return QMGR_ADMIT_OK;
}

void qmgr_admit_text(const struct qmgr_limits *l, enum qmgr_admit a, bool pickup, uid_t uid,
                     char *buf, size_t len)
{
	/* 4.3.2: the system is busy; 4.7.0: a policy on this sender (RFC 3463) */
	if (a == QMGR_ADMIT_UID_FULL)
		snprintf(buf, len,
		         "4.7.0 too many connections from uid %u to the pickup socket "
		         "(pickup_max_connections_per_uid %zu); try again later",
		         (unsigned)uid, l->pickup_per_uid);
	else if (a == QMGR_ADMIT_FULL)
		snprintf(buf, len,
		         "4.3.2 too many connections to the %s socket (%s %zu); try again later",
		         pickup ? "pickup" : "queue",
		         pickup ? "pickup_max_connections" : "queue_max_connections",
		         pickup ? l->pickup_max : l->queue_max);
	else if (len > 0)
		buf[0] = '\0';
}
