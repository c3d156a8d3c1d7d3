/* qmgr-route.h: the queue manager's pure decisions, kept apart from its I/O
 * so they are unit-tested: where a recipient goes (local LMTP or a remote
 * domain), how recipients are grouped into delivery jobs within the
 * per-destination concurrency, the retry back-off, the lifetime check and
 * the DSN status code taken from a reply. */
#ifndef LOFT_QMGR_ROUTE_H
#define LOFT_QMGR_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "queue-record.h"
#include "smtp-parse.h"
#include "wire.h"

struct event;

#define QMGR_JOB_MSGS  20 /* messages in one relay job */
#define QMGR_JOB_RCPTS 60 /* recipients of one message in one job (fits a wire line) */

struct qmgr_route_cfg {
	const char *const *mydomains;
	size_t nmydomains;
	const char *postmaster_user;
};

struct qmgr_dest {
	bool local;
	char domain[SMTP_DOMAIN_MAX + 1];   /* remote: lowercase domain; local: "" */
	char lmtp_rcpt[QUEUE_ADDR_MAX + 1]; /* local: the address given to LMTP */
};

/* Route one stored recipient: local when it has no domain or one in
 * mydomains; postmaster (any case) there maps to postmaster_user. 0, or -1
 * when the address does not parse. Pure. */
int qmgr_route(const struct qmgr_route_cfg *c, const char *rcpt, struct qmgr_dest *d);

/* One message's part of a job: which of its recipients the job carries. */
struct qmgr_job_msg {
	void *msg; /* the scheduler's message entry; opaque here */
	uint32_t rcpt[QMGR_JOB_RCPTS];
	size_t nrcpt;
	int fd;                        /* remote: the spool file, read-only; -1 when not open */
	bool answered[QMGR_JOB_RCPTS]; /* a result came back for rcpt[i] */
};

/* A delivery job: all of one local message's local recipients (one LMTP
 * transaction), or up to QMGR_JOB_MSGS messages for one remote domain (one
 * RELAY connection). The tail is run-time state owned by qmgr-job.c. */
struct qmgr_job {
	struct qmgr_job *next;
	bool local;
	char domain[SMTP_DOMAIN_MAX + 1];
	struct qmgr_job_msg msgs[QMGR_JOB_MSGS];
	size_t nmsg;
	pid_t pid;             /* the child doing the work */
	struct wire_conn conn; /* results from the child */
	struct event *ev;
	int64_t started;
};

struct qmgr_plan {
	struct qmgr_job *jobs; /* in creation order */
	size_t njobs;
};

/* Put recipient rcpt of msg (to d) into a job of plan: appended to an open
 * job for the same destination when it has room (same message: up to
 * QMGR_JOB_RCPTS recipients; local jobs hold one message, remote ones up to
 * QMGR_JOB_MSGS), else into a new job if running + the plan's jobs for that
 * destination stay within concurrency. 1 placed, 0 no slot, -1 no memory.
 * Pure apart from allocation. */
int qmgr_plan_add(struct qmgr_plan *p, void *msg, uint32_t rcpt, const struct qmgr_dest *d,
                  unsigned running, unsigned concurrency);
/* Free every job of the plan (callers take jobs out before launching). */
void qmgr_plan_free(struct qmgr_plan *p);
struct qmgr_job *qmgr_job_new(bool local, const char *domain);
void qmgr_job_free(struct qmgr_job *j);

/* Seconds to wait after a recipient's attempts-th failed attempt:
 * min doubled per attempt after the first, capped at max, at least 1. */
int64_t qmgr_backoff(uint64_t min_ms, uint64_t max_ms, uint32_t attempts);
/* true once a message that arrived at arrival is older than lifetime. */
bool qmgr_expired(int64_t arrival, int64_t now, uint64_t lifetime_ms);
/* The enhanced status code ("5.1.1") of a reply text such as "550 5.1.1
 * No such user" or "4.4.1 connection refused"; when it has none,
 * "<klass>.0.0". out holds at least 16 bytes. Pure. */
void qmgr_dsn_status(const char *reply, char klass, char *out, size_t outlen);

#endif
