/* qmgr-admit.h: may loft-queue take one more connection? The limits of
 * docs/queue-protocol.md (each listener counted apart, pickup also per
 * uid) as one pure decision, and the text a refused client is sent in
 * place of the version line. */
#ifndef LOFT_QMGR_ADMIT_H
#define LOFT_QMGR_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct qmgr_limits {
	size_t queue_max;      /* queue_max_connections */
	size_t pickup_max;     /* pickup_max_connections */
	size_t pickup_per_uid; /* pickup_max_connections_per_uid; 0 = none */
	uint64_t queue_idle_ms, pickup_idle_ms;
};

enum qmgr_admit {
	QMGR_ADMIT_OK,
	QMGR_ADMIT_FULL,     /* the listener holds its maximum */
	QMGR_ADMIT_UID_FULL, /* this uid holds its maximum on pickup */
};

/* n_listener: connections open on the listener now; n_uid: pickup
 * connections open for the peer's uid; exempt: the peer is root (or the
 * administrator of an unprivileged suite), free of the per-uid cap. */
enum qmgr_admit qmgr_admit_check(const struct qmgr_limits *l, bool pickup, bool exempt,
                                 size_t n_listener, size_t n_uid);

/* The FAIL text for a refusal ("4.7.0 too many ..."), NUL-terminated. */
void qmgr_admit_text(const struct qmgr_limits *l, enum qmgr_admit a, bool pickup, uid_t uid,
                     char *buf, size_t len);

#endif
