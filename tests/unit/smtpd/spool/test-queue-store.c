/* test-queue-store.c: the spool store (smtpd/spool/queue-store.c, queue-list.c) on
 * real files: write/read back, abort, move, delete, listing, recipient state
 * updates surviving a crash, start-up recovery of every kind of leftover,
 * writers killed with SIGKILL at random moments (every acknowledged message
 * survives whole, nothing partial reaches active/), and two processes
 * writing 200 messages each. Runs in /dev/shm when present (fsync is free
 * there; renames behave the same), else TMPDIR or /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "queue-store.h"
#include "test-rmtree.h"

struct fx {
	char dir[128];
	struct queue_store qs;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	const char *e;
	snprintf(f->dir, sizeof(f->dir), "%s/loft-queue-XXXXXX", base != NULL ? base : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(queue_store_open(&f->qs, f->dir, &e), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	queue_store_close(&f->qs);
	test_rmtree(f->dir);
	free(f);
	return 0;
}

/* Body of n bytes, derived from n alone so any reader can check it. */
static char *make_body(size_t n)
{
	char *b = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		b[i] = (char)((i * 131 + n) & 0xff);
	if (n > 5)
		memcpy(b + n / 2, "\r\n.\r\n", 5);
	return b;
}

/* Write a message with two recipients whose sender names the body size;
 * the body goes in pieces of awkward sizes. Returns 0 and the id. */
static int put_msg(struct queue_store *qs, size_t blen, char id_r[QUEUE_ID_LEN + 1])
{
	char sender[64];
	struct queue_rcpt r[2] = {{.addr = "bob@example.org"}, {.addr = "carol@example.net"}};
	struct queue_msg m = {.sender = sender, .rcpts = r, .nrcpt = 2, .helo = "client"};
	struct queue_writer w;
	const char *e;
	char *body = make_body(blen);
	snprintf(sender, sizeof(sender), "len%zu@example.org", blen);
	int rc = queue_writer_begin(qs, &m, &w, &e);
	for (size_t off = 0; rc == 0 && off < blen;) {
		size_t n = blen - off < 7777 ? blen - off : 7777;
		rc = queue_writer_body(&w, body + off, n, &e);
		off += n;
	}
	if (rc == 0)
		rc = queue_writer_commit(&w, &e);
	else
		queue_writer_abort(&w);
	free(body);
	memcpy(id_r, m.id, QUEUE_ID_LEN + 1);
	return rc;
}

/* Load id and check it is whole: the body matches the size in the sender. */
static void check_msg(struct queue_store *qs, const char *id)
{
	struct queue_msg m;
	const char *e = NULL;
	size_t blen, pos, n, got = 0;
	const char *c;
	enum queue_dir d;
	if (queue_store_load(qs, id, &m, &d, &e) < 0)
		fail_msg("load %s: %s", id, e);
	if (queue_store_load_body(qs, &m, d, &e) < 0)
		fail_msg("load body %s: %s", id, e);
	assert_int_equal(sscanf(m.sender, "len%zu@", &blen), 1);
	assert_int_equal(m.body_len, blen);
	assert_int_equal(m.nrcpt, 2);
	char *want = make_body(blen);
	pos = m.body_off;
	while (queue_body_next(m.raw, m.file_len, &pos, &c, &n)) {
		assert_memory_equal(c, want + got, n);
		got += n;
	}
	assert_int_equal(got, blen);
	free(want);
	queue_msg_free(&m);
}

static size_t count_dir(struct fx *f, const char *sub)
{
	size_t n = 0;
	char path[256];
	snprintf(path, sizeof(path), "%s/queue/%s", f->dir, sub);
	DIR *d = opendir(path);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_write_read(void **state)
{
	struct fx *f = *state;
	static const size_t sizes[] = {0,
	                               1,
	                               QUEUE_BODY_CHUNK - 1,
	                               QUEUE_BODY_CHUNK,
	                               QUEUE_BODY_CHUNK + 1,
	                               3 * QUEUE_BODY_CHUNK + 17};
	char ids[6][QUEUE_ID_LEN + 1];
	enum queue_dir d;
	struct stat st;
	char path[256];
	for (int i = 0; i < 6; i++) {
		assert_int_equal(put_msg(&f->qs, sizes[i], ids[i]), 0);
		check_msg(&f->qs, ids[i]);
		assert_int_equal(queue_store_find(&f->qs, ids[i], &d), 0);
		assert_int_equal(d, QUEUE_DIR_ACTIVE);
	}
	snprintf(path, sizeof(path), "%s/queue/active/%s", f->dir, ids[0]);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_dir(f, "incoming"), 0);
	char **list;
	size_t n;
	const char *e;
	assert_int_equal(queue_store_ids(&f->qs, QUEUE_DIR_ACTIVE, &list, &n, &e), 0);
	assert_int_equal(n, 6);
	for (int i = 0; i < 6; i++)
		assert_string_equal(list[i], ids[i]); /* ids sort in arrival order */
	queue_ids_free(list, n);
	/* opening again finds the same spool */
	struct queue_store qs2;
	assert_int_equal(queue_store_open(&qs2, f->dir, &e), 0);
	check_msg(&qs2, ids[5]);
	queue_store_close(&qs2);
	assert_int_equal(queue_store_find(&f->qs, "../active/x", &d), -1);
}

static void test_abort(void **state)
{
	struct fx *f = *state;
	struct queue_rcpt r = {.addr = "bob@example.org"};
	struct queue_msg m = {.sender = "", .rcpts = &r, .nrcpt = 1};
	struct queue_writer w;
	const char *e;
	assert_int_equal(queue_writer_begin(&f->qs, &m, &w, &e), 0);
	assert_int_equal(count_dir(f, "incoming"), 1);
	assert_int_equal(queue_writer_body(&w, "hello\r\n", 7, &e), 0);
	queue_writer_abort(&w);
	assert_int_equal(count_dir(f, "incoming"), 0);
	assert_int_equal(count_dir(f, "active"), 0);
	/* an envelope the encoder refuses leaves nothing behind */
	m.helo = "evil\r\nRCPT TO:<x>";
	assert_int_equal(queue_writer_begin(&f->qs, &m, &w, &e), -1);
	assert_non_null(strstr(e, "CR, LF or NUL"));
	assert_int_equal(count_dir(f, "incoming"), 0);
}

static void test_move_state_delete_list(void **state)
{
	struct fx *f = *state;
	char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1];
	struct queue_msg m;
	enum queue_dir d;
	const char *e;
	struct buf out;
	assert_int_equal(put_msg(&f->qs, 10, a), 0);
	assert_int_equal(put_msg(&f->qs, 20, b), 0);
	assert_int_equal(queue_store_move(&f->qs, b, QUEUE_DIR_ACTIVE, QUEUE_DIR_DEFERRED, &e), 0);
	assert_int_equal(queue_store_move(&f->qs, b, QUEUE_DIR_ACTIVE, QUEUE_DIR_HOLD, &e), -1);
	assert_int_equal(queue_store_load(&f->qs, b, &m, &d, &e), 0);
	assert_int_equal(d, QUEUE_DIR_DEFERRED);
	m.rcpts[0].state = QUEUE_RCPT_DELIVERED;
	m.rcpts[0].attempts = 1;
	m.rcpts[1].state = QUEUE_RCPT_DEFERRED;
	m.rcpts[1].attempts = 2;
	m.rcpts[1].error = strdup("451 4.7.1 greylisted");
	assert_int_equal(queue_store_state_save(&f->qs, &m, &e), 0);
	queue_msg_free(&m);
	buf_init(&out, 0);
	assert_int_equal(queue_store_list(&f->qs, &out, &e), 0);
	assert_non_null(strstr(out.data, a));
	assert_non_null(strstr(out.data, "<len10@example.org>"));
	assert_non_null(strstr(out.data, "deferred <len20@example.org>"));
	assert_non_null(strstr(out.data, "<bob@example.org> delivered attempts=1"));
	assert_non_null(
	    strstr(out.data, "<carol@example.net> deferred attempts=2 (451 4.7.1 greylisted)"));
	assert_non_null(strstr(out.data, "<carol@example.net> pending attempts=0"));
	assert_non_null(strstr(out.data, "-- 2 messages in the queue"));
	assert_int_equal(queue_store_delete(&f->qs, a, &e), 0);
	assert_int_equal(queue_store_delete(&f->qs, b, &e), 0);
	assert_int_equal(queue_store_find(&f->qs, b, &d), -1);
	assert_int_equal(queue_store_delete(&f->qs, b, &e), -1);
	assert_int_equal(count_dir(f, "state"), 0);
	buf_reset(&out);
	assert_int_equal(queue_store_list(&f->qs, &out, &e), 0);
	assert_string_equal(out.data, "Mail queue is empty\n");
	buf_free(&out);
}

/* A recorded delivery survives the process dying right after the save, and
 * a state save cut short by a crash leaves the previous state in force. */
static void test_state_survives_crash(void **state)
{
	struct fx *f = *state;
	char id[QUEUE_ID_LEN + 1], path[256];
	struct queue_msg m;
	const char *e;
	int status;
	assert_int_equal(put_msg(&f->qs, 100, id), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (queue_store_load(&f->qs, id, &m, NULL, &e) < 0)
			_exit(1);
		m.rcpts[0].state = QUEUE_RCPT_DELIVERED;
		m.rcpts[0].attempts = 1;
		m.rcpts[0].last_attempt = 1234;
		if (queue_store_state_save(&f->qs, &m, &e) < 0)
			_exit(2);
		raise(SIGKILL);
		_exit(3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(queue_store_load(&f->qs, id, &m, NULL, &e), 0);
	assert_int_equal(m.rcpts[0].state, QUEUE_RCPT_DELIVERED);
	assert_int_equal(m.rcpts[0].last_attempt, 1234);
	assert_int_equal(m.rcpts[1].state, QUEUE_RCPT_PENDING);
	queue_msg_free(&m);
	/* the next save died halfway: only its temporary file exists */
	snprintf(path, sizeof(path), "%s/queue/state/%s.tmp", f->dir, id);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("\x01\0\0", fp);
	fclose(fp);
	assert_int_equal(queue_store_load(&f->qs, id, &m, NULL, &e), 0);
	assert_int_equal(m.rcpts[0].state, QUEUE_RCPT_DELIVERED);
	queue_msg_free(&m);
	struct queue_recover_stats st;
	assert_int_equal(queue_store_recover(&f->qs, &st, &e), 0);
	assert_int_equal(st.state_removed, 1);
	assert_int_equal(st.ok, 1);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(queue_store_load(&f->qs, id, &m, NULL, &e), 0);
	assert_int_equal(m.rcpts[0].state, QUEUE_RCPT_DELIVERED);
	queue_msg_free(&m);
}

static void write_file(struct fx *f, const char *sub, const char *name, const char *p, size_t n)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/queue/%s/%s", f->dir, sub, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	fclose(fp);
}

static void test_recover(void **state)
{
	struct fx *f = *state;
	char good[QUEUE_ID_LEN + 1], path[256];
	const char *e;
	char *p;
	size_t n;
	char bad_state[QUEUE_ID_LEN + 1];
	assert_int_equal(put_msg(&f->qs, 5000, good), 0);
	assert_int_equal(put_msg(&f->qs, 50, bad_state), 0);
	snprintf(path, sizeof(path), "%s/queue/active/%s", f->dir, good);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	p = malloc(10000);
	n = fread(p, 1, 10000, fp);
	fclose(fp);
	write_file(f, "incoming", "000000000000000000000001", p, n / 2);
	write_file(f, "active", "000000000000000000000002", p, n - 1); /* truncated */
	write_file(f, "active", "junk", "x", 1);
	write_file(f, "hold", "000000000000000000000003", p, n);    /* names another id */
	write_file(f, "state", "000000000000000000000004", "x", 1); /* orphan */
	write_file(f, "state", "000000000000000000000005.tmp", "x", 1);
	write_file(f, "state", bad_state, "garbage", 7); /* state that does not decode */
	free(p);
	struct queue_recover_stats st;
	assert_int_equal(queue_store_recover(&f->qs, &st, &e), 0);
	assert_int_equal(st.incoming_removed, 1);
	assert_int_equal(st.corrupt, 4);
	assert_int_equal(st.state_removed, 3);
	assert_int_equal(st.ok, 1);
	assert_int_equal(count_dir(f, "incoming"), 0);
	assert_int_equal(count_dir(f, "active"), 1);
	assert_int_equal(count_dir(f, "hold"), 0);
	assert_int_equal(count_dir(f, "corrupt"), 4);
	assert_int_equal(count_dir(f, "state"), 0);
	check_msg(&f->qs, good);
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(queue_store_list(&f->qs, &out, &e), 0);
	assert_non_null(strstr(out.data, "000000000000000000000002 "));
	assert_non_null(strstr(out.data, " corrupt\n"));
	buf_free(&out);
	/* a second run finds nothing more to do */
	assert_int_equal(queue_store_recover(&f->qs, &st, &e), 0);
	assert_int_equal(st.corrupt + st.incoming_removed + st.state_removed, 0);
}

/* Child: write messages of random sizes forever, reporting each id on fd
 * only once commit has returned (that is when smtpd would answer 250). */
static void writer_loop(const char *dir, int fd, unsigned seed, int count)
{
	struct queue_store qs;
	const char *e;
	char id[QUEUE_ID_LEN + 2];
	if (queue_store_open(&qs, dir, &e) < 0)
		_exit(1);
	for (int i = 0; count < 0 || i < count; i++) {
		size_t size = (size_t)rand_r(&seed) % (3 * QUEUE_BODY_CHUNK);
		if (put_msg(&qs, size, id) < 0)
			_exit(2);
		id[QUEUE_ID_LEN] = '\n';
		if (write(fd, id, QUEUE_ID_LEN + 1) != QUEUE_ID_LEN + 1)
			_exit(3);
	}
	queue_store_close(&qs);
	_exit(0);
}

/* Read the ids a writer reported; returns how many (ids in *all). */
static size_t read_ids(int fd, char ***all, size_t have)
{
	char line[QUEUE_ID_LEN + 1];
	FILE *fp = fdopen(fd, "r");
	assert_non_null(fp);
	while (fread(line, 1, sizeof(line), fp) == sizeof(line)) {
		assert_int_equal(line[QUEUE_ID_LEN], '\n');
		*all = realloc(*all, (have + 1) * sizeof(**all));
		(*all)[have++] = strndup(line, QUEUE_ID_LEN);
	}
	fclose(fp);
	return have;
}

static void test_kill_writers(void **state)
{
	struct fx *f = *state;
	size_t acked_total = 0, kills_mid_write = 0;
	const char *e;
	for (int round = 0; round < 12; round++) {
		int pfd[2], status;
		char **ids = NULL;
		assert_int_equal(pipe(pfd), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			writer_loop(f->dir, pfd[1], (unsigned)round * 7919u + 1, -1);
		}
		close(pfd[1]);
		struct timespec ts = {0, (5 + (round * 13) % 40) * 1000000L};
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		size_t n = read_ids(pfd[0], &ids, 0);
		kills_mid_write += count_dir(f, "incoming");
		struct queue_recover_stats st;
		assert_int_equal(queue_store_recover(&f->qs, &st, &e), 0);
		/* nothing partial ever reached active/ */
		assert_int_equal(st.corrupt, 0);
		assert_int_equal(count_dir(f, "incoming"), 0);
		/* every acknowledged message is there, whole */
		for (size_t i = 0; i < n; i++) {
			check_msg(&f->qs, ids[i]);
			free(ids[i]);
		}
		free(ids);
		acked_total += n;
		/* and anything else in active/ (committed, not yet acknowledged)
		 * is whole too */
		char **all;
		size_t na;
		assert_int_equal(queue_store_ids(&f->qs, QUEUE_DIR_ACTIVE, &all, &na, &e), 0);
		assert_true(na >= acked_total);
		assert_true(na <= acked_total + (size_t)round + 1);
		for (size_t i = 0; i < na; i++)
			check_msg(&f->qs, all[i]);
		queue_ids_free(all, na);
	}
	print_message("acknowledged %zu messages; %zu kills left a partial incoming file\n",
	              acked_total, kills_mid_write);
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_concurrent_writers(void **state)
{
	struct fx *f = *state;
	enum { PER = 200 };
	int pfd[2][2], status;
	pid_t pid[2];
	char **ids = NULL;
	size_t n = 0;
	for (int k = 0; k < 2; k++) {
		assert_int_equal(pipe(pfd[k]), 0);
		pid[k] = fork();
		assert_true(pid[k] >= 0);
		if (pid[k] == 0) {
			close(pfd[k][0]);
			writer_loop(f->dir, pfd[k][1], 100u + (unsigned)k, PER);
		}
		close(pfd[k][1]);
	}
	for (int k = 0; k < 2; k++) {
		n = read_ids(pfd[k][0], &ids, n);
		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(n, 2 * PER);
	qsort(ids, n, sizeof(*ids), cmp_id);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(ids[i - 1], ids[i]) < 0); /* unique */
	assert_int_equal(count_dir(f, "active"), 2 * PER);
	assert_int_equal(count_dir(f, "incoming"), 0);
	for (size_t i = 0; i < n; i++) {
		check_msg(&f->qs, ids[i]);
		free(ids[i]);
	}
	free(ids);
}

/* A large message's envelope loads without its body (no m.raw); damage in
 * the body goes unnoticed by the envelope load and recovery, and is caught
 * by queue_store_load_body before any of it could be delivered. A small
 * message is read whole in the first read, so its body comes along. */
static void test_envelope_then_body(void **state)
{
	struct fx *f = *state;
	char big[QUEUE_ID_LEN + 1], small[QUEUE_ID_LEN + 1], path[256];
	struct queue_msg m;
	struct queue_recover_stats st;
	enum queue_dir d;
	const char *e;
	assert_int_equal(put_msg(&f->qs, 200000, big), 0);
	assert_int_equal(put_msg(&f->qs, 100, small), 0);
	assert_int_equal(queue_store_load(&f->qs, small, &m, &d, &e), 0);
	assert_non_null(m.raw);
	assert_int_equal(m.body_len, 100);
	queue_msg_free(&m);
	assert_int_equal(queue_store_load(&f->qs, big, &m, &d, &e), 0);
	assert_null(m.raw);
	assert_int_equal(m.nrcpt, 2);
	assert_true(m.file_len > 200000);
	assert_int_equal(queue_store_load_body(&f->qs, &m, d, &e), 0);
	assert_int_equal(m.body_len, 200000);
	queue_msg_drop_body(&m);
	assert_null(m.raw);
	/* flip one byte deep in the body on disk */
	snprintf(path, sizeof(path), "%s/queue/active/%s", f->dir, big);
	int fd = open(path, O_RDWR);
	unsigned char c;
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, 150000), 1);
	c ^= 0x10;
	assert_int_equal(pwrite(fd, &c, 1, 150000), 1);
	close(fd);
	assert_int_equal(queue_store_load_body(&f->qs, &m, d, &e), -1);
	assert_non_null(strstr(e, "checksum mismatch"));
	assert_null(m.raw);
	queue_msg_free(&m);
	assert_int_equal(queue_store_recover(&f->qs, &st, &e), 0);
	assert_int_equal(st.ok, 2);
	assert_int_equal(queue_store_load(&f->qs, big, &m, &d, &e), 0);
	assert_int_equal(queue_store_load_body(&f->qs, &m, d, &e), -1);
	queue_msg_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_move_state_delete_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_survives_crash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kill_writers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_envelope_then_body, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
