/* relay-server.c: the server side of the RELAY protocol (docs/queue-protocol.md)
 * in a loft-relay job child: version handshake, JOB, up to RELAY_MAX_MSGS MSG
 * lines each carrying its spool file's fd, END; then delivery and one RCPT
 * result line per recipient, DONE. Every address is re-validated with the
 * strict parser before it can reach an SMTP command line. A protocol error
 * drops the connection without DONE (the queue then retries the job). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "relay-client.h"
#include "relay.h"
#include "smtp-parse.h"
#include "wire.h"

#define RELAY_PROTO       "RELAY"
#define RELAY_READ_SECS   60
#define RELAY_SPOOL_LIMIT ((size_t)1 << 32) /* far above any message_size_limit */

/* Next line into f: field count, or -1 at EOF / error / malformed input. */
static int next_line(struct wire_conn *c, struct wire_field *f)
{
	for (;;) {
		int n = wire_conn_next(c, f, WIRE_MAX_FIELDS);
		if (n != 0)
			return n;
		if (wire_conn_read(c) <= 0)
			return -1;
	}
}

static char *field_dup(const struct wire_field *f)
{
	if (memchr(f->p, '\0', f->len) != NULL)
		return NULL;
	return strndup(f->p, f->len);
}

/* Map and decode the spool file; on failure every result is TEMP. */
static void msg_load(struct relay_msg *m, int fd)
{
	struct stat st;
	const char *err = NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (size_t)st.st_size > RELAY_SPOOL_LIMIT) {
		err = "not a spool file";
	} else {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			err = strerror(errno);
		} else {
			m->spool = p;
			m->spool_len = (size_t)st.st_size;
			if (queue_msg_decode(m->spool, m->spool_len, &m->qm, &err) == 0) {
				m->decoded = true;
				if (strcmp(m->qm.id, m->queue_id) != 0)
					err = "spool file of another message";
			}
		}
	}
	if (err != NULL || !m->decoded) {
		for (size_t i = 0; i < m->nrcpt; i++)
			relay_result_set(&m->res[i], RELAY_TEMP, "4.3.0 cannot read spool file: %s",
			                 err != NULL ? err : "?");
		return;
	}
	m->eightbit = relay_body_8bit(m->spool, m->spool_len, &m->qm);
}

/* Normalise and check the envelope: a bad address never reaches SMTP. */
static void msg_check(struct relay_msg *m, const char *domain)
{
	struct smtp_addr a;
	if (m->sender[0] != '\0') {
		if (smtp_addr_parse(m->sender, strlen(m->sender), SMTP_ADDR_ALLOW_UTF8, &a) !=
		    SMTP_PARSE_OK) {
			for (size_t i = 0; i < m->nrcpt; i++)
				relay_result_set(&m->res[i], RELAY_PERM,
				                 "5.1.7 bad sender address");
			return;
		}
		char *s = strdup(a.full);
		if (s != NULL) {
			free(m->sender);
			m->sender = s;
		}
	}
	for (size_t i = 0; i < m->nrcpt; i++) {
		if (smtp_addr_parse(m->rcpts[i], strlen(m->rcpts[i]), SMTP_ADDR_ALLOW_UTF8, &a) !=
		    SMTP_PARSE_OK) {
			relay_result_set(&m->res[i], RELAY_PERM, "5.1.3 bad recipient address");
			continue;
		}
		if (strcmp(a.domain, domain) != 0) {
			relay_result_set(&m->res[i], RELAY_TEMP,
			                 "4.3.5 recipient not in the job's domain %s", domain);
			continue;
		}
		char *s = strdup(a.full);
		if (s == NULL) {
			relay_result_set(&m->res[i], RELAY_TEMP, "4.3.0 out of memory");
			continue;
		}
		free(m->rcpts[i]);
		m->rcpts[i] = s;
	}
}

/* One MSG line (f[0] = "MSG"), fd attached. -1 = protocol error. */
static int msg_read(struct relay_job *job, const struct wire_field *f, int n, int fd)
{
	if (n < 4 || job->nmsg >= RELAY_MAX_MSGS || fd < 0)
		return -1;
	struct relay_msg *m = &job->msg[job->nmsg++];
	m->nrcpt = (size_t)n - 3;
	m->queue_id = field_dup(&f[1]);
	m->sender = field_dup(&f[2]);
	m->rcpts = calloc(m->nrcpt, sizeof(char *));
	m->res = calloc(m->nrcpt, sizeof(*m->res));
	if (m->queue_id == NULL || m->sender == NULL || m->rcpts == NULL || m->res == NULL)
		return -1;
	for (size_t i = 0; i < m->nrcpt; i++)
		if ((m->rcpts[i] = field_dup(&f[3 + i])) == NULL)
			return -1;
	msg_check(m, job->domain);
	msg_load(m, fd);
	return 0;
}

static void job_free(struct relay_job *job)
{
	for (size_t i = 0; i < job->nmsg; i++) {
		struct relay_msg *m = &job->msg[i];
		if (m->decoded)
			queue_msg_free(&m->qm);
		if (m->spool != NULL)
			munmap((void *)m->spool, m->spool_len);
		for (size_t r = 0; m->rcpts != NULL && r < m->nrcpt; r++)
			free(m->rcpts[r]);
		free(m->rcpts);
		free(m->res);
		free(m->queue_id);
		free(m->sender);
	}
}

/* Handshake and the job's lines up to END. */
static int job_read(struct wire_conn *c, int fd, struct relay_job *job, const char **why)
{
	struct wire_field f[WIRE_MAX_FIELDS];
	struct buf out;
	int n = next_line(c, f);
	*why = "bad version handshake";
	if (n < 0 || wire_check_version(f, n, RELAY_PROTO, 1) < 0)
		return -1;
	buf_init(&out, 256);
	int r = wire_encode_version(&out, RELAY_PROTO, 1, 0);
	if (r == 0)
		r = wire_send(fd, out.data, out.len, NULL, 0);
	buf_free(&out);
	if (r < 0)
		return -1;
	*why = "expected JOB";
	n = next_line(c, f);
	if (n != 2 || !wire_field_eq(&f[0], "JOB") || f[1].len == 0 ||
	    f[1].len >= sizeof(job->domain) || memchr(f[1].p, '\0', f[1].len) != NULL)
		return -1;
	memcpy(job->domain, f[1].p, f[1].len + 1);
	for (;;) {
		*why = "malformed line";
		if ((n = next_line(c, f)) < 0)
			return -1;
		if (n == 1 && wire_field_eq(&f[0], "END"))
			return job->nmsg > 0 ? 0 : -1;
		*why = "bad MSG line (fields, count or fd)";
		if (!wire_field_eq(&f[0], "MSG"))
			return -1;
		int mfd = wire_conn_take_fd(c);
		r = msg_read(job, f, n, mfd);
		if (mfd >= 0)
			close(mfd); /* mapped already; the mapping outlives the fd */
		if (r < 0)
			return -1;
	}
}

static int results_send(int fd, const struct relay_job *job, const struct loft_log *lg)
{
	struct buf out;
	buf_init(&out, 0);
	int r = 0;
	for (size_t i = 0; i < job->nmsg && r == 0; i++) {
		const struct relay_msg *m = &job->msg[i];
		for (size_t k = 0; k < m->nrcpt && r == 0; k++) {
			char idx[24];
			snprintf(idx, sizeof(idx), "%zu", k);
			const char *f[] = {
			    "RCPT",         m->queue_id, idx, relay_status_name(m->res[k].st),
			    m->res[k].text, NULL};
			r = wire_encode_strs(&out, f);
			log_info(lg, "%s: to=<%s> status=%s (%s)", m->queue_id, m->rcpts[k],
			         relay_status_name(m->res[k].st), m->res[k].text);
		}
	}
	const char *done[] = {"DONE", NULL};
	if (r == 0)
		r = wire_encode_strs(&out, done);
	if (r == 0)
		r = wire_send(fd, out.data, out.len, NULL, 0);
	buf_free(&out);
	return r;
}

int relay_server_serve(int fd, const struct relay_opts *o, const struct loft_log *lg)
{
	struct timeval tv = {.tv_sec = RELAY_READ_SECS};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct wire_conn c;
	wire_conn_init(&c, fd);
	struct relay_job *job = calloc(1, sizeof(*job));
	const char *why = "out of memory";
	int rc = -1;
	if (job != NULL && job_read(&c, fd, job, &why) == 0) {
		relay_job_deliver(o, job, lg);
		why = "cannot send the results";
		rc = results_send(fd, job, lg);
	}
	if (rc < 0)
		log_warning(lg, "RELAY connection dropped: %s", why);
	if (job != NULL)
		job_free(job);
	free(job);
	wire_conn_clear(&c);
	return rc;
}
