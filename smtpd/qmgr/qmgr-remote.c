/* qmgr-remote.c: remote delivery, run in a job child (qmgr-job.c): the
 * client side of the RELAY protocol (docs/queue-protocol.md). One
 * connection to <base_dir>/relay per job: VERSION, JOB <domain>, one MSG
 * line per message with its spool file attached read-only, END; then the
 * relay's RCPT results until DONE. No relay to talk to: every recipient is
 * deferred with "4.3.0 relay unavailable". */
#include "qmgr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "wire.h"

static int relay_connect(const struct qmgr *q)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/relay", q->set.base_dir);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	/* The relay may sit on slow MX hosts for a long time; the timeout
	 * only catches a relay that stopped answering altogether. */
	uint64_t ms = q->set.timeout_ms * 4;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Next line from the relay: field count, or -1 on EOF / error. */
static int relay_next(struct wire_conn *c, struct wire_field *f)
{
	for (;;) {
		int n = wire_conn_next(c, f, WIRE_MAX_FIELDS);
		if (n != 0)
			return n;
		ssize_t r = wire_conn_read(c);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
	}
}

static int send_line(int fd, const char *const *fields, const int *fds, size_t nfds)
{
	struct buf b;
	buf_init(&b, WIRE_MAX_LINE + 1);
	int rc = wire_encode_strs(&b, fields);
	if (rc == 0)
		rc = wire_send(fd, b.data, b.len, fds, nfds);
	buf_free(&b);
	return rc;
}

static int send_job(int fd, const struct qmgr_job *j, const struct queue_msg *const *msgs)
{
	struct buf b;
	buf_init(&b, WIRE_MAX_LINE + 1);
	int rc = wire_encode_version(&b, "RELAY", 1, 0);
	if (rc == 0)
		rc = wire_send(fd, b.data, b.len, NULL, 0);
	buf_free(&b);
	const char *job[] = {"JOB", j->domain, NULL};
	if (rc < 0 || send_line(fd, job, NULL, 0) < 0)
		return -1;
	for (size_t k = 0; k < j->nmsg; k++) {
		const char *f[QMGR_JOB_RCPTS + 5];
		size_t n = 0;
		f[n++] = "MSG";
		f[n++] = msgs[k]->id;
		f[n++] = msgs[k]->sender;
		for (size_t i = 0; i < j->msgs[k].nrcpt; i++)
			f[n++] = msgs[k]->rcpts[j->msgs[k].rcpt[i]].addr;
		f[n] = NULL;
		if (send_line(fd, f, &j->msgs[k].fd, 1) < 0)
			return -1;
	}
	const char *end[] = {"END", NULL};
	return send_line(fd, end, NULL, 0);
}

/* RCPT <id> <index> ok|temp|perm <text>: report it for the right message. */
static void relay_result(const struct qmgr_job *j, const struct queue_msg *const *msgs,
                         const struct wire_field *f, int n, bool settled[][QMGR_JOB_RCPTS], int out)
{
	static const char *const names[] = {"ok", "temp", "perm"};
	uint32_t idx;
	if (n != 5 || wire_parse_u32(f[2].p, f[2].len, QMGR_JOB_RCPTS - 1, &idx) < 0)
		return;
	for (size_t k = 0; k < j->nmsg; k++) {
		if (!wire_field_eq(&f[1], msgs[k]->id) || idx >= j->msgs[k].nrcpt ||
		    settled[k][idx])
			continue;
		for (int r = 0; r < 3; r++) {
			if (wire_field_eq(&f[3], names[r])) {
				qmgr_job_report(out, k, idx, (enum qmgr_result)r, f[4].p);
				settled[k][idx] = true;
			}
		}
		return;
	}
}

void qmgr_remote_run(const struct qmgr *q, const struct qmgr_job *j,
                     const struct queue_msg *const *msgs, int out)
{
	bool settled[QMGR_JOB_MSGS][QMGR_JOB_RCPTS];
	memset(settled, 0, sizeof(settled));
	const char *why = "4.3.0 relay unavailable";
	struct wire_conn c;
	struct wire_field f[WIRE_MAX_FIELDS];
	int fd = relay_connect(q);
	wire_conn_init(&c, fd);
	if (fd >= 0 && send_job(fd, j, msgs) == 0) {
		int n = relay_next(&c, f);
		if (n > 0 && wire_check_version(f, n, "RELAY", 1) == 0) {
			why = "4.4.2 relay connection lost";
			while ((n = relay_next(&c, f)) > 0) {
				if (n == 1 && wire_field_eq(&f[0], "DONE")) {
					why = "4.3.0 relay gave no result";
					break;
				}
				if (wire_field_eq(&f[0], "RCPT"))
					relay_result(j, msgs, f, n, settled, out);
			}
		}
	}
	for (size_t k = 0; k < j->nmsg; k++) {
		for (size_t i = 0; i < j->msgs[k].nrcpt; i++) {
			if (!settled[k][i])
				qmgr_job_report(out, k, i, QMGR_TEMP, why);
		}
	}
	wire_conn_clear(&c);
	if (fd >= 0)
		close(fd);
}
