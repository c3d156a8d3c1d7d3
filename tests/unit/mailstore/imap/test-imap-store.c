/* test-imap-store.c: the IMAP commands that change messages (STORE, EXPUNGE,
 * UID EXPUNGE, COPY, MOVE, APPEND and their UID forms, UIDPLUS codes) in a
 * session forked over a socketpair against a temp Maildir, checked line by
 * line and then on disk: flags and keywords in file names, files gone from
 * cur/, copies' dates, APPEND's mtime, another session's expunge, and two
 * sessions' flag changes to one message both kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "imap-session-fixture.h"
#include "maildir.h"

static const char msg1[] = "From: a@example.org\nSubject: one\n\nline one\n";
static const char msg2[] = "From: b@example.org\r\nSubject: two\r\n\r\nbody\r\n";
static const char msg3[] = "Subject: three\n\nend\n";

struct fx {
	struct imap_fx im; /* first: imap_fx_teardown frees fx */
	unsigned uidvalidity;
	const char *byno[3]; /* message text by sequence number (= UID) */
};

/* Three messages in INBOX, already moved to cur/ and no longer \Recent, so
 * the FLAGS lists below hold only what the test stores. */
static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *const msgs[] = {msg1, msg2, msg3};
	if (fx == NULL || imap_fx_init(&fx->im, "imapw") < 0 ||
	    imap_fx_deliver_indexed(&fx->im, msgs, 3, MAILDIR_OPEN_SESSION, fx->byno,
	                            &fx->uidvalidity) < 0)
		return -1;
	*state = fx;
	return 0;
}

static void start(struct fx *fx, struct sess *s)
{
	imap_fx_fork(&fx->im, s, fx->im.root, NULL);
	char *line = get_line(s);
	assert_non_null(line);
	assert_true(strncmp(line, "L1 OK [CAPABILITY IMAP4rev1 ", 28) == 0);
	assert_non_null(strstr(line, " UIDPLUS MOVE"));
	free(line);
}

/* Send a command and skip the untagged lines up to its tagged answer,
 * which must start with want. */
static void run_to(struct sess *s, const char *cmd, const char *want)
{
	send_str(s, cmd);
	for (;;) {
		char *line = get_line(s);
		assert_non_null(line);
		if (line[0] != '*') {
			assert_true(strncmp(line, want, strlen(want)) == 0);
			free(line);
			return;
		}
		free(line);
	}
}

static struct maildir_mailbox *open_box(struct fx *fx, const char *name)
{
	const char *err;
	struct maildir_mailbox *box;
	assert_int_equal(maildir_mailbox_open(&fx->im.st, name, 0, &box, &err), 0);
	return box;
}

static unsigned uidvalidity_of(struct fx *fx, const char *name)
{
	struct maildir_mailbox *box = open_box(fx, name);
	unsigned v = box->uidvalidity;
	maildir_mailbox_close(box);
	return v;
}

static size_t count_files(struct fx *fx, const char *folder, const char *sub)
{
	char path[256];
	if (strcmp(folder, "INBOX") == 0)
		snprintf(path, sizeof(path), "%s/%s", fx->im.root, sub);
	else
		snprintf(path, sizeof(path), "%s/.%s/%s", fx->im.root, folder, sub);
	DIR *d = opendir(path);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The UID of the message in folder whose bytes are text (0: none). */
static uint32_t uid_of_text(struct fx *fx, const char *folder, const char *text)
{
	struct maildir_mailbox *box = open_box(fx, folder);
	uint32_t uid = 0;
	for (size_t i = 0; i < box->count && uid == 0; i++) {
		char *path = maildir_msg_path(box, &box->msgs[i]);
		char data[256];
		int fd = open(path, O_RDONLY);
		free(path);
		assert_true(fd >= 0);
		ssize_t n = read(fd, data, sizeof(data));
		close(fd);
		if (n == (ssize_t)strlen(text) && memcmp(data, text, (size_t)n) == 0)
			uid = box->msgs[i].uid;
	}
	maildir_mailbox_close(box);
	return uid;
}

/* COPYUID sets for two source UIDs a < b copied to da, db. */
static void two_sets(uint32_t a, uint32_t b, uint32_t da, uint32_t db, char *out, size_t len)
{
	if (b == a + 1 && db == da + 1)
		snprintf(out, len, "%u:%u %u:%u", a, b, da, db);
	else
		snprintf(out, len, "%u,%u %u,%u", a, b, da, db);
}

static void select_inbox(struct sess *s)
{
	run_to(s, "S SELECT INBOX\r\n", "S OK [READ-WRITE] Select completed.");
}

static void test_store(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	send_str(&s, "a STORE 1 +FLAGS (\\Seen)\r\n");
	expect(&s, "a BAD No mailbox selected.");
	select_inbox(&s);
	send_str(&s, "b STORE 1 +FLAGS (\\Seen)\r\n");
	expect(&s, "* 1 FETCH (FLAGS (\\Seen))");
	expect(&s, "b OK Store completed.");
	/* nothing changes: the flags are still confirmed (as Dovecot does) */
	send_str(&s, "c store 1 +flags (\\SEEN)\r\n");
	expect(&s, "* 1 FETCH (FLAGS (\\Seen))");
	expect(&s, "c OK Store completed.");
	send_str(&s, "d STORE 1:2 FLAGS (\\Flagged \\Draft)\r\n");
	expect(&s, "* 1 FETCH (FLAGS (\\Flagged \\Draft))");
	expect(&s, "* 2 FETCH (FLAGS (\\Flagged \\Draft))");
	expect(&s, "d OK Store completed.");
	/* flags without parentheses */
	send_str(&s, "e STORE 2 -FLAGS \\Draft \\Seen\r\n");
	expect(&s, "* 2 FETCH (FLAGS (\\Flagged))");
	expect(&s, "e OK Store completed.");
	send_str(&s, "f STORE 1:* +FLAGS.SILENT (\\Answered)\r\n");
	expect(&s, "f OK Store completed.");
	send_str(&s, "g FETCH 1:* FLAGS\r\n");
	expect(&s, "* 1 FETCH (FLAGS (\\Answered \\Flagged \\Draft))");
	expect(&s, "* 2 FETCH (FLAGS (\\Answered \\Flagged))");
	expect(&s, "* 3 FETCH (FLAGS (\\Answered))");
	expect(&s, "g OK Fetch completed.");
	/* new keywords: the mailbox's FLAGS are told again first */
	send_str(&s, "h STORE 3 +FLAGS ($Label1 Work)\r\n");
	expect(&s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 Work)");
	expect(&s, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 "
	           "Work \\*)] Flags permitted.");
	expect(&s, "* 3 FETCH (FLAGS (\\Answered $Label1 Work))");
	expect(&s, "h OK Store completed.");
	/* UID STORE reports the UID; keywords match in any case */
	send_str(&s, "i UID STORE 3 -FLAGS (work)\r\n");
	expect(&s, "* 3 FETCH (UID 3 FLAGS (\\Answered $Label1))");
	expect(&s, "i OK UID Store completed.");
	send_str(&s, "j UID STORE 2:3 FLAGS.SILENT ()\r\n");
	expect(&s, "j OK UID Store completed.");
	/* removing a keyword nobody has still creates it, as Dovecot does,
	 * so the client hears of it in FLAGS */
	send_str(&s, "k STORE 1 -FLAGS (Unknown)\r\n");
	expect(&s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 Work Unknown)");
	expect(&s, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 "
	           "Work Unknown \\*)] Flags permitted.");
	expect(&s, "* 1 FETCH (FLAGS (\\Answered \\Flagged \\Draft))");
	expect(&s, "k OK Store completed.");
	/* errors */
	send_str(&s, "l STORE 1 +FLAGS (\\Recent)\r\n");
	expect(&s, "l BAD Error in IMAP command STORE: Invalid system flag \\Recent");
	send_str(&s, "m STORE 1 +FLAGS (\\Bogus)\r\n");
	expect(&s, "m BAD Error in IMAP command STORE: Invalid system flag \\Bogus");
	send_str(&s, "n STORE 4 +FLAGS (\\Seen)\r\n");
	expect(&s, "n BAD Error in IMAP command STORE: Invalid messageset");
	send_str(&s, "o STORE 1,5:6 +FLAGS (\\Seen)\r\n");
	expect(&s, "o BAD Error in IMAP command STORE: Invalid messageset");
	send_str(&s, "p STORE 1 FROB (\\Seen)\r\n");
	expect(&s, "p BAD Error in IMAP command STORE: Invalid arguments.");
	send_str(&s, "q STORE 1 +FLAGS\r\n");
	expect(&s, "q BAD Error in IMAP command STORE: Invalid arguments.");
	send_str(&s, "r UID STORE 99 +FLAGS (\\Seen)\r\n");
	expect(&s, "r OK UID Store completed.");
	logout(&s);

	/* on disk: flags in the file names, keywords in the folder's table */
	struct maildir_mailbox *box = open_box(fx, "INBOX");
	assert_int_equal(box->count, 3);
	assert_int_equal(box->msgs[0].flags,
	                 MAILDIR_FLAG_REPLIED | MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_DRAFT);
	assert_int_equal(box->msgs[1].flags, 0);
	assert_int_equal(box->msgs[2].flags, 0);
	assert_int_equal(box->msgs[2].keywords, 0);
	assert_int_equal(box->keyword_count, 3);
	assert_string_equal(maildir_keyword_name(box, 0), "$Label1");
	assert_string_equal(maildir_keyword_name(box, 1), "Work");
	assert_string_equal(maildir_keyword_name(box, 2), "Unknown");
	assert_non_null(strstr(box->msgs[0].fname, ":2,DFR"));
	maildir_mailbox_close(box);
}

static void test_store_keyword_limit(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	select_inbox(&s);
	struct buf cmd;
	buf_init(&cmd, 0);
	assert_int_equal(buf_append_str(&cmd, "a STORE 1 +FLAGS.SILENT ("), 0);
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		assert_int_equal(buf_printf(&cmd, "%sk%d", i > 0 ? " " : "", i), 0);
	assert_int_equal(buf_append_str(&cmd, ")\r\n"), 0);
	send_str(&s, cmd.data);
	buf_free(&cmd);
	char *line = get_line(&s);
	assert_non_null(line);
	const char *head = "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft k0 k1 ";
	assert_true(strncmp(line, head, strlen(head)) == 0);
	free(line);
	line = get_line(&s);
	assert_non_null(line);
	assert_true(strncmp(line, "* OK [PERMANENTFLAGS (", 22) == 0);
	free(line);
	expect(&s, "a OK Store completed.");
	/* all 26 letters used: a 27th name is refused and nothing changes */
	send_str(&s, "b STORE 2 +FLAGS (\\Seen k0 k26)\r\n");
	expect(&s, "b NO [LIMIT] Keyword limit reached.");
	send_str(&s, "c FETCH 2 FLAGS\r\n");
	expect(&s, "* 2 FETCH (FLAGS ())");
	expect(&s, "c OK Fetch completed.");
	/* existing names still work */
	send_str(&s, "d STORE 2 +FLAGS (K25)\r\n");
	expect(&s, "* 2 FETCH (FLAGS (k25))");
	expect(&s, "d OK Store completed.");
	logout(&s);
}

static void test_readonly(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	run_to(&s, "a CREATE Dest\r\n", "a OK");
	run_to(&s, "b EXAMINE INBOX\r\n", "b OK [READ-ONLY] Examine completed.");
	send_str(&s, "c STORE 1 +FLAGS (\\Seen)\r\n");
	expect(&s, "c NO Mailbox is read-only.");
	send_str(&s, "d EXPUNGE\r\n");
	expect(&s, "d NO Mailbox is read-only.");
	send_str(&s, "e UID EXPUNGE 1\r\n");
	expect(&s, "e NO Mailbox is read-only.");
	send_str(&s, "f MOVE 1 Dest\r\n");
	expect(&s, "f NO Mailbox is read-only.");
	/* syntax is still checked first */
	send_str(&s, "g STORE 1 +FLAGS (\\Recent)\r\n");
	expect(&s, "g BAD Error in IMAP command STORE: Invalid system flag \\Recent");
	/* COPY only reads the source */
	send_str(&s, "h COPY 1 Dest\r\n");
	expectf(&s, "h OK [COPYUID %u 1 1] Copy completed.", uidvalidity_of(fx, "Dest"));
	logout(&s);
	assert_int_equal(count_files(fx, "INBOX", "cur"), 3);
	assert_int_equal(count_files(fx, "Dest", "cur"), 1);
}

static void test_expunge(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	select_inbox(&s);
	send_str(&s, "a EXPUNGE\r\n");
	expect(&s, "a OK Expunge completed.");
	send_str(&s, "b STORE 1,3 +FLAGS.SILENT (\\Deleted)\r\n");
	expect(&s, "b OK Store completed.");
	/* UID EXPUNGE removes only the set's \Deleted messages */
	send_str(&s, "c UID EXPUNGE 2:3\r\n");
	expect(&s, "* 3 EXPUNGE");
	expect(&s, "c OK UID Expunge completed.");
	assert_int_equal(count_files(fx, "INBOX", "cur"), 2);
	send_str(&s, "d FETCH 1:* UID\r\n");
	expect(&s, "* 1 FETCH (UID 1)");
	expect(&s, "* 2 FETCH (UID 2)");
	expect(&s, "d OK Fetch completed.");
	send_str(&s, "e EXPUNGE\r\n");
	expect(&s, "* 1 EXPUNGE");
	expect(&s, "e OK Expunge completed.");
	assert_int_equal(count_files(fx, "INBOX", "cur"), 1);
	assert_int_equal(uid_of_text(fx, "INBOX", fx->byno[1]), 2);
	send_str(&s, "f UID EXPUNGE\r\n");
	expect(&s, "f BAD Error in IMAP command UID EXPUNGE: Invalid arguments.");
	send_str(&s, "g UID EXPUNGE 1:x\r\n");
	expect(&s, "g BAD Error in IMAP command UID EXPUNGE: Invalid arguments.");
	send_str(&s, "h EXPUNGE 1\r\n");
	expect(&s, "h BAD Error in IMAP command EXPUNGE: Invalid arguments.");
	logout(&s);
}

static void test_copy(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	run_to(&s, "a CREATE Dest\r\n", "a OK");
	select_inbox(&s);
	/* "Work" is keyword 1 here and will be keyword 0 in Dest */
	run_to(&s, "b STORE 1 +FLAGS (Aaa)\r\n", "b OK");
	run_to(&s, "c STORE 2 +FLAGS (\\Seen \\Flagged Work)\r\n", "c OK");
	send_str(&s, "d COPY 2:3 Dest\r\n");
	char *line = get_line(&s);
	assert_non_null(line);
	uint32_t d2 = uid_of_text(fx, "Dest", fx->byno[1]);
	uint32_t d3 = uid_of_text(fx, "Dest", fx->byno[2]);
	char sets[64];
	two_sets(2, 3, d2, d3, sets, sizeof(sets));
	struct maildir_mailbox *dst = open_box(fx, "Dest");
	unsigned dv = dst->uidvalidity;
	char want[128];
	snprintf(want, sizeof(want), "d OK [COPYUID %u %s] Copy completed.", dv, sets);
	assert_string_equal(line, want);
	free(line);
	/* flags, keywords (by name) and the internal date travel along */
	struct maildir_mailbox *src = open_box(fx, "INBOX");
	assert_int_equal(dst->count, 2);
	const struct maildir_msg *c2 = maildir_mailbox_find_uid(dst, d2);
	const struct maildir_msg *c3 = maildir_mailbox_find_uid(dst, d3);
	assert_non_null(c2);
	assert_non_null(c3);
	assert_int_equal(c2->flags, MAILDIR_FLAG_SEEN | MAILDIR_FLAG_FLAGGED);
	assert_int_equal(c2->keywords, 1);
	assert_string_equal(maildir_keyword_name(dst, 0), "Work");
	assert_int_equal(dst->keyword_count, 1);
	assert_int_equal(c3->flags, 0);
	assert_int_equal(c2->date, src->msgs[1].date);
	assert_int_equal(c3->date, src->msgs[2].date);
	maildir_mailbox_close(src);
	maildir_mailbox_close(dst);
	/* the sources stay */
	assert_int_equal(count_files(fx, "INBOX", "cur"), 3);

	send_str(&s, "e COPY 1 Nope\r\n");
	expect(&s, "e NO [TRYCREATE] Mailbox doesn't exist: Nope");
	send_str(&s, "f UID COPY 50:60 Dest\r\n");
	expect(&s, "f OK No messages found.");
	send_str(&s, "g COPY 9 Dest\r\n");
	expect(&s, "g BAD Error in IMAP command COPY: Invalid messageset");
	send_str(&s, "h COPY 1\r\n");
	expect(&s, "h BAD Error in IMAP command COPY: Invalid arguments.");
	/* UID COPY, and into the selected mailbox itself: the copy shows up */
	send_str(&s, "i UID COPY 1 INBOX\r\n");
	expect(&s, "* 4 EXISTS");
	expect(&s, "* 1 RECENT");
	expectf(&s, "i OK [COPYUID %u 1 4] UID Copy completed.", fx->uidvalidity);
	send_str(&s, "j FETCH 4 (UID FLAGS)\r\n");
	expect(&s, "* 4 FETCH (UID 4 FLAGS (\\Recent Aaa))");
	expect(&s, "j OK Fetch completed.");
	logout(&s);
	assert_int_equal(count_files(fx, "Dest", "tmp"), 0);
}

static void test_move(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	run_to(&s, "a CREATE Dest\r\n", "a OK");
	select_inbox(&s);
	send_str(&s, "b MOVE 1:2 Dest\r\n");
	char *line = get_line(&s);
	assert_non_null(line);
	uint32_t d1 = uid_of_text(fx, "Dest", fx->byno[0]);
	uint32_t d2 = uid_of_text(fx, "Dest", fx->byno[1]);
	char sets[64], want[128];
	two_sets(1, 2, d1, d2, sets, sizeof(sets));
	struct maildir_mailbox *dst = open_box(fx, "Dest");
	snprintf(want, sizeof(want), "* OK [COPYUID %u %s] Moved UIDs.", dst->uidvalidity, sets);
	assert_string_equal(line, want);
	free(line);
	expect(&s, "* 2 EXPUNGE");
	expect(&s, "* 1 EXPUNGE");
	expect(&s, "b OK Move completed.");
	assert_int_equal(count_files(fx, "INBOX", "cur"), 1);
	assert_int_equal(count_files(fx, "Dest", "cur"), 2);
	send_str(&s, "c UID MOVE 3 Dest\r\n");
	expectf(&s, "* OK [COPYUID %u 3 3] Moved UIDs.", dst->uidvalidity);
	expect(&s, "* 1 EXPUNGE");
	expect(&s, "c OK UID Move completed.");
	send_str(&s, "d MOVE 1 Dest\r\n");
	expect(&s, "d BAD Error in IMAP command MOVE: Invalid messageset");
	send_str(&s, "e UID MOVE 1:* Nope\r\n");
	expect(&s, "e NO [TRYCREATE] Mailbox doesn't exist: Nope");
	send_str(&s, "f UID MOVE 1:* Dest\r\n");
	expect(&s, "f OK No messages found.");
	logout(&s);
	maildir_mailbox_close(dst);
	assert_int_equal(count_files(fx, "INBOX", "cur"), 0);
	assert_int_equal(count_files(fx, "Dest", "cur"), 3);
	assert_int_equal(uid_of_text(fx, "Dest", fx->byno[2]), 3);
}

static void test_append(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	const char text[] = "Subject: appended\n\nbare LF\n";
	start(fx, &s);
	/* synchronising literal, flags, keyword and date */
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
	         "a APPEND INBOX (\\Seen Work) \"05-Mar-2021 10:20:30 +0100\" {%zu}\r\n",
	         strlen(text));
	send_str(&s, cmd);
	expect(&s, "+ OK");
	send_str(&s, text);
	send_str(&s, "\r\n");
	expectf(&s, "a OK [APPENDUID %u 4] Append completed.", fx->uidvalidity);
	struct maildir_mailbox *box = open_box(fx, "INBOX");
	const struct maildir_msg *m = maildir_mailbox_find_uid(box, 4);
	assert_non_null(m);
	assert_int_equal(m->flags, MAILDIR_FLAG_SEEN);
	assert_int_equal(m->keywords, 1);
	assert_string_equal(maildir_keyword_name(box, 0), "Work");
	assert_int_equal(m->date, 1614936030); /* 2021-03-05 09:20:30 UTC */
	char *path = maildir_msg_path(box, m);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mtime, 1614936030);
	assert_int_equal(sb.st_size, strlen(text)); /* stored as given */
	assert_non_null(strstr(path, "/cur/"));
	free(path);
	maildir_mailbox_close(box);
	assert_int_equal(uid_of_text(fx, "INBOX", text), 4);

	/* non-synchronising literal (LITERAL+) into another folder */
	run_to(&s, "b CREATE Dest\r\n", "b OK");
	send_str(&s, "c APPEND Dest {3+}\r\nabc\r\n");
	expectf(&s, "c OK [APPENDUID %u 1] Append completed.", uidvalidity_of(fx, "Dest"));
	assert_int_equal(uid_of_text(fx, "Dest", "abc"), 1);
	/* refusals */
	send_str(&s, "d APPEND Nope {3+}\r\nabc\r\n");
	expect(&s, "d NO [TRYCREATE] Mailbox doesn't exist: Nope");
	send_str(&s, "e APPEND INBOX {0+}\r\n\r\n");
	expect(&s, "e NO Can't save a zero byte message.");
	send_str(&s, "f APPEND INBOX (\\Recent) {3+}\r\nabc\r\n");
	expect(&s, "f BAD Error in IMAP command APPEND: Invalid arguments.");
	send_str(&s, "g APPEND INBOX \"31-Feb-2021 10:00:00 +0000\" {3+}\r\nabc\r\n");
	expect(&s, "g BAD Error in IMAP command APPEND: Invalid arguments.");
	send_str(&s, "h APPEND INBOX ~{3+}\r\nabc\r\n");
	expect(&s, "h BAD Error in IMAP command APPEND: Invalid arguments.");
	send_str(&s, "i APPEND INBOX \"abc\"\r\n");
	expect(&s, "i BAD Error in IMAP command APPEND: Invalid arguments.");
	assert_int_equal(count_files(fx, "INBOX", "cur"), 4);
	assert_int_equal(count_files(fx, "INBOX", "tmp"), 0);

	/* into the selected mailbox: the client hears of it before the OK */
	select_inbox(&s);
	send_str(&s, "j APPEND inbox () {3+}\r\nxyz\r\n");
	expect(&s, "* 5 EXISTS");
	expect(&s, "* 2 RECENT"); /* UIDs 4 (claimed by SELECT) and 5 */
	expectf(&s, "j OK [APPENDUID %u 5] Append completed.", fx->uidvalidity);
	logout(&s);
}

/* Session A still numbers a message that session B expunged: A's STORE
 * keeps A's numbers (no EXPUNGE during STORE), skips the lost message, and
 * A's own EXPUNGE reports both, highest first. */
static void test_pending_expunge(void **state)
{
	struct fx *fx = *state;
	struct sess a, b;
	start(fx, &a);
	select_inbox(&a);
	start(fx, &b);
	select_inbox(&b);
	run_to(&b, "b1 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n", "b1 OK");
	send_str(&b, "b2 EXPUNGE\r\n");
	expect(&b, "* 1 EXPUNGE");
	expect(&b, "b2 OK Expunge completed.");
	logout(&b);

	send_str(&a, "a1 STORE 2 +FLAGS (\\Flagged)\r\n");
	expect(&a, "* 2 FETCH (FLAGS (\\Flagged))");
	expect(&a, "a1 OK Store completed.");
	/* expunged by b, not yet told to a: the STORE succeeds on a's view
	 * (RFC 2180 4.2.1) */
	send_str(&a, "a2 STORE 1 +FLAGS (\\Seen)\r\n");
	expect(&a, "* 1 FETCH (FLAGS (\\Seen))");
	expect(&a, "a2 OK Store completed.");
	send_str(&a, "a3 STORE 3 +FLAGS.SILENT (\\Deleted)\r\n");
	expect(&a, "a3 OK Store completed.");
	send_str(&a, "a4 EXPUNGE\r\n");
	expect(&a, "* 3 EXPUNGE");
	expect(&a, "* 1 EXPUNGE");
	expect(&a, "a4 OK Expunge completed.");
	send_str(&a, "a5 FETCH 1:* (UID FLAGS)\r\n");
	expect(&a, "* 1 FETCH (UID 2 FLAGS (\\Flagged))");
	expect(&a, "a5 OK Fetch completed.");
	logout(&a);
	assert_int_equal(count_files(fx, "INBOX", "cur"), 1);
}

/* Two sessions change one message's flags: both changes survive and both
 * clients end up seeing the real flags (imaptest "store" 10/11). */
static void test_store_two_sessions(void **state)
{
	struct fx *fx = *state;
	struct sess a, b;
	start(fx, &a);
	select_inbox(&a);
	run_to(&a, "a0 STORE 1 FLAGS.SILENT (\\Seen)\r\n", "a0 OK");
	start(fx, &b);
	select_inbox(&b);
	send_str(&a, "a1 STORE 1 +FLAGS (\\Answered)\r\n");
	expect(&a, "* 1 FETCH (FLAGS (\\Answered \\Seen))");
	expect(&a, "a1 OK Store completed.");
	/* b still believes (\Seen): its -FLAGS applies to the real flags */
	send_str(&b, "b1 STORE 1 -FLAGS (\\Seen)\r\n");
	expect(&b, "* 1 FETCH (FLAGS (\\Answered))");
	expect(&b, "b1 OK Store completed.");
	send_str(&a, "a2 CHECK\r\n");
	expect(&a, "* 1 FETCH (FLAGS (\\Answered))");
	expect(&a, "a2 OK Check completed.");
	/* .SILENT: told only what the client could not know (RFC 3501 6.4.6) */
	send_str(&b, "b2 STORE 1 +FLAGS.SILENT (\\Flagged)\r\n");
	expect(&b, "b2 OK Store completed.");
	send_str(&a, "a3 STORE 1 +FLAGS.SILENT (\\Draft)\r\n");
	expect(&a, "* 1 FETCH (FLAGS (\\Answered \\Flagged \\Draft))");
	expect(&a, "a3 OK Store completed.");
	/* a keyword set by one session is kept by the other's -FLAGS */
	run_to(&a, "a4 STORE 2 +FLAGS (Work)\r\n", "a4 OK");
	send_str(&b, "b3 STORE 2 -FLAGS (\\Seen)\r\n");
	expect(&b, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Work)");
	expect(&b, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Work \\*)] "
	           "Flags permitted.");
	expect(&b, "* 2 FETCH (FLAGS (Work))");
	expect(&b, "* 1 FETCH (FLAGS (\\Answered \\Flagged \\Draft))");
	expect(&b, "b3 OK Store completed.");
	logout(&a);
	logout(&b);
	struct maildir_mailbox *box = open_box(fx, "INBOX");
	assert_non_null(strstr(box->msgs[0].fname, ":2,DFR"));
	assert_int_equal(box->msgs[1].keywords, 1);
	maildir_mailbox_close(box);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_store, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_store_keyword_limit, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_readonly, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_expunge, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_copy, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_move, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_append, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_pending_expunge, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_store_two_sessions, setup, imap_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
