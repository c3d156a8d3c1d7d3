/* test-pop3-session.c: the POP3 session of mailstore (pop3_session_run) in a
 * forked child over a socketpair, against a temp Maildir filled with
 * maildir_deliver: exact replies of every command, octet counts equal to the
 * bytes sent, dot-stuffing, TOP, DELE/QUIT/RSET/drop, [IN-USE], UIDL
 * stability, \Seen after RETR, pre-read pipelined input, bad input, idle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "session-client.h"
#include "config.h"
#include "maildir.h"
#include "pop3.h"

static const char msg1[] = "From: a@example.org\nSubject: one\n\nline one\nline two\n";
static const char msg2[] = "From: b@example.org\r\nSubject: two\r\n\r\nbody\r\n";
static const char msg3[] = "Subject: dots\n\n.leading dot\n..two dots\n.\nend\n";

struct fx {
	char dir[64];
	char root[128];
	struct maildir_store st;
	struct config *cfg;
	/* message text by POP3 number: UID order need not be delivery order */
	const char *byno[3];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *err = NULL;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/loft-pop3-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->root, sizeof(fx->root), "%s/Maildir", fx->dir);
	if (maildir_store_init(&fx->st, fx->root, '/', "mx.example", &err) < 0 ||
	    maildir_folder_create(&fx->st, "INBOX", &err) < 0)
		return -1;
	const char *msgs[] = {msg1, msg2, msg3};
	char *bases[3];
	for (int i = 0; i < 3; i++) {
		if (maildir_deliver(&fx->st, "INBOX", msgs[i], strlen(msgs[i]), &bases[i], &err) <
		    0)
			return -1;
	}
	struct maildir_mailbox *box;
	if (maildir_mailbox_open(&fx->st, "INBOX", 0, &box, &err) < 0 || box->count != 3)
		return -1;
	for (int i = 0; i < 3; i++) {
		struct maildir_msg *m = maildir_mailbox_find_base(box, bases[i]);
		if (m == NULL)
			return -1;
		fx->byno[m - box->msgs] = msgs[i];
		free(bases[i]);
	}
	maildir_mailbox_close(box);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	maildir_store_deinit(&fx->st);
	if (fx->cfg != NULL)
		config_free(fx->cfg);
	test_rmtree(fx->dir);
	free(fx);
	return 0;
}

static void start_pre(struct fx *fx, struct sess *s, const char *preread)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	buf_init(&s->in, 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		/* as in a worker: a write to a gone client must not kill us */
		signal(SIGPIPE, SIG_DFL);
		close(sv[0]);
		struct session_env env = {
		    .fd = sv[1],
		    .user = "alice",
		    .home = "",
		    .maildir = fx->root,
		    .preread = preread,
		    .preread_len = preread != NULL ? strlen(preread) : 0,
		    .rip = "127.0.0.1",
		    .lip = "127.0.0.1",
		    .session_id = "test",
		    .cfg = fx->cfg,
		};
		_exit(pop3_session_run(&env));
	}
	close(sv[1]);
	s->fd = sv[0];
}

static void start(struct fx *fx, struct sess *s)
{
	start_pre(fx, s, NULL);
}

/* A multi-line body up to ".\r\n", raw (still dot-stuffed, with CRLFs). */
static char *get_body(struct sess *s, size_t *len_r)
{
	for (;;) {
		if (s->in.len >= 3 && memcmp(s->in.data, ".\r\n", 3) == 0) {
			buf_consume(&s->in, 3);
			*len_r = 0;
			return strdup("");
		}
		char *end = s->in.len > 0 ? memmem(s->in.data, s->in.len, "\r\n.\r\n", 5) : NULL;
		if (end != NULL) {
			size_t n = (size_t)(end - s->in.data) + 2;
			char *body = strndup(s->in.data, n);
			buf_consume(&s->in, n + 3);
			*len_r = n;
			return body;
		}
		assert_int_equal(fill(s), 0);
	}
}

/* The text RETR must send: LF -> CRLF, dot-stuffed. */
static char *crlf_stuffed(const char *m)
{
	struct buf b;
	buf_init(&b, 0);
	int bol = 1;
	for (const char *p = m; *p != '\0'; p++) {
		if (bol && *p == '.')
			buf_append(&b, ".", 1);
		if (*p == '\n' && (p == m || p[-1] != '\r'))
			buf_append(&b, "\r", 1);
		buf_append(&b, p, 1);
		bol = *p == '\n';
	}
	return buf_steal(&b);
}

static size_t count_box(struct fx *fx, struct maildir_mailbox **box_r)
{
	const char *err;
	struct maildir_mailbox *box;
	assert_int_equal(maildir_mailbox_open(&fx->st, "INBOX", 0, &box, &err), 0);
	size_t n = box->count;
	if (box_r != NULL)
		*box_r = box;
	else
		maildir_mailbox_close(box);
	return n;
}

static uint64_t vsize_of(const struct fx *fx, int no)
{
	return maildir_vsize(fx->byno[no - 1], strlen(fx->byno[no - 1]));
}

/* "VERB <number of msg> tail" */
static void send_for(struct sess *s, const struct fx *fx, const char *verb, const char *msg,
                     const char *tail)
{
	char cmd[64];
	int no = 0;
	for (int i = 0; i < 3; i++)
		no = fx->byno[i] == msg ? i + 1 : no;
	assert_true(no > 0);
	snprintf(cmd, sizeof(cmd), "%s %d%s\r\n", verb, no, tail);
	send_str(s, cmd);
}

static void test_stat_list(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	char want[128];
	uint64_t v1 = vsize_of(fx, 1), v2 = vsize_of(fx, 2), v3 = vsize_of(fx, 3);
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	send_str(&s, "STAT\r\n");
	snprintf(want, sizeof(want), "+OK 3 %" PRIu64, v1 + v2 + v3);
	expect(&s, want);
	send_str(&s, "LIST\r\n");
	expect(&s, "+OK 3 messages:");
	snprintf(want, sizeof(want), "1 %" PRIu64, v1);
	expect(&s, want);
	snprintf(want, sizeof(want), "2 %" PRIu64, v2);
	expect(&s, want);
	snprintf(want, sizeof(want), "3 %" PRIu64, v3);
	expect(&s, want);
	expect(&s, ".");
	send_str(&s, "list 2\r\nLIST 4\r\nLIST 0\r\nLIST x\r\nLIST 1 2\r\nNOOP\r\n");
	snprintf(want, sizeof(want), "+OK 2 %" PRIu64, v2);
	expect(&s, want);
	expect(&s, "-ERR There's no message 4.");
	expect(&s, "-ERR There's no message 0.");
	expect(&s, "-ERR Invalid message number: x");
	expect(&s, "-ERR Too many arguments.");
	expect(&s, "+OK");
	send_str(&s, "CAPA\r\n");
	expect(&s, "+OK");
	const char *capa[] = {"CAPA",           "TOP", "UIDL", "RESP-CODES", "PIPELINING",
	                      "AUTH-RESP-CODE", "."};
	for (size_t i = 0; i < sizeof(capa) / sizeof(capa[0]); i++)
		expect(&s, capa[i]);
	send_str(&s, "QUIT\r\n");
	expect(&s, "+OK Logging out.");
	assert_null(get_line(&s));
	assert_int_equal(finish(&s), 0);
}

/* RETR of every message: octets announced == bytes sent without stuffing. */
static void test_retr_octets(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	const char **msgs = fx->byno;
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	for (int i = 0; i < 3; i++) {
		char cmd[32], want[64];
		snprintf(cmd, sizeof(cmd), "RETR %d\r\n", i + 1);
		send_str(&s, cmd);
		uint64_t v = maildir_vsize(msgs[i], strlen(msgs[i]));
		snprintf(want, sizeof(want), "+OK %" PRIu64 " octets", v);
		expect(&s, want);
		size_t len;
		char *body = get_body(&s, &len);
		char *exp = crlf_stuffed(msgs[i]);
		assert_string_equal(body, exp);
		/* each stuffed line added one byte the octet count excludes */
		size_t stuffed = 0;
		for (size_t k = 0; k < len; k++)
			stuffed += body[k] == '.' && (k == 0 || body[k - 1] == '\n');
		assert_int_equal(len - stuffed, v);
		free(body);
		free(exp);
	}
	send_str(&s, "RETR\r\nRETR 9\r\nRETR -1\r\n");
	expect(&s, "-ERR Invalid message number: ");
	expect(&s, "-ERR There's no message 9.");
	expect(&s, "-ERR Invalid message number: -1");
	send_str(&s, "QUIT\r\n");
	expect(&s, "+OK Logging out.");
	assert_int_equal(finish(&s), 0);
}

static void test_top(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	size_t len;
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	send_for(&s, fx, "TOP", msg1, " 0");
	expect(&s, "+OK");
	char *body = get_body(&s, &len);
	assert_string_equal(body, "From: a@example.org\r\nSubject: one\r\n\r\n");
	free(body);
	send_for(&s, fx, "TOP", msg1, " 1");
	expect(&s, "+OK");
	body = get_body(&s, &len);
	assert_string_equal(body, "From: a@example.org\r\nSubject: one\r\n\r\nline one\r\n");
	free(body);
	send_for(&s, fx, "TOP", msg3, " 3");
	expect(&s, "+OK");
	body = get_body(&s, &len);
	assert_string_equal(body, "Subject: dots\r\n\r\n..leading dot\r\n...two dots\r\n..\r\n");
	free(body);
	send_for(&s, fx, "TOP", msg2, " 100");
	expect(&s, "+OK");
	body = get_body(&s, &len);
	assert_string_equal(body, msg2);
	free(body);
	send_str(&s, "TOP 1\r\nTOP\r\nTOP 1 x\r\n");
	expect(&s, "-ERR Invalid number of lines: ");
	expect(&s, "-ERR Invalid message number: ");
	expect(&s, "-ERR Invalid number of lines: x");
	send_str(&s, "QUIT\r\n");
	expect(&s, "+OK Logging out.");
	assert_int_equal(finish(&s), 0);
	/* TOP does not mark \Seen */
	struct maildir_mailbox *box;
	count_box(fx, &box);
	for (size_t i = 0; i < box->count; i++)
		assert_false(box->msgs[i].flags & MAILDIR_FLAG_SEEN);
	maildir_mailbox_close(box);
}

static void test_dele_quit_expunges(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	char want[64];
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	send_str(&s,
	         "DELE 1\r\nDELE 1\r\nRETR 1\r\nLIST 1\r\nTOP 1 0\r\nUIDL 1\r\nSTAT\r\nLIST\r\n");
	expect(&s, "+OK Marked to be deleted.");
	expect(&s, "-ERR Message is deleted.");
	expect(&s, "-ERR Message is deleted.");
	expect(&s, "-ERR Message is deleted.");
	expect(&s, "-ERR Message is deleted.");
	expect(&s, "-ERR Message is deleted.");
	uint64_t v2 = vsize_of(fx, 2), v3 = vsize_of(fx, 3);
	snprintf(want, sizeof(want), "+OK 2 %" PRIu64, v2 + v3);
	expect(&s, want);
	expect(&s, "+OK 2 messages:");
	snprintf(want, sizeof(want), "2 %" PRIu64, v2);
	expect(&s, want);
	snprintf(want, sizeof(want), "3 %" PRIu64, v3);
	expect(&s, want);
	expect(&s, ".");
	send_str(&s, "QUIT\r\n");
	expect(&s, "+OK Logging out, messages deleted.");
	assert_int_equal(finish(&s), 0);
	assert_int_equal(count_box(fx, NULL), 2);
}

static void test_dele_drop_keeps(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	send_str(&s, "DELE 1\r\nDELE 2\r\n");
	expect(&s, "+OK Marked to be deleted.");
	expect(&s, "+OK Marked to be deleted.");
	assert_int_equal(finish(&s), 0);
	assert_int_equal(count_box(fx, NULL), 3);
}

static void test_rset(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	send_str(&s, "DELE 3\r\nRSET\r\nLIST 3\r\nQUIT\r\n");
	expect(&s, "+OK Marked to be deleted.");
	expect(&s, "+OK");
	char *line = get_line(&s);
	assert_non_null(line);
	assert_memory_equal(line, "+OK 3 ", 6);
	free(line);
	expect(&s, "+OK Logging out.");
	assert_int_equal(finish(&s), 0);
	assert_int_equal(count_box(fx, NULL), 3);
}

static void test_in_use(void **state)
{
	struct fx *fx = *state;
	struct sess a, b, c;
	start(fx, &a);
	expect(&a, "+OK Logged in.");
	start(fx, &b);
	expect(&b, "-ERR [IN-USE] Mailbox is locked by another POP3 session");
	assert_null(get_line(&b));
	assert_int_equal(finish(&b), 0);
	send_str(&a, "QUIT\r\n");
	expect(&a, "+OK Logging out.");
	/* Once the client has the QUIT reply the maildrop is free, even though
	 * the worker has not exited yet: a client that reconnects at once must
	 * never meet [IN-USE]. Probe the lock while the worker still runs. */
	char lock[256];
	snprintf(lock, sizeof(lock), "%s/loft-pop3.lock", fx->root);
	int lfd = open(lock, O_RDWR | O_CLOEXEC);
	assert_true(lfd >= 0);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	assert_int_equal(fcntl(lfd, F_OFD_SETLK, &fl), 0);
	close(lfd);
	assert_int_equal(finish(&a), 0);
	/* the lock died with the first session */
	start(fx, &c);
	expect(&c, "+OK Logged in.");
	assert_int_equal(finish(&c), 0);
}

/* The first three UIDL lines; *n_r = how many the listing had. */
static void read_uidls(struct fx *fx, char uidl[3][64], int *n_r)
{
	struct sess s;
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	send_str(&s, "UIDL\r\n");
	expect(&s, "+OK");
	int n = 0;
	for (;;) {
		char *line = get_line(&s);
		assert_non_null(line);
		if (strcmp(line, ".") == 0) {
			free(line);
			break;
		}
		if (n < 3)
			snprintf(uidl[n], 64, "%s", line);
		n++;
		free(line);
	}
	*n_r = n;
	send_str(&s, "UIDL 2\r\nQUIT\r\n");
	char want[80];
	snprintf(want, sizeof(want), "+OK %s", uidl[1]);
	expect(&s, want);
	expect(&s, "+OK Logging out.");
	assert_int_equal(finish(&s), 0);
}

static void test_uidl_stable(void **state)
{
	struct fx *fx = *state;
	char first[3][64], second[3][64];
	int n1, n2;
	read_uidls(fx, first, &n1);
	assert_int_equal(n1, 3);
	/* a new message does not change the old UIDLs */
	const char *err;
	assert_int_equal(maildir_deliver(&fx->st, "INBOX", msg1, strlen(msg1), NULL, &err), 0);
	read_uidls(fx, second, &n2);
	assert_int_equal(n2, 4);
	struct maildir_mailbox *box;
	count_box(fx, &box);
	for (int i = 0; i < 3; i++) {
		char want[64];
		snprintf(want, sizeof(want), "%d %08" PRIX32 "%08" PRIX32, i + 1, box->msgs[i].uid,
		         box->uidvalidity);
		assert_string_equal(first[i], want);
		assert_string_equal(second[i], want);
	}
	maildir_mailbox_close(box);
}

static void test_seen_after_retr(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	size_t len;
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	send_str(&s, "RETR 2\r\n");
	char *line = get_line(&s);
	free(line);
	free(get_body(&s, &len));
	send_str(&s, "QUIT\r\n");
	expect(&s, "+OK Logging out.");
	assert_int_equal(finish(&s), 0);
	struct maildir_mailbox *box;
	count_box(fx, &box);
	assert_false(box->msgs[0].flags & MAILDIR_FLAG_SEEN);
	assert_true(box->msgs[1].flags & MAILDIR_FLAG_SEEN);
	assert_false(box->msgs[2].flags & MAILDIR_FLAG_SEEN);
	maildir_mailbox_close(box);
}

/* Bytes the login daemon read after PASS are run before socket input. */
static void test_preread(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start_pre(fx, &s, "STAT\r\nDELE 1\r\nLIST 1\r\nNO");
	expect(&s, "+OK Logged in.");
	char *line = get_line(&s);
	assert_non_null(line);
	assert_memory_equal(line, "+OK 3 ", 6);
	free(line);
	expect(&s, "+OK Marked to be deleted.");
	expect(&s, "-ERR Message is deleted.");
	/* the half line finishes from the socket */
	send_str(&s, "OP\r\nQUIT\r\n");
	expect(&s, "+OK");
	expect(&s, "+OK Logging out, messages deleted.");
	assert_int_equal(finish(&s), 0);
	assert_int_equal(count_box(fx, NULL), 2);
}

static void test_bad_input(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	send_str(&s, "FOO\r\nUSER bob\r\nPASS x\r\nSTLS\r\nAUTH PLAIN\r\nLAST\r\n");
	expect(&s, "-ERR Unknown command: FOO");
	expect(&s, "-ERR Unknown command: USER");
	expect(&s, "-ERR Unknown command: PASS");
	expect(&s, "-ERR Unknown command: STLS");
	expect(&s, "-ERR Unknown command: AUTH");
	expect(&s, "-ERR Unknown command: LAST");
	assert_int_equal(write(s.fd, "NO\0OP\r\n", 7), 7);
	expect(&s, "-ERR Invalid characters in command.");
	/* a too-long line: one error, then the session goes on */
	char big[3000];
	memset(big, 'A', sizeof(big));
	memcpy(big, "NOOP ", 5);
	assert_int_equal(write(s.fd, big, sizeof(big)), (ssize_t)sizeof(big));
	send_str(&s, "xx\r\nnoop\r\n");
	expect(&s, "-ERR Input line too long.");
	expect(&s, "+OK");
	/* 8 bad so far: 12 more and we are out */
	for (int i = 0; i < 12; i++)
		send_str(&s, "XYZZY\r\n");
	for (int i = 0; i < 11; i++)
		expect(&s, "-ERR Unknown command: XYZZY");
	expect(&s, "-ERR Unknown command: XYZZY");
	expect(&s, "-ERR Too many bad commands.");
	assert_null(get_line(&s));
	assert_int_equal(finish(&s), 0);
}

/* A file written without ,S=/,W= (another MDA): the size is counted from
 * the content, and a last line without LF is closed before the ".". */
static void test_no_size_in_name(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	char path[256];
	const char text[] = "Subject: raw\n\nno final newline";
	snprintf(path, sizeof(path), "%s/new/1000000000.rawmda.host", fx->root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	send_str(&s, "LIST 4\r\nRETR 4\r\n");
	char want[64];
	snprintf(want, sizeof(want), "+OK 4 %zu", strlen(text) + 2);
	expect(&s, want);
	snprintf(want, sizeof(want), "+OK %zu octets", strlen(text) + 2);
	expect(&s, want);
	size_t len;
	char *body = get_body(&s, &len);
	assert_string_equal(body, "Subject: raw\r\n\r\nno final newline\r\n");
	free(body);
	send_str(&s, "QUIT\r\n");
	expect(&s, "+OK Logging out.");
	assert_int_equal(finish(&s), 0);
}

/* A message bigger than the output queue, many dot lines, sent in pieces;
 * the whole session pipelined in one write. */
static void test_big_pipelined(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	struct buf m;
	const char *err;
	buf_init(&m, 0);
	buf_append_str(&m, "Subject: big\n\n");
	for (int i = 0; i < 20000; i++)
		buf_printf(&m, "%sline %d\n", i % 3 == 0 ? "." : "", i);
	assert_int_equal(maildir_deliver(&fx->st, "INBOX", m.data, m.len, NULL, &err), 0);
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	send_str(&s, "NOOP\r\nRETR 4\r\nNOOP\r\nQUIT\r\n");
	expect(&s, "+OK");
	char want[64];
	snprintf(want, sizeof(want), "+OK %" PRIu64 " octets", maildir_vsize(m.data, m.len));
	expect(&s, want);
	size_t len;
	char *body = get_body(&s, &len);
	char *exp = crlf_stuffed(m.data);
	assert_int_equal(len, strlen(exp));
	assert_string_equal(body, exp);
	free(body);
	free(exp);
	expect(&s, "+OK");
	expect(&s, "+OK Logging out.");
	assert_int_equal(finish(&s), 0);
	buf_free(&m);
}

/* A user without a Maildir yet: it is created and the maildrop is empty. */
static void test_empty_new_maildir(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	snprintf(fx->root, sizeof(fx->root), "%s/fresh/Maildir", fx->dir);
	char parent[160];
	snprintf(parent, sizeof(parent), "%s/fresh", fx->dir);
	assert_int_equal(mkdir(parent, 0700), 0);
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	send_str(&s, "STAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nQUIT\r\n");
	expect(&s, "+OK 0 0");
	expect(&s, "+OK 0 messages:");
	expect(&s, ".");
	expect(&s, "+OK");
	expect(&s, ".");
	expect(&s, "-ERR There's no message 1.");
	expect(&s, "+OK Logging out.");
	assert_int_equal(finish(&s), 0);
	struct stat sb;
	char cur[200];
	snprintf(cur, sizeof(cur), "%s/cur", fx->root);
	assert_int_equal(stat(cur, &sb), 0);
}

/* The client leaves in the middle of a big RETR: the session ends
 * normally (no SIGPIPE death), records \Seen for nothing and expunges
 * nothing. */
static void test_drop_mid_retr(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	struct buf m;
	const char *err;
	buf_init(&m, 0);
	buf_append_str(&m, "Subject: big\n\n");
	for (int i = 0; i < 100000; i++)
		buf_printf(&m, "line %d of a message too big for the socket buffer\n", i);
	assert_int_equal(maildir_deliver(&fx->st, "INBOX", m.data, m.len, NULL, &err), 0);
	buf_free(&m);
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	send_str(&s, "DELE 1\r\nRETR 4\r\n");
	expect(&s, "+OK Marked to be deleted.");
	assert_int_equal(fill(&s), 0);
	assert_int_equal(finish(&s), 0);
	struct maildir_mailbox *box;
	assert_int_equal(count_box(fx, &box), 4);
	assert_false(box->msgs[3].flags & MAILDIR_FLAG_SEEN);
	maildir_mailbox_close(box);
}

/* A maildrop that can't be opened: a SYS/TEMP answer to the login command,
 * worker status 1. */
static void test_maildrop_unusable(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	snprintf(fx->root, sizeof(fx->root), "%s/plainfile", fx->dir);
	FILE *f = fopen(fx->root, "w");
	assert_non_null(f);
	fclose(f);
	start(fx, &s);
	expect(&s, "-ERR [SYS/TEMP] Couldn't open INBOX: temporary failure.");
	assert_null(get_line(&s));
	assert_int_equal(finish(&s), 1);
}

static void test_idle_timeout(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	const char conf[] = "pop3_idle_timeout = 1s\n";
	fx->cfg = config_load_buf("test", conf, strlen(conf), NULL);
	assert_non_null(fx->cfg);
	start(fx, &s);
	expect(&s, "+OK Logged in.");
	expect(&s, "-ERR Disconnected for inactivity.");
	assert_null(get_line(&s));
	assert_int_equal(finish(&s), 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_stat_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retr_octets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_top, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dele_quit_expunges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dele_drop_keeps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_use, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uidl_stable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seen_after_retr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_preread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_size_in_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_big_pipelined, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_new_maildir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop_mid_retr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_maildrop_unusable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
