/* test-lmtp-session.c: the LMTP session (mailstore/lmtp/lmtp-session.c) served in a
 * forked child over a socketpair, with a fake recipient lookup and real
 * Maildir delivery into a temp dir (X-LOFT-QID duplicate suppression too);
 * DATA spooled to an unnamed file in a spool directory, and the 451s when
 * that directory is missing or a spool write fails midway; plus the pure
 * DATA decoder and lmtp_spool_prepare. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "lmtp.h"
#include "log.h"

struct fixture {
	char dir[64];
	int fd; /* client end */
	pid_t pid;
	int timeout_ms;  /* 0: 5 s */
	char spool[128]; /* spool_dir; "" = memfd */
	long fsize;      /* > 0: RLIMIT_FSIZE of the session (a full disk) */
	char rbuf[65536];
	size_t rlen;
};

static enum lmtp_lookup_result fake_lookup(void *ctx, const char *addr, const char *local,
                                           struct lmtp_user *u)
{
	struct fixture *f = ctx;
	(void)addr;
	if (strcmp(local, "tempfail") == 0)
		return LMTP_LOOKUP_TEMPFAIL;
	if (strcmp(local, "daemon") == 0)
		return LMTP_LOOKUP_REFUSED; /* a system account */
	if (strcmp(local, "alice") != 0 && strcmp(local, "bob") != 0)
		return LMTP_LOOKUP_NOTFOUND;
	char path[256];
	snprintf(path, sizeof(path), "%s/%s/Maildir", f->dir, local);
	u->user = strdup(local);
	u->home = strdup(f->dir);
	u->maildir = strdup(path);
	u->uid = getuid();
	u->gid = getgid();
	return LMTP_LOOKUP_OK;
}

static void start_max(struct fixture *f, uint64_t limit, unsigned max_rcpts)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		close(sv[0]);
		if (f->fsize > 0) {
			struct rlimit rl = {.rlim_cur = (rlim_t)f->fsize,
			                    .rlim_max = (rlim_t)f->fsize};
			signal(SIGXFSZ, SIG_IGN); /* a write past it fails with EFBIG */
			assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
		}
		struct loft_log lg;
		log_open_master(&lg, "test", "-", "mail", LOG_DEBUG);
		struct lmtp_session_opts o = {
		    .log = &lg,
		    .hostname = "test.example",
		    .size_limit = limit,
		    .max_recipients = max_rcpts,
		    .timeout_ms = f->timeout_ms ? f->timeout_ms : 5000,
		    .drop_privs = false,
		    .lookup = fake_lookup,
		    .lookup_ctx = f,
		    .session_id = "t",
		    .spool_dir = f->spool[0] != '\0' ? f->spool : NULL,
		};
		_exit(lmtp_session_run(sv[1], &o) == 0 ? 0 : 1);
	}
	close(sv[1]);
	f->fd = sv[0];
	f->rlen = 0;
}

static void start(struct fixture *f, uint64_t limit)
{
	start_max(f, limit, 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/loft-lmtp-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	if (f->fd >= 0)
		close(f->fd);
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void send_str(struct fixture *f, const char *s, size_t len)
{
	assert_int_equal(write(f->fd, s, len), (ssize_t)len);
}
#define SEND(f, s) send_str((f), (s), sizeof(s) - 1)

/* Read one complete (possibly multi-line) reply; returns its last line. */
static const char *reply(struct fixture *f)
{
	static char line[4096];
	for (;;) {
		char *nl = memchr(f->rbuf, '\n', f->rlen);
		if (nl != NULL) {
			size_t n = (size_t)(nl - f->rbuf) + 1;
			assert_true(n < sizeof(line));
			memcpy(line, f->rbuf, n);
			line[n] = '\0';
			memmove(f->rbuf, f->rbuf + n, f->rlen - n);
			f->rlen -= n;
			if (n >= 4 && line[3] == '-')
				continue;
			return line;
		}
		struct pollfd p = {.fd = f->fd, .events = POLLIN};
		assert_int_equal(poll(&p, 1, 5000), 1);
		ssize_t r = read(f->fd, f->rbuf + f->rlen, sizeof(f->rbuf) - f->rlen);
		assert_true(r > 0);
		f->rlen += (size_t)r;
	}
}

static void expect(struct fixture *f, const char *prefix)
{
	const char *l = reply(f);
	if (strncmp(l, prefix, strlen(prefix)) != 0)
		fail_msg("expected '%s', got '%s'", prefix, l);
}

/* The files in <user>/Maildir/<sub>; returns the count, the first's content. */
static int maildir_files(struct fixture *f, const char *user, const char *sub, char *content,
                         size_t cap)
{
	char path[512];
	int n = 0;
	snprintf(path, sizeof(path), "%s/%s/Maildir/%s", f->dir, user, sub);
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n++ == 0 && content != NULL) {
			char fp[1024];
			snprintf(fp, sizeof(fp), "%s/%s", path, e->d_name);
			int fd = open(fp, O_RDONLY);
			ssize_t r = read(fd, content, cap - 1);
			content[r > 0 ? r : 0] = '\0';
			close(fd);
		}
	}
	closedir(d);
	return n;
}

static void quit(struct fixture *f)
{
	SEND(f, "QUIT\r\n");
	expect(f, "221 2.0.0");
	int st;
	assert_int_equal(waitpid(f->pid, &st, 0), f->pid);
	f->pid = 0;
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_basic_delivery(void **state)
{
	struct fixture *f = *state;
	char msg[4096];
	start(f, 0);
	expect(f, "220 test.example LMTP");
	SEND(f, "MAIL FROM:<x@y.org>\r\n");
	expect(f, "503 5.5.1");
	SEND(f, "HELO x\r\n");
	expect(f, "500 5.5.1");
	SEND(f, "LHLO client\r\n");
	expect(f, "250 SMTPUTF8");
	SEND(f, "RCPT TO:<alice@x.org>\r\n");
	expect(f, "503 5.5.1");
	SEND(f, "DATA\r\n");
	expect(f, "503 5.5.1");
	SEND(f, "MAIL FROM:<sender@example.org>\r\n");
	expect(f, "250 2.1.0");
	SEND(f, "DATA\r\n");
	expect(f, "503 5.5.1 No valid recipients");
	SEND(f, "RCPT TO:<alice@x.org>\r\n");
	expect(f, "250 2.1.5 <alice@x.org>");
	SEND(f, "RCPT TO:<nobody@x.org>\r\n");
	expect(f, "550 5.1.1 <nobody@x.org>... User unknown");
	SEND(f, "RCPT TO:<tempfail@x.org>\r\n");
	expect(f, "451 4.3.0");
	SEND(f, "RCPT TO:<daemon@x.org>\r\n");
	expect(f, "550 5.7.1 <daemon@x.org>... Delivery to this user is not permitted");
	SEND(f, "RCPT TO:<bob>\r\n");
	expect(f, "250 2.1.5 <bob>");
	SEND(f, "DATA\r\n");
	expect(f, "354");
	SEND(f, "Subject: hi\r\n\r\n..dot\r\nbare\nlf\r\n\n.\r\nend\r\n.\r\n");
	expect(f, "250 2.0.0 <alice@x.org> Saved");
	expect(f, "250 2.0.0 <bob> Saved");
	quit(f);
	assert_int_equal(maildir_files(f, "alice", "new", msg, sizeof(msg)), 1);
	assert_string_equal(msg, "Return-Path: <sender@example.org>\nDelivered-To: <alice@x.org>\n"
	                         "Subject: hi\n\n.dot\nbare\nlf\n\n.\nend\n");
	assert_int_equal(maildir_files(f, "bob", "new", msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "Delivered-To: <bob>\n"));
	assert_int_equal(maildir_files(f, "alice", "tmp", NULL, 0), 0);
}

static void test_pipelining_and_smuggling(void **state)
{
	struct fixture *f = *state;
	char msg[4096];
	start(f, 0);
	expect(f, "220");
	/* Everything in one write, including <LF>.<CR><LF> which must not end DATA. */
	SEND(f, "LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<alice@x.org>\r\nDATA\r\n"
	        "A: b\r\n\r\nline\n.\r\nMAIL FROM:<evil@x.org>\r\n.\r\nNOOP\r\nQUIT\r\n");
	expect(f, "250 SMTPUTF8");
	expect(f, "250 2.1.0");
	expect(f, "250 2.1.5");
	expect(f, "354");
	expect(f, "250 2.0.0 <alice@x.org> Saved");
	expect(f, "250 2.0.0 Ok");
	expect(f, "221");
	assert_int_equal(maildir_files(f, "alice", "new", msg, sizeof(msg)), 1);
	assert_string_equal(msg, "Return-Path: <>\nDelivered-To: <alice@x.org>\nA: b\n\nline\n.\n"
	                         "MAIL FROM:<evil@x.org>\n");
}

static void test_size_limit(void **state)
{
	struct fixture *f = *state;
	start(f, 100);
	expect(f, "220");
	SEND(f, "LHLO c\r\n");
	expect(f, "250 SMTPUTF8");
	SEND(f, "MAIL FROM:<a@b.org> SIZE=101\r\n");
	expect(f, "552 5.3.4");
	SEND(f, "MAIL FROM:<a@b.org> SIZE=50\r\n");
	expect(f, "250");
	SEND(f, "RCPT TO:<alice@x.org>\r\nRCPT TO:<bob@x.org>\r\n");
	expect(f, "250");
	expect(f, "250");
	SEND(f, "DATA\r\n");
	expect(f, "354");
	for (int i = 0; i < 10; i++)
		SEND(f, "0123456789012345678901234567890123456789\r\n");
	SEND(f, ".\r\n");
	expect(f, "552 5.3.4 <alice@x.org>");
	expect(f, "552 5.3.4 <bob@x.org>");
	/* the session goes on after the refusal */
	SEND(f, "NOOP\r\n");
	expect(f, "250");
	quit(f);
	assert_int_equal(maildir_files(f, "alice", "new", NULL, 0), 0);
	assert_int_equal(maildir_files(f, "alice", "tmp", NULL, 0), 0);
}

static void test_bad_input(void **state)
{
	struct fixture *f = *state;
	char big[3000];
	start(f, 0);
	expect(f, "220");
	memset(big, 'x', sizeof(big));
	send_str(f, big, sizeof(big));
	SEND(f, "\r\nNOOP\r\n");
	expect(f, "500 5.5.2 Line too long");
	expect(f, "250");
	SEND(f, "NO\0OP\r\n");
	expect(f, "500 5.5.2");
	SEND(f, "FOO\r\n");
	expect(f, "502 5.5.2");
	SEND(f, "LHLO\r\n");
	expect(f, "501 5.5.4");
	SEND(f, "LHLO c\r\nMAIL FROM:<;sleep 66;@example.org>\r\n");
	expect(f, "250 SMTPUTF8");
	expect(f, "501 5.1.7");
	SEND(f, "MAIL FROM:<a@b.org> FOO=1\r\n");
	expect(f, "555 5.5.4");
	SEND(f, "MAIL FROM:<a@b.org>\r\nRCPT TO:<;sleep 66;@example.org>\r\n");
	expect(f, "250");
	expect(f, "501 5.1.3");
	SEND(f, "VRFY alice\r\nHELP\r\nRSET\r\nRCPT TO:<alice@x.org>\r\n");
	expect(f, "252");
	expect(f, "214");
	expect(f, "250");
	expect(f, "503 5.5.1");
	quit(f);
}

static void test_many_recipients(void **state)
{
	struct fixture *f = *state;
	start_max(f, 0, 20);
	expect(f, "220");
	SEND(f, "LHLO c\r\nMAIL FROM:<a@b.org>\r\n");
	expect(f, "250 SMTPUTF8");
	expect(f, "250");
	for (int i = 0; i < 20; i++) {
		SEND(f, "RCPT TO:<alice@x.org>\r\n");
		expect(f, "250 2.1.5");
	}
	SEND(f, "RCPT TO:<bob@x.org>\r\n");
	expect(f, "452 4.5.3");
	SEND(f, "DATA\r\nhi\r\n.\r\n");
	expect(f, "354");
	for (int i = 0; i < 20; i++)
		expect(f, "250 2.0.0 <alice@x.org> Saved");
	quit(f);
	assert_int_equal(maildir_files(f, "alice", "new", NULL, 0), 20);
	assert_int_equal(maildir_files(f, "bob", "new", NULL, 0), 0);
}

static void test_idle_timeout(void **state)
{
	struct fixture *f = *state;
	f->timeout_ms = 200;
	start(f, 0);
	expect(f, "220");
	SEND(f, "LHLO c\r\n");
	expect(f, "250 SMTPUTF8");
	expect(f, "421 4.4.2");
	int st;
	assert_int_equal(waitpid(f->pid, &st, 0), f->pid);
	f->pid = 0;
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Read one reply; every line of it (continuations too) into all. */
static void reply_all(struct fixture *f, char *all, size_t cap)
{
	size_t n = 0;
	for (;;) {
		char *nl = memchr(f->rbuf, '\n', f->rlen);
		if (nl == NULL) {
			struct pollfd p = {.fd = f->fd, .events = POLLIN};
			assert_int_equal(poll(&p, 1, 5000), 1);
			ssize_t r = read(f->fd, f->rbuf + f->rlen, sizeof(f->rbuf) - f->rlen);
			assert_true(r > 0);
			f->rlen += (size_t)r;
			continue;
		}
		size_t len = (size_t)(nl - f->rbuf) + 1;
		assert_true(n + len < cap);
		memcpy(all + n, f->rbuf, len);
		n += len;
		all[n] = '\0';
		bool last = len < 4 || f->rbuf[3] != '-';
		memmove(f->rbuf, f->rbuf + len, f->rlen - len);
		f->rlen -= len;
		if (last)
			return;
	}
}

#define QID  "05f1a2b3c4d5e60001abcdef"
#define BODY "Subject: once\r\n\r\nbody\r\n.\r\n"

/* The name of the only file in <user>/Maildir/new holds the queue id. */
static void assert_named_by_qid(struct fixture *f, const char *user)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s/Maildir/new", f->dir, user);
	DIR *d = opendir(path);
	assert_non_null(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		/* 0x05f1a2b3c4d5e6 us: the arrival time the queue id encodes */
		assert_non_null(strstr(e->d_name, "1673055986.M570726L" QID "H"));
	}
	closedir(d);
	assert_int_equal(n, 1);
}

static void test_queue_id_dedup(void **state)
{
	struct fixture *f = *state;
	char all[4096];
	start(f, 0);
	expect(f, "220");
	SEND(f, "LHLO c\r\n");
	reply_all(f, all, sizeof(all));
	assert_non_null(strstr(all, "250-X-LOFT-QID\r\n"));
	assert_non_null(strstr(all, "250 SMTPUTF8\r\n"));

	/* the first delivery, then the queue's retry after a crash */
	for (int round = 0; round < 2; round++) {
		SEND(f, "MAIL FROM:<s@x.org> X-LOFT-QID=" QID "\r\nRCPT TO:<alice@x.org>\r\n"
		        "RCPT TO:<bob@x.org>\r\nDATA\r\n" BODY);
		expect(f, "250 2.1.0");
		expect(f, "250 2.1.5");
		expect(f, "250 2.1.5");
		expect(f, "354");
		expect(f, round == 0 ? "250 2.0.0 <alice@x.org> Saved"
		                     : "250 2.0.0 <alice@x.org> Already delivered");
		expect(f, round == 0 ? "250 2.0.0 <bob@x.org> Saved"
		                     : "250 2.0.0 <bob@x.org> Already delivered");
	}
	assert_named_by_qid(f, "alice");
	assert_named_by_qid(f, "bob");
	assert_int_equal(maildir_files(f, "alice", "tmp", NULL, 0), 0);

	/* a retry for one recipient only */
	SEND(f, "MAIL FROM:<s@x.org> x-loft-qid=" QID "\r\nRCPT TO:<bob@x.org>\r\nDATA\r\n" BODY);
	expect(f, "250 2.1.0");
	expect(f, "250 2.1.5");
	expect(f, "354");
	expect(f, "250 2.0.0 <bob@x.org> Already delivered");
	assert_int_equal(maildir_files(f, "bob", "new", NULL, 0), 1);

	/* Another client knowing the id cannot suppress anything but the very
	 * same message: another sender, recipient address or content is mail
	 * of its own. */
	SEND(f, "MAIL FROM:<other@x.org> X-LOFT-QID=" QID "\r\nRCPT TO:<alice@x.org>\r\n"
	        "DATA\r\n" BODY);
	expect(f, "250 2.1.0");
	expect(f, "250 2.1.5");
	expect(f, "354");
	expect(f, "250 2.0.0 <alice@x.org> Saved");
	SEND(f, "MAIL FROM:<s@x.org> X-LOFT-QID=" QID "\r\nRCPT TO:<alice>\r\nDATA\r\n" BODY);
	expect(f, "250 2.1.0");
	expect(f, "250 2.1.5");
	expect(f, "354");
	expect(f, "250 2.0.0 <alice> Saved");
	SEND(f, "MAIL FROM:<s@x.org> X-LOFT-QID=" QID "\r\nRCPT TO:<alice@x.org>\r\nDATA\r\n"
	        "Subject: twice\r\n\r\nbody\r\n.\r\n");
	expect(f, "250 2.1.0");
	expect(f, "250 2.1.5");
	expect(f, "354");
	expect(f, "250 2.0.0 <alice@x.org> Saved");
	assert_int_equal(maildir_files(f, "alice", "new", NULL, 0), 4);

	/* without an id (or after RSET dropped it) nothing is suppressed */
	SEND(f, "MAIL FROM:<s@x.org> X-LOFT-QID=" QID "\r\nRSET\r\n");
	expect(f, "250 2.1.0");
	expect(f, "250 2.0.0");
	for (int round = 0; round < 2; round++) {
		SEND(f, "MAIL FROM:<s@x.org>\r\nRCPT TO:<alice@x.org>\r\nDATA\r\n" BODY);
		expect(f, "250 2.1.0");
		expect(f, "250 2.1.5");
		expect(f, "354");
		expect(f, "250 2.0.0 <alice@x.org> Saved");
	}
	assert_int_equal(maildir_files(f, "alice", "new", NULL, 0), 6);

	/* a bad id refuses the MAIL; the session goes on */
	SEND(f, "MAIL FROM:<s@x.org> X-LOFT-QID=" QID "0\r\n");
	expect(f, "555 5.5.4 Bad X-LOFT-QID");
	SEND(f, "MAIL FROM:<s@x.org> X-LOFT-QID=../" QID "\r\n");
	expect(f, "555 5.5.4");
	SEND(f, "MAIL FROM:<s@x.org> X-LOFT-QID=" QID " X-LOFT-QID=" QID "\r\n");
	expect(f, "555 5.5.4");
	SEND(f, "MAIL FROM:<s@x.org> X-LOFT-QID=" QID " FOO=1\r\n");
	expect(f, "555 5.5.4 Unsupported parameter");
	SEND(f, "MAIL FROM:<s@x.org> SIZE=10 X-LOFT-QID=" QID " BODY=8BITMIME\r\n");
	expect(f, "250 2.1.0");
	quit(f);
}

/* The entries of dir (without . and ..), or -1 when it cannot be read. */
static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* One transaction for alice with body repeated reps times, up to the
 * replies to DATA's end. */
static void send_message(struct fixture *f, const char *line, int reps)
{
	expect(f, "220");
	SEND(f, "LHLO c\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<alice@x.org>\r\n");
	expect(f, "250 SMTPUTF8");
	expect(f, "250 2.1.0");
	expect(f, "250 2.1.5");
	SEND(f, "DATA\r\n");
	expect(f, "354");
	SEND(f, "Subject: big\r\n\r\n");
	for (int i = 0; i < reps; i++)
		send_str(f, line, strlen(line));
	SEND(f, ".\r\n");
}

static void test_spool_on_disk(void **state)
{
	struct fixture *f = *state;
	char err[256], msg[256];
	snprintf(f->spool, sizeof(f->spool), "%s/spool", f->dir);
	assert_int_equal(lmtp_spool_prepare(f->spool, err, sizeof(err)), 0);
	start(f, 0);
	/* 2 MB through the spool; the session never holds it in memory */
	static const char line[] =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n";
	send_message(f, line, 32768);
	expect(f, "250 2.0.0 <alice@x.org> Saved");
	quit(f);
	assert_int_equal(maildir_files(f, "alice", "new", msg, sizeof(msg)), 1);
	static const char head[] =
	    "Return-Path: <a@b.org>\nDelivered-To: <alice@x.org>\nSubject: big\n\n0123";
	assert_memory_equal(msg, head, sizeof(head) - 1);
	/* an unnamed file: nothing is left in the spool directory */
	assert_int_equal(dir_entries(f->spool), 0);
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/alice/Maildir/new", f->dir);
	DIR *d = opendir(path);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL && e->d_name[0] == '.')
		;
	assert_non_null(e);
	snprintf(path, sizeof(path), "%s/alice/Maildir/new/%s", f->dir, e->d_name);
	closedir(d);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 51 + 14 + 32768 * 63); /* CRLF stored as LF */
}

static void test_spool_dir_missing(void **state)
{
	struct fixture *f = *state;
	snprintf(f->spool, sizeof(f->spool), "%s/no-such-spool", f->dir);
	start(f, 0);
	expect(f, "220");
	SEND(f, "LHLO c\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<alice@x.org>\r\nDATA\r\n");
	expect(f, "250 SMTPUTF8");
	expect(f, "250 2.1.0");
	expect(f, "250 2.1.5");
	/* refused before 354: never spooled to memory instead */
	expect(f, "451 4.3.0 Cannot create spool file");
	quit(f);
	assert_int_equal(maildir_files(f, "alice", "new", NULL, 0), 0);
	assert_int_equal(maildir_files(f, "alice", "tmp", NULL, 0), 0);
}

static void test_spool_full(void **state)
{
	struct fixture *f = *state;
	char err[256];
	snprintf(f->spool, sizeof(f->spool), "%s/spool", f->dir);
	assert_int_equal(lmtp_spool_prepare(f->spool, err, sizeof(err)), 0);
	f->fsize = 256 * 1024; /* the spool's disk is full after 256 KB */
	start(f, 0);
	static const char line[] =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n";
	send_message(f, line, 16384); /* 1 MB */
	/* the whole message was read, none of it is stored */
	expect(f, "451 4.3.0 <alice@x.org> Spool write failed");
	SEND(f, "NOOP\r\n");
	expect(f, "250");
	quit(f);
	assert_int_equal(maildir_files(f, "alice", "new", NULL, 0), 0);
	assert_int_equal(maildir_files(f, "alice", "tmp", NULL, 0), 0);
	assert_int_equal(dir_entries(f->spool), 0);
}

static void test_spool_prepare(void **state)
{
	struct fixture *f = *state;
	char dir[128], link[128], err[256];
	struct stat st;
	snprintf(dir, sizeof(dir), "%s/sp", f->dir);
	assert_int_equal(lmtp_spool_prepare(dir, err, sizeof(err)), 0);
	assert_int_equal(lstat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	/* a group-readable one is made private again */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(lmtp_spool_prepare(dir, err, sizeof(err)), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* a symlink is refused, and so is a file */
	snprintf(link, sizeof(link), "%s/sp-link", f->dir);
	assert_int_equal(symlink(dir, link), 0);
	assert_int_equal(lmtp_spool_prepare(link, err, sizeof(err)), -1);
	snprintf(link, sizeof(link), "%s/sp-file", f->dir);
	int fd = open(link, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(lmtp_spool_prepare(link, err, sizeof(err)), -1);
	snprintf(link, sizeof(link), "%s/no/such/parent", f->dir);
	assert_int_equal(lmtp_spool_prepare(link, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mkdir"));
	/* a spool file is an unnamed file in the directory, readable back */
	fd = lmtp_spool_open(dir);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	char b[4] = {0};
	assert_int_equal(pread(fd, b, 3, 0), 3);
	assert_string_equal(b, "abc");
	assert_int_equal(dir_entries(dir), 0);
	close(fd);
	fd = lmtp_spool_open(NULL); /* loft-deliver's memfd */
	assert_true(fd >= 0);
	close(fd);
}

static void test_data_decoder(void **state)
{
	(void)state;
	struct lmtp_data d;
	struct buf out;
	buf_init(&out, 0);
	lmtp_data_init(&d, 0);
	const char in[] = "a\r\n..b\r\n.c\r\nx\ry\r\n\r\n.\r\nREST";
	size_t used = lmtp_data_feed(&d, in, sizeof(in) - 1, &out);
	assert_true(d.done);
	assert_int_equal(used, sizeof(in) - 1 - 4);
	assert_string_equal(out.data, "a\n.b\nc\nx\ry\n\n");
	assert_int_equal(d.vsize, strlen("a\r\n.b\r\nc\r\nx\ry\r\n\r\n"));
	/* byte by byte gives the same */
	buf_reset(&out);
	lmtp_data_init(&d, 0);
	for (size_t i = 0; i < sizeof(in) - 1 && !d.done; i++)
		assert_int_equal(lmtp_data_feed(&d, in + i, 1, &out), 1);
	assert_string_equal(out.data, "a\n.b\nc\nx\ry\n\n");
	/* bare LF never starts a terminator; CR.CR LF neither */
	buf_reset(&out);
	lmtp_data_init(&d, 0);
	lmtp_data_feed(&d, "a\n.\r\nb\r.\r\n", 11, &out);
	assert_false(d.done);
	/* limit */
	buf_reset(&out);
	lmtp_data_init(&d, 5);
	lmtp_data_feed(&d, "123456\r\n.\r\n", 11, &out);
	assert_true(d.done);
	assert_true(d.over);
	buf_free(&out);
}

static void test_maildir_path(void **state)
{
	(void)state;
	const char *err = NULL;
	char *p = lmtp_maildir_path("maildir:~/Maildir", true, "alice", "/home/alice", &err);
	assert_string_equal(p, "/home/alice/Maildir");
	free(p);
	p = lmtp_maildir_path("maildir:/srv/mail/bob", false, "bob", "", &err);
	assert_string_equal(p, "/srv/mail/bob");
	free(p);
	assert_null(lmtp_maildir_path("mbox:~/mail", true, "a", "/h", &err));
	assert_null(lmtp_maildir_path("maildir:rel/path", false, "a", "/h", &err));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_basic_delivery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipelining_and_smuggling, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_recipients, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_id_dedup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spool_on_disk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spool_dir_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spool_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spool_prepare, setup, teardown),
	    cmocka_unit_test(test_data_decoder),
	    cmocka_unit_test(test_maildir_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
