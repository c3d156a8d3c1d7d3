/* test-queue-client.c: lib/ipc/queue-client.c against the real QUEUE server
 * (smtpd/qmgr/qmgr-server.c with the real spool), run in a forked child on
 * temp UNIX sockets "queue" and "pickup" with its scheduler drained, so
 * nothing is delivered and every message stays where the verbs put it.
 * Covers submission (several messages on one connection, BODY batching,
 * the stored bytes), LIST, FLUSH, HOLD, RELEASE, DELETE, every answer:
 * OK, LIST, FAIL perm (too big, no such message, permission denied, a bad
 * address), FAIL temp (at DATA and at COMMIT); ABORT; and, against scripted
 * fakes, IO and protocol errors (the old 4-field FAIL among them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evloop.h"
#include "qmgr.h"
#include "queue-client.h"
#include "queue-id.h"
#include "test-rmtree.h"

#define TIMEOUT_MS 10000

struct fixture {
	char dir[64];
	char state[80]; /* state_dir: the spool is <state>/queue */
	char queue_path[128], pickup_path[128];
	pid_t server;
};

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

/* qmgr-main.c's, which the library leaves out: a fatal error in the server
 * ends the child non-zero, and teardown fails the test. */
void qmgr_fatal(struct qmgr *q, const char *what, const char *error)
{
	log_error(&q->lg, "fatal: %s: %s", what, error);
	q->exit_code = 1;
	event_base_loopbreak(q->base);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

/* The child: loft-queue's server and store as qmgr-main.c sets them up,
 * minus config and privileges; stops cleanly on SIGTERM (exit 0). */
static void run_server(const char *dir, int qfd, int pfd, uint64_t size_limit)
{
	struct qmgr q;
	char err[256];
	const char *e;
	memset(&q, 0, sizeof(q));
	log_open_pipe(&q.lg, "queue", LOG_WARNING);
	q.set.size_limit = size_limit;
	/* loft.conf's defaults; idle timeouts off */
	q.set.limits.queue_max = 512;
	q.set.limits.pickup_max = 128;
	q.set.limits.pickup_per_uid = 16;
	q.set.base_dir = dir;
	snprintf(q.set.hostname, sizeof(q.set.hostname), "test.invalid");
	if (queue_store_open(&q.qs, dir, &e) < 0)
		_exit(10);
	q.qs_open = true;
	q.base = evloop_new(err, sizeof(err));
	if (q.base == NULL)
		_exit(11);
	struct event *term = evloop_add_signal(q.base, SIGTERM, on_term, q.base);
	q.sched = qmgr_sched_new(&q);
	q.server = qmgr_server_new(&q);
	if (term == NULL || q.sched == NULL || q.server == NULL)
		_exit(12);
	/* the server is under test, not delivery */
	qmgr_sched_drain(q.sched);
	if (qmgr_server_listen(q.server, qfd, false) < 0 ||
	    qmgr_server_listen(q.server, pfd, true) < 0)
		_exit(13);
	event_base_dispatch(q.base);
	qmgr_server_free(q.server);
	qmgr_sched_free(q.sched);
	event_free(term);
	event_base_free(q.base);
	queue_store_close(&q.qs);
	_exit(q.exit_code);
}

static void start_server(struct fixture *f, uint64_t size_limit)
{
	int qfd = listen_unix(f->queue_path), pfd = listen_unix(f->pickup_path);
	f->server = fork();
	assert_true(f->server >= 0);
	if (f->server == 0)
		run_server(f->state, qfd, pfd, size_limit);
	close(qfd);
	close(pfd);
	/* one handshake: the child is in its loop (and has its SIGTERM
	 * handler) before any test can stop it */
	struct queue_client qc;
	queue_client_init(&qc);
	enum queue_result r = queue_client_connect(&qc, f->pickup_path, TIMEOUT_MS);
	if (r != QUEUE_OK)
		fprintf(stderr, "queue server did not start: %s\n", qc.err);
	assert_int_equal(r, QUEUE_OK);
	queue_client_close(&qc);
}

static int setup_limit(void **state, uint64_t size_limit)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-qclient.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	assert_int_equal(mkdir(f->state, 0700), 0);
	snprintf(f->queue_path, sizeof(f->queue_path), "%s/queue", f->dir);
	snprintf(f->pickup_path, sizeof(f->pickup_path), "%s/pickup", f->dir);
	start_server(f, size_limit);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_limit(state, 10 * 1024 * 1024);
}

static int setup_small(void **state)
{
	return setup_limit(state, 1000);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int st = 0;
	kill(f->server, SIGTERM);
	assert_int_equal(waitpid(f->server, &st, 0), f->server);
	test_rmtree(f->dir);
	/* the server survived everything the test did and stopped cleanly */
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	free(f);
	return 0;
}

/* -- helpers ---------------------------------------------------------------- */

static void connect_ok(struct fixture *f, struct queue_client *qc, bool pickup)
{
	queue_client_init(qc);
	assert_int_equal(
	    queue_client_connect(qc, pickup ? f->pickup_path : f->queue_path, TIMEOUT_MS),
	    QUEUE_OK);
	assert_true(queue_client_connected(qc));
}

static const char *const two_rcpts[] = {"alice@example.org", "bob@remote.test"};

static const struct queue_envelope env2 = {
    .sender = "sender@remote.test",
    .rcpts = two_rcpts,
    .n_rcpts = 2,
    .helo = "client.test",
    .addr = "192.0.2.7",
    .auth = "carol",
};

/* Submit body on qc; QUEUE_OK with the id in qid. */
static enum queue_result submit(struct queue_client *qc, const struct queue_envelope *env,
                                const char *body, size_t len, char qid[QUEUE_ID_LEN + 1])
{
	enum queue_result r = queue_client_begin(qc, env, qid, QUEUE_ID_LEN + 1);
	if (r != QUEUE_OK)
		return r;
	assert_true(queue_id_valid(qid, strlen(qid)));
	/* uneven pieces: BODY lines are cut at 16384 bytes whatever comes */
	size_t off = 0, step = 1;
	while (off < len && r == QUEUE_OK) {
		size_t n = len - off < step ? len - off : step;
		r = queue_client_write(qc, body + off, n);
		off += n;
		step = step * 7 + 3;
	}
	return r == QUEUE_OK ? queue_client_commit(qc) : r;
}

/* Where id is in the spool (-1 when gone), and its body into out. */
static int spool_find(struct fixture *f, const char *id, struct buf *out)
{
	struct queue_store qs;
	const char *e;
	enum queue_dir d;
	assert_int_equal(queue_store_open(&qs, f->state, &e), 0);
	int rc = -1;
	struct queue_msg m;
	if (queue_store_find(&qs, id, &d) == 0 && queue_store_load(&qs, id, &m, &d, &e) == 0) {
		rc = (int)d;
		if (out != NULL) {
			assert_int_equal(queue_store_load_body(&qs, &m, d, &e), 0);
			size_t pos = m.body_off, n;
			const char *c;
			while (queue_body_next(m.raw, m.file_len, &pos, &c, &n))
				assert_int_equal(buf_append(out, c, n), 0);
		}
		queue_msg_free(&m);
	}
	queue_store_close(&qs);
	return rc;
}

static size_t spool_count(struct fixture *f, enum queue_dir d)
{
	struct queue_store qs;
	const char *e;
	char **ids;
	size_t n;
	assert_int_equal(queue_store_open(&qs, f->state, &e), 0);
	assert_int_equal(queue_store_ids(&qs, d, &ids, &n, &e), 0);
	queue_ids_free(ids, n);
	queue_store_close(&qs);
	return n;
}

static size_t incoming_files(struct fixture *f)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "ls -A %s/queue/incoming | wc -l", f->state);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	unsigned long n = 99;
	assert_int_equal(fscanf(p, "%lu", &n), 1);
	pclose(p);
	return n;
}

static char *make_body(size_t len)
{
	char *b = malloc(len);
	assert_non_null(b);
	for (size_t i = 0; i < len; i++)
		b[i] = (char)(i % 251); /* every byte value the wire escapes, too */
	return b;
}

/* -- submission --------------------------------------------------------- */

static void test_submit_two_messages_on_one_connection(void **state)
{
	struct fixture *f = *state;
	struct queue_client qc;
	connect_ok(f, &qc, false);
	size_t len = 3 * QUEUE_BODY_LINE + 1234;
	char *body = make_body(len);
	char id1[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1];
	assert_int_equal(submit(&qc, &env2, body, len, id1), QUEUE_OK);
	assert_int_equal(submit(&qc, &env2, "Subject: 2\r\n\r\nsecond\r\n", 22, id2), QUEUE_OK);
	assert_string_not_equal(id1, id2);
	queue_client_close(&qc);

	struct buf got;
	buf_init(&got, 0);
	assert_int_equal(spool_find(f, id1, &got), QUEUE_DIR_ACTIVE);
	assert_int_equal(got.len, len);
	assert_memory_equal(got.data, body, len);
	buf_reset(&got);
	assert_int_equal(spool_find(f, id2, &got), QUEUE_DIR_ACTIVE);
	assert_int_equal(got.len, 22);
	assert_memory_equal(got.data, "Subject: 2\r\n\r\nsecond\r\n", 22);
	buf_free(&got);

	/* the envelope as the server stored it: keys taken on "queue" */
	struct queue_store qs;
	struct queue_msg m;
	const char *e;
	enum queue_dir d;
	assert_int_equal(queue_store_open(&qs, f->state, &e), 0);
	assert_int_equal(queue_store_load(&qs, id1, &m, &d, &e), 0);
	assert_string_equal(m.sender, "sender@remote.test");
	assert_int_equal(m.nrcpt, 2);
	assert_string_equal(m.rcpts[0].addr, "alice@example.org");
	assert_string_equal(m.rcpts[1].addr, "bob@remote.test");
	assert_string_equal(m.helo, "client.test");
	assert_string_equal(m.client_addr, "192.0.2.7");
	assert_string_equal(m.auth_user, "carol");
	queue_msg_free(&m);
	queue_store_close(&qs);
	free(body);
}

static void test_null_sender_and_empty_body_on_pickup(void **state)
{
	struct fixture *f = *state;
	struct queue_client qc;
	connect_ok(f, &qc, true);
	const char *rc1[] = {"root"};
	struct queue_envelope env = {.sender = "", .rcpts = rc1, .n_rcpts = 1, .addr = "10.0.0.1"};
	char id[QUEUE_ID_LEN + 1];
	assert_int_equal(submit(&qc, &env, "", 0, id), QUEUE_OK);
	queue_client_close(&qc);
	struct queue_store qs;
	struct queue_msg m;
	const char *e;
	enum queue_dir d;
	assert_int_equal(queue_store_open(&qs, f->state, &e), 0);
	assert_int_equal(queue_store_load(&qs, id, &m, &d, &e), 0);
	assert_string_equal(m.sender, "");
	/* pickup: the kernel's word about the peer, never the client's */
	char want[64];
	snprintf(want, sizeof(want), "local uid=%u", (unsigned)getuid());
	assert_string_equal(m.client_addr, want);
	queue_msg_free(&m);
	queue_store_close(&qs);
}

static void test_abort_keeps_connection(void **state)
{
	struct fixture *f = *state;
	struct queue_client qc;
	connect_ok(f, &qc, false);
	char id[QUEUE_ID_LEN + 1];
	assert_int_equal(queue_client_begin(&qc, &env2, id, sizeof(id)), QUEUE_OK);
	assert_int_equal(queue_client_write(&qc, "x\r\n", 3), QUEUE_OK);
	queue_client_abort(&qc);
	assert_true(queue_client_connected(&qc));
	assert_int_equal(spool_find(f, id, NULL), -1);
	assert_int_equal(incoming_files(f), 0);
	/* nothing open: write and commit refuse without touching the server */
	assert_int_equal(queue_client_write(&qc, "y", 1), QUEUE_IO_ERROR);
	assert_int_equal(queue_client_commit(&qc), QUEUE_IO_ERROR);
	char id2[QUEUE_ID_LEN + 1];
	assert_int_equal(submit(&qc, &env2, "ok\r\n", 4, id2), QUEUE_OK);
	queue_client_close(&qc);
	assert_int_equal(spool_find(f, id2, NULL), QUEUE_DIR_ACTIVE);
}

/* -- administration --------------------------------------------------- */

static void test_list_flush_hold_release_delete(void **state)
{
	struct fixture *f = *state;
	struct queue_client qc;
	connect_ok(f, &qc, false);
	char id1[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1];
	assert_int_equal(submit(&qc, &env2, "one\r\n", 5, id1), QUEUE_OK);
	assert_int_equal(submit(&qc, &env2, "two\r\n", 5, id2), QUEUE_OK);
	queue_client_close(&qc);

	struct queue_client ac;
	connect_ok(f, &ac, true);
	struct buf text;
	buf_init(&text, 0);
	assert_int_equal(queue_client_admin(&ac, QUEUE_ADMIN_LIST, NULL, &text), QUEUE_OK);
	assert_non_null(text.data);
	assert_int_equal(buf_append(&text, "", 1), 0);
	assert_non_null(strstr(text.data, id1));
	assert_non_null(strstr(text.data, id2));
	assert_non_null(strstr(text.data, "<sender@remote.test>"));
	assert_non_null(strstr(text.data, "<bob@remote.test>"));

	assert_int_equal(queue_client_admin(&ac, QUEUE_ADMIN_HOLD, id1, NULL), QUEUE_OK);
	assert_int_equal(spool_find(f, id1, NULL), QUEUE_DIR_HOLD);
	buf_reset(&text);
	assert_int_equal(queue_client_admin(&ac, QUEUE_ADMIN_LIST, NULL, &text), QUEUE_OK);
	assert_int_equal(buf_append(&text, "", 1), 0);
	const char *l1 = strstr(text.data, id1);
	assert_non_null(l1);
	assert_non_null(strstr(l1, "hold"));

	assert_int_equal(queue_client_admin(&ac, QUEUE_ADMIN_RELEASE, id1, NULL), QUEUE_OK);
	assert_int_equal(spool_find(f, id1, NULL), QUEUE_DIR_ACTIVE);
	assert_int_equal(queue_client_admin(&ac, QUEUE_ADMIN_FLUSH, NULL, NULL), QUEUE_OK);
	assert_int_equal(spool_find(f, id1, NULL), QUEUE_DIR_ACTIVE);

	assert_int_equal(queue_client_admin(&ac, QUEUE_ADMIN_DELETE, id2, NULL), QUEUE_OK);
	assert_int_equal(spool_find(f, id2, NULL), -1);

	/* FAIL perm without a code; the connection stays usable */
	static const enum queue_admin_verb by_id[] = {QUEUE_ADMIN_DELETE, QUEUE_ADMIN_HOLD,
	                                              QUEUE_ADMIN_RELEASE};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(queue_client_admin(&ac, by_id[i], id2, NULL), QUEUE_PERMFAIL);
		assert_string_equal(ac.status, "");
		assert_string_equal(ac.text, "no such message");
		assert_string_equal(ac.err, "no such message");
		assert_true(queue_client_connected(&ac));
	}
	buf_reset(&text);
	assert_int_equal(queue_client_admin(&ac, QUEUE_ADMIN_LIST, NULL, &text), QUEUE_OK);
	assert_int_equal(buf_append(&text, "", 1), 0);
	assert_non_null(strstr(text.data, id1));
	assert_null(strstr(text.data, id2));
	/* a request the client will not encode */
	assert_int_equal(queue_client_admin(&ac, QUEUE_ADMIN_DELETE, NULL, NULL),
	                 QUEUE_PROTO_ERROR);
	assert_int_equal(queue_client_admin(&ac, QUEUE_ADMIN_LIST, id1, NULL), QUEUE_PROTO_ERROR);
	buf_free(&text);
	queue_client_close(&ac);
}

/* STATUS after a lost COMMIT answer: a queued message is OK, one never
 * committed is FAIL temp; smtpd may ask on /queue (the server runs as our
 * uid, so pickup counts us as the administrator here). */
static void test_status_of_committed_and_unknown(void **state)
{
	struct fixture *f = *state;
	struct queue_client qc;
	connect_ok(f, &qc, false);
	char id[QUEUE_ID_LEN + 1];
	assert_int_equal(submit(&qc, &env2, "Subject: s\r\n\r\nx\r\n", 17, id), QUEUE_OK);
	assert_int_equal(queue_client_admin(&qc, QUEUE_ADMIN_STATUS, id, NULL), QUEUE_OK);
	assert_int_equal(
	    queue_client_admin(&qc, QUEUE_ADMIN_STATUS, "05f1a2b3c4d5e60001abcdef", NULL),
	    QUEUE_TEMPFAIL);
	assert_string_equal(qc.status, "4.3.0");
	assert_string_equal(qc.text, "message not committed");
	assert_true(queue_client_connected(&qc));
	/* without an id it is no request */
	assert_int_equal(queue_client_admin(&qc, QUEUE_ADMIN_STATUS, NULL, NULL),
	                 QUEUE_PROTO_ERROR);
	queue_client_close(&qc);
}

static void test_admin_refused_on_queue_socket(void **state)
{
	struct fixture *f = *state;
	struct queue_client qc;
	connect_ok(f, &qc, false);
	struct buf text;
	buf_init(&text, 0);
	assert_int_equal(queue_client_admin(&qc, QUEUE_ADMIN_LIST, NULL, &text), QUEUE_PERMFAIL);
	assert_string_equal(qc.text, "permission denied");
	assert_int_equal(text.len, 0);
	assert_int_equal(queue_client_admin(&qc, QUEUE_ADMIN_FLUSH, NULL, NULL), QUEUE_PERMFAIL);
	assert_string_equal(qc.text, "permission denied");
	assert_true(queue_client_connected(&qc));
	buf_free(&text);
	queue_client_close(&qc);
}

/* LIST is one wire line: a listing over WIRE_MAX_LINE (64 KiB escaped)
 * cannot be encoded and the server sends its OK alone. The client says so
 * instead of printing an empty queue. */
static void test_list_over_one_line_is_an_error(void **state)
{
	struct fixture *f = *state;
	/* long but valid addresses: 64-byte local parts, long domains */
	char sender[200], rcpt[10][200];
	const char *rcpts[10];
	const char *dom = "@dddddddddddddddddddddddddddddddddddddddd.eeeeeeeeeeeeeeeeeeeeeeee"
	                  "eeeeeeeeeeeeeeee.ffffffffffffffffffffffffffffffffffffffff.test";
	snprintf(sender, sizeof(sender), "%.64s%s",
	         "ssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss", dom);
	for (int i = 0; i < 10; i++) {
		char local[65];
		memset(local, 'a' + i, 64);
		local[64] = '\0';
		snprintf(rcpt[i], sizeof(rcpt[i]), "%s%s", local, dom);
		rcpts[i] = rcpt[i];
	}
	struct queue_envelope env = {.sender = sender, .rcpts = rcpts, .n_rcpts = 10};
	struct queue_client qc;
	connect_ok(f, &qc, false);
	char id[QUEUE_ID_LEN + 1];
	for (int k = 0; k < 40; k++)
		assert_int_equal(submit(&qc, &env, "x\r\n", 3, id), QUEUE_OK);
	queue_client_close(&qc);
	assert_int_equal(spool_count(f, QUEUE_DIR_ACTIVE), 40);
	connect_ok(f, &qc, true);
	struct buf text;
	buf_init(&text, 0);
	assert_int_equal(queue_client_admin(&qc, QUEUE_ADMIN_LIST, NULL, &text), QUEUE_PROTO_ERROR);
	assert_non_null(strstr(qc.err, "no listing"));
	assert_false(queue_client_connected(&qc));
	buf_free(&text);
}

/* -- refusals ---------------------------------------------------------- */

static void test_too_big_is_permfail_with_code(void **state)
{
	struct fixture *f = *state; /* message_size_limit 1000 */
	struct queue_client qc;
	connect_ok(f, &qc, false);
	char *body = make_body(1001);
	char id[QUEUE_ID_LEN + 1];
	assert_int_equal(submit(&qc, &env2, body, 1001, id), QUEUE_PERMFAIL);
	assert_string_equal(qc.status, "5.3.4");
	assert_string_equal(qc.text, "message too big");
	assert_string_equal(qc.err, "5.3.4 message too big");
	assert_int_equal(spool_find(f, id, NULL), -1);
	assert_int_equal(spool_count(f, QUEUE_DIR_ACTIVE), 0);
	assert_int_equal(incoming_files(f), 0);
	/* a refusal at COMMIT leaves the connection usable; the limit itself
	 * is allowed, and the reason is forgotten by the next call */
	assert_true(queue_client_connected(&qc));
	assert_int_equal(submit(&qc, &env2, body, 1000, id), QUEUE_OK);
	assert_string_equal(qc.status, "");
	assert_string_equal(qc.text, "");
	assert_int_equal(spool_find(f, id, NULL), QUEUE_DIR_ACTIVE);
	queue_client_close(&qc);
	free(body);
}

static void test_bad_address_is_permfail_at_begin(void **state)
{
	struct fixture *f = *state;
	struct queue_client qc;
	connect_ok(f, &qc, false);
	const char *bad[] = {"not an address"};
	struct queue_envelope env = {.sender = "s@remote.test", .rcpts = bad, .n_rcpts = 1};
	char id[QUEUE_ID_LEN + 1];
	assert_int_equal(queue_client_begin(&qc, &env, id, sizeof(id)), QUEUE_PERMFAIL);
	assert_true(qc.text[0] != '\0');
	/* the server closes after a malformed line, and so does the client */
	assert_false(queue_client_connected(&qc));
	assert_int_equal(incoming_files(f), 0);
	/* no recipients at all: the server's "no recipients" */
	connect_ok(f, &qc, false);
	struct queue_envelope none = {.sender = "s@remote.test"};
	assert_int_equal(queue_client_begin(&qc, &none, id, sizeof(id)), QUEUE_PERMFAIL);
	assert_string_equal(qc.text, "no recipients");
	assert_false(queue_client_connected(&qc));
}

static void test_tempfail_at_data(void **state)
{
	struct fixture *f = *state;
	char path[160];
	snprintf(path, sizeof(path), "%s/queue/incoming", f->state);
	/* the server's folder handle now names a removed folder */
	assert_int_equal(rmdir(path), 0);
	struct queue_client qc;
	connect_ok(f, &qc, false);
	char id[QUEUE_ID_LEN + 1];
	assert_int_equal(queue_client_begin(&qc, &env2, id, sizeof(id)), QUEUE_TEMPFAIL);
	assert_string_equal(qc.status, "4.3.0");
	assert_string_equal(qc.text, "cannot create queue file");
	assert_false(queue_client_connected(&qc));
}

static void test_tempfail_at_commit(void **state)
{
	struct fixture *f = *state;
	struct queue_client qc;
	connect_ok(f, &qc, false);
	char id[QUEUE_ID_LEN + 1];
	assert_int_equal(queue_client_begin(&qc, &env2, id, sizeof(id)), QUEUE_OK);
	assert_int_equal(queue_client_write(&qc, "x\r\n", 3), QUEUE_OK);
	char path[160];
	snprintf(path, sizeof(path), "%s/queue/active", f->state);
	assert_int_equal(rmdir(path), 0); /* the rename into active/ fails */
	assert_int_equal(queue_client_commit(&qc), QUEUE_TEMPFAIL);
	assert_string_equal(qc.status, "4.3.0");
	assert_string_equal(qc.text, "cannot write queue file");
	assert_true(queue_client_connected(&qc));
	queue_client_close(&qc);
}

/* -- IO and protocol errors against scripted fakes ---------------------- */

/* A fake server on path: reads the client's lines and, after the n-th,
 * writes replies[n] (NULL: nothing; "" ends the script by closing). */
static pid_t fake_server(const char *path, const char *const *replies, size_t n)
{
	int lfd = listen_unix(path);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid != 0) {
		close(lfd);
		return pid;
	}
	int c = accept(lfd, NULL, NULL);
	for (size_t i = 0; c >= 0 && i < n; i++) {
		char ch;
		do {
			if (read(c, &ch, 1) != 1)
				_exit(0);
		} while (ch != '\n');
		if (replies[i] == NULL)
			continue;
		if (replies[i][0] == '\0')
			_exit(0); /* closes the connection */
		if (write(c, replies[i], strlen(replies[i])) < 0)
			_exit(1);
	}
	/* hold the connection until the client goes */
	char buf[256];
	while (c >= 0 && read(c, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

static void fake_done(const char *path, pid_t pid)
{
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	unlink(path);
}

static void test_connect_errors(void **state)
{
	struct fixture *f = *state;
	struct queue_client qc;
	queue_client_init(&qc);
	char path[160];
	snprintf(path, sizeof(path), "%s/nothing", f->dir);
	assert_int_equal(queue_client_connect(&qc, path, TIMEOUT_MS), QUEUE_IO_ERROR);
	assert_non_null(strstr(qc.err, "cannot connect"));
	assert_false(queue_client_connected(&qc));
	/* not connected: every call says so */
	char id[QUEUE_ID_LEN + 1];
	assert_int_equal(queue_client_begin(&qc, &env2, id, sizeof(id)), QUEUE_IO_ERROR);
	assert_int_equal(queue_client_admin(&qc, QUEUE_ADMIN_FLUSH, NULL, NULL), QUEUE_IO_ERROR);
	char lng[200];
	memset(lng, 'd', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	assert_int_equal(queue_client_connect_pickup(&qc, lng, TIMEOUT_MS), QUEUE_IO_ERROR);
	assert_non_null(strstr(qc.err, "too long"));

	snprintf(path, sizeof(path), "%s/fake", f->dir);
	const char *v2[] = {"VERSION\tQUEUE\t2\t0\n"};
	pid_t p = fake_server(path, v2, 1);
	assert_int_equal(queue_client_connect(&qc, path, TIMEOUT_MS), QUEUE_PROTO_ERROR);
	assert_false(queue_client_connected(&qc));
	fake_done(path, p);

	const char *closes[] = {""};
	p = fake_server(path, closes, 1);
	assert_int_equal(queue_client_connect(&qc, path, TIMEOUT_MS), QUEUE_IO_ERROR);
	fake_done(path, p);
}

/* Connect to a fake that sends script after the handshake, then begin. */
static enum queue_result begin_against(struct fixture *f, const char *after_data,
                                       struct queue_client *qc, int timeout_ms)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/fake", f->dir);
	/* VERSION; then MAIL, RCPT, RCPT, DATA */
	const char *script[] = {"VERSION\tQUEUE\t1\t0\n", NULL, NULL, NULL, after_data};
	pid_t p = fake_server(path, script, 5);
	queue_client_init(qc);
	assert_int_equal(queue_client_connect(qc, path, timeout_ms), QUEUE_OK);
	char id[QUEUE_ID_LEN + 1];
	enum queue_result r = queue_client_begin(qc, &env2, id, sizeof(id));
	queue_client_close(qc);
	fake_done(path, p);
	return r;
}

static void test_answers_that_are_no_answers(void **state)
{
	struct fixture *f = *state;
	struct queue_client qc;
	/* the form smtpd's old client wanted, which the server never sends */
	assert_int_equal(begin_against(f, "FAIL\tperm\t5.3.4\tmessage too big\n", &qc, TIMEOUT_MS),
	                 QUEUE_PROTO_ERROR);
	assert_int_equal(begin_against(f, "OK\n", &qc, TIMEOUT_MS), QUEUE_PROTO_ERROR);
	assert_non_null(strstr(qc.err, "queue id"));
	assert_int_equal(begin_against(f, "OK\tnot-an-id\n", &qc, TIMEOUT_MS), QUEUE_PROTO_ERROR);
	assert_int_equal(begin_against(f, "LIST\tx\n", &qc, TIMEOUT_MS), QUEUE_PROTO_ERROR);
	assert_int_equal(begin_against(f, "HELLO\n", &qc, TIMEOUT_MS), QUEUE_PROTO_ERROR);
	assert_int_equal(begin_against(f, "OK\tbad\\escape\n", &qc, TIMEOUT_MS), QUEUE_PROTO_ERROR);
	assert_int_equal(begin_against(f, "", &qc, TIMEOUT_MS), QUEUE_IO_ERROR);
	/* a FAIL's text is made safe for an SMTP reply */
	assert_int_equal(begin_against(f, "FAIL\tperm\t5.7.1 no\\r\\n250 ok\n", &qc, TIMEOUT_MS),
	                 QUEUE_PERMFAIL);
	assert_string_equal(qc.status, "5.7.1");
	assert_string_equal(qc.text, "no??250 ok");
	/* a server that never answers: bounded by the timeout */
	assert_int_equal(begin_against(f, NULL, &qc, 300), QUEUE_IO_ERROR);
	assert_non_null(strstr(qc.err, "timed out"));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_submit_two_messages_on_one_connection, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_null_sender_and_empty_body_on_pickup, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_abort_keeps_connection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_flush_hold_release_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_admin_refused_on_queue_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_of_committed_and_unknown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_over_one_line_is_an_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_big_is_permfail_with_code, setup_small,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_bad_address_is_permfail_at_begin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tempfail_at_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tempfail_at_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connect_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_answers_that_are_no_answers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
