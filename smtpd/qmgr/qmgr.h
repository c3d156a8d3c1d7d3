/* qmgr.h: loft-queue's process context and the interfaces between its
 * files: qmgr-main.c (start, privileges, signals), qmgr-server.c (the QUEUE
 * protocol on the "queue" and "pickup" listeners), qmgr-sched.c (what to
 * attempt when; recipient state), qmgr-job.c (a delivery job in a forked
 * child reporting results over a pipe), qmgr-local.c (LMTP client),
 * qmgr-remote.c (RELAY client), qmgr-bounce.c (DSNs), qmgr-admit.c and
 * qmgr-refuse.c (connection limits and refusals). */
#ifndef LOFT_QMGR_H
#define LOFT_QMGR_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "qmgr-admit.h"
#include "qmgr-route.h"
#include "queue-store.h"

struct qmgr_settings {
	uint64_t lifetime_ms, retry_min_ms, retry_max_ms;
	uint64_t size_limit; /* message_size_limit */
	uint64_t timeout_ms; /* LMTP / relay client I/O timeout */
	unsigned concurrency;
	const char *base_dir;
	char hostname[256];
	struct qmgr_route_cfg route;
	struct qmgr_limits limits;
};

struct qmgr_sched;
struct qmgr_server;

struct qmgr {
	struct loft_log lg;
	struct config *cfg;
	struct event_base *base;
	struct queue_store qs;
	bool qs_open;
	struct qmgr_settings set;
	struct qmgr_sched *sched;
	struct qmgr_server *server;
	bool draining;
	int exit_code;
};

/* Crash-only: log, stop the loop, exit non-zero; the master restarts us
 * and everything that matters is on disk. */
void qmgr_fatal(struct qmgr *q, const char *what, const char *error);

/* -- scheduler (qmgr-sched.c) -- */
struct qmgr_sched *qmgr_sched_new(struct qmgr *q);
/* Stop: SIGTERM running job children, free everything. */
void qmgr_sched_free(struct qmgr_sched *s);
/* Learn every message in active/, deferred/ and hold/ (after recovery). */
int qmgr_sched_load(struct qmgr_sched *s);
/* A message just committed to active/: attempt it now. */
void qmgr_sched_add(struct qmgr_sched *s, const char *id);
/* Administration: FLUSH (every deferred message now), HOLD, RELEASE,
 * DELETE. 0, or -1 with *error_r ("no such message"). */
void qmgr_sched_flush(struct qmgr_sched *s);
int qmgr_sched_hold(struct qmgr_sched *s, const char *id, const char **error_r);
int qmgr_sched_release(struct qmgr_sched *s, const char *id, const char **error_r);
int qmgr_sched_delete(struct qmgr_sched *s, const char *id, const char **error_r);
/* Graceful stop: start nothing new; true once no job is running. */
void qmgr_sched_drain(struct qmgr_sched *s);
bool qmgr_sched_idle(const struct qmgr_sched *s);

/* -- QUEUE server (qmgr-server.c) -- */
struct qmgr_server *qmgr_server_new(struct qmgr *q);
/* Serve listener fd; pickup: peers identified by SO_PEERCRED, admin verbs. */
int qmgr_server_listen(struct qmgr_server *srv, int fd, bool pickup);
/* SIGQUIT: close the listeners; open connections go on. */
void qmgr_server_close_listeners(struct qmgr_server *srv);
size_t qmgr_server_nconns(const struct qmgr_server *srv);
/* Close everything; open writers are aborted (safe: never acknowledged). */
void qmgr_server_free(struct qmgr_server *srv);

/* -- refusals (qmgr-refuse.c) -- */
#define QMGR_REFUSE_TEXT 200
struct qmgr_refuser;
struct qmgr_refuser *qmgr_refuser_new(struct event_base *base, struct loft_log *lg);
/* Take fd, a connection just accepted over a limit: log (rate-limited)
 * "refused <who>: <text>", answer FAIL temp <text> and close it. */
void qmgr_refuse(struct qmgr_refuser *r, int fd, const char *who, const char *text);
/* Close every refusal still waiting. */
void qmgr_refuser_free(struct qmgr_refuser *r);

/* Write one complete message to the spool (the bounce path): 0 with id_r
 * (QUEUE_ID_LEN + 1 bytes) or -1 with *error_r. */
int qmgr_enqueue(struct qmgr *q, struct queue_msg *m, const char *body, size_t len, char *id_r,
                 const char **error_r);

/* -- jobs (qmgr-job.c) -- */
enum qmgr_result { QMGR_OK, QMGR_TEMP, QMGR_PERM };
typedef void qmgr_job_result_fn(void *arg, struct qmgr_job *j, size_t k, size_t i,
                                enum qmgr_result r, const char *text);
typedef void qmgr_job_done_fn(void *arg, struct qmgr_job *j);
/* Fork a child doing j (LMTP when j->local, else RELAY) with msgs[k] the
 * loaded message of j->msgs[k]; result() per recipient as lines arrive,
 * done() at the end (recipients without a result are the caller's to
 * fail). 0, or -1 (nothing started). */
int qmgr_job_launch(struct qmgr *q, struct qmgr_job *j, const struct queue_msg *const *msgs,
                    qmgr_job_result_fn *result, qmgr_job_done_fn *done, void *arg);
/* Stop watching a job's pipe and close its descriptors (not its child). */
void qmgr_job_release(struct qmgr_job *j);
/* In a job child: report recipient i of job message k. */
void qmgr_job_report(int out, size_t k, size_t i, enum qmgr_result r, const char *text);

/* In a job child: do the delivery, reporting every recipient on out. */
void qmgr_local_run(const struct qmgr *q, const struct qmgr_job *j, const struct queue_msg *m,
                    int out);
void qmgr_remote_run(const struct qmgr *q, const struct qmgr_job *j,
                     const struct queue_msg *const *msgs, int out);

/* -- bounces (qmgr-bounce.c) -- */
struct qmgr_bounce_rcpt {
	const char *rcpt;
	const char *status; /* "5.1.1" */
	const char *text;   /* the reply / error */
	const char *remote_mta;
};
/* Build the DSN for m's failed recipients and commit it to the spool as a
 * new message from <> to m->sender; its id into id_r. 0, or -1. */
int qmgr_bounce_send(struct qmgr *q, const struct queue_msg *m, const struct qmgr_bounce_rcpt *r,
                     size_t n, bool expired, char *id_r);

#endif
