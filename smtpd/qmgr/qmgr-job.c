/* qmgr-job.c: running one delivery job in a forked child. The child does
 * blocking I/O (LMTP or RELAY client) and reports one line per recipient on
 * a pipe: RES <TAB> k <TAB> i <TAB> ok|temp|perm <TAB> text. The parent
 * reads the pipe in its event loop; a child that dies early just leaves
 * recipients unanswered, which the scheduler treats as temporary failures.
 * Forking keeps the loop free of slow peers and a crash in a client
 * confined to one job. */
#include "qmgr.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evloop.h"
#include "wire.h"
#include "write-all.h"

struct job_watch {
	struct qmgr_job *j;
	qmgr_job_result_fn *result;
	qmgr_job_done_fn *done;
	void *arg;
};

static const char *const result_names[] = {"ok", "temp", "perm"};

void qmgr_job_report(int out, size_t k, size_t i, enum qmgr_result r, const char *text)
{
	char ks[24], is[24], clean[QUEUE_ERROR_MAX + 1];
	struct buf b;
	snprintf(ks, sizeof(ks), "%zu", k);
	snprintf(is, sizeof(is), "%zu", i);
	log_sanitise(clean, sizeof(clean), text, strlen(text));
	const char *f[] = {"RES", ks, is, result_names[r], clean, NULL};
	buf_init(&b, WIRE_MAX_LINE);
	if (wire_encode_strs(&b, f) == 0)
		(void)write_all(out, b.data, b.len);
	buf_free(&b);
}

/* Close every descriptor from 3 up except the sorted keep[0..n). */
static void close_others(int *keep, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	}
	unsigned from = 3;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 3)
			continue;
		if ((unsigned)keep[i] > from)
			close_range(from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	close_range(from, ~0U, 0);
}

__attribute__((noreturn)) static void job_child(struct qmgr *q, struct qmgr_job *j,
                                                const struct queue_msg *const *msgs, int out,
                                                pid_t parent)
{
	/* A job outliving a killed loft-queue would deliver messages whose
	 * results nobody saves, in parallel with the restarted queue's retry:
	 * die with the parent, so only the documented window (a 250 whose
	 * state save was lost) can duplicate. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	/* libevent's signal handlers belong to the parent's loop. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	int keep[QMGR_JOB_MSGS + 1];
	size_t nkeep = 0;
	keep[nkeep++] = out;
	for (size_t k = 0; k < j->nmsg; k++) {
		if (j->msgs[k].fd >= 0)
			keep[nkeep++] = j->msgs[k].fd;
	}
	close_others(keep, nkeep);
	if (j->local)
		qmgr_local_run(q, j, msgs[0], out);
	else
		qmgr_remote_run(q, j, msgs, out);
	_exit(0);
}

/* RES k i status text -> result callback; anything else is ignored (the
 * child is ours, but a bad line must not index out of the job). */
static void job_line(struct job_watch *w, const struct wire_field *f, int n)
{
	uint32_t k, i;
	struct qmgr_job *j = w->j;
	if (n != 5 || !wire_field_eq(&f[0], "RES") ||
	    wire_parse_u32(f[1].p, f[1].len, QMGR_JOB_MSGS - 1, &k) < 0 ||
	    wire_parse_u32(f[2].p, f[2].len, QMGR_JOB_RCPTS - 1, &i) < 0 || k >= j->nmsg ||
	    i >= j->msgs[k].nrcpt || j->msgs[k].answered[i])
		return;
	for (int r = 0; r < 3; r++) {
		if (wire_field_eq(&f[3], result_names[r])) {
			j->msgs[k].answered[i] = true;
			w->result(w->arg, j, k, i, (enum qmgr_result)r, f[4].p);
			return;
		}
	}
}

static void job_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct job_watch *w = arg;
	ssize_t r = wire_conn_read(&w->j->conn);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	struct wire_field f[WIRE_MAX_FIELDS];
	int n;
	while ((n = wire_conn_next(&w->j->conn, f, WIRE_MAX_FIELDS)) > 0)
		job_line(w, f, n);
	if (r > 0 && n == 0)
		return;
	/* EOF, a read error or a malformed line: the job is over. */
	struct job_watch copy = *w;
	qmgr_job_release(copy.j); /* frees w */
	copy.done(copy.arg, copy.j);
}

void qmgr_job_release(struct qmgr_job *j)
{
	if (j->ev != NULL) {
		struct job_watch *w = event_get_callback_arg(j->ev);
		event_free(j->ev);
		j->ev = NULL;
		free(w);
	}
	if (j->conn.fd >= 0) {
		close(j->conn.fd);
		wire_conn_clear(&j->conn);
		j->conn.fd = -1;
	}
	for (size_t k = 0; k < j->nmsg; k++) {
		if (j->msgs[k].fd >= 0)
			close(j->msgs[k].fd);
		j->msgs[k].fd = -1;
	}
}

int qmgr_job_launch(struct qmgr *q, struct qmgr_job *j, const struct queue_msg *const *msgs,
                    qmgr_job_result_fn *result, qmgr_job_done_fn *done, void *arg)
{
	int p[2];
	j->conn.fd = -1;
	/* A socketpair, not a pipe: wire_conn reads with recvmsg. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0) {
		log_error(&q->lg, "socketpair: %s", strerror(errno));
		return -1;
	}
	struct job_watch *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		log_error(&q->lg, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		free(w);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		job_child(q, j, msgs, p[1], parent);
	}
	close(p[1]);
	j->pid = pid;
	*w = (struct job_watch){j, result, done, arg};
	wire_conn_init(&j->conn, p[0]);
	evloop_set_nonblock(p[0]);
	j->ev = evloop_add_read(q->base, p[0], job_readable, w);
	if (j->ev == NULL) {
		/* Nobody would read it: stop the child and fail the job. */
		kill(pid, SIGKILL);
		free(w);
		qmgr_job_release(j);
		return -1;
	}
	/* The parent keeps no copy of the spool descriptors. */
	for (size_t k = 0; k < j->nmsg; k++) {
		if (j->msgs[k].fd >= 0)
			close(j->msgs[k].fd);
		j->msgs[k].fd = -1;
	}
	return 0;
}
