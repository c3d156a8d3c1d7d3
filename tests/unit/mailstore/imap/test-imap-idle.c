/* test-imap-idle.c: untagged updates, IDLE and ENABLE of the IMAP session
 * (imap_session_run in a forked child over a socketpair, temp Maildir).
 * The test process plays "another session": it delivers, expunges and
 * changes flags in the same Maildir while the session idles or between its
 * commands, and checks which untagged lines arrive, in which order, and
 * that EXPUNGE waits after FETCH but not after UID FETCH or NOOP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "imap-session-fixture.h"
#include "maildir.h"

#define SYSFLAGS "\\Answered \\Flagged \\Deleted \\Seen \\Draft"

static const char msg[] = "From: a@example.org\nSubject: hi\n\nbody\n";

static int setup(void **state)
{
	struct imap_fx *fx = calloc(1, sizeof(*fx));
	const char *err = NULL;
	if (fx == NULL || imap_fx_init(fx, "idle") < 0)
		return -1;
	/* UIDs 1, 2, 3 */
	for (int i = 0; i < 3; i++)
		if (maildir_deliver(&fx->st, "INBOX", msg, strlen(msg), NULL, &err) < 0)
			return -1;
	*state = fx;
	return 0;
}

static void start(struct imap_fx *fx, struct sess *s)
{
	imap_fx_fork(fx, s, fx->root, NULL);
	char *line = get_line(s);
	assert_non_null(line);
	/* the post-login capability list advertises both */
	assert_true(strncmp(line, "L1 OK [CAPABILITY IMAP4rev1 ", 28) == 0);
	assert_non_null(strstr(line, " ENABLE IDLE "));
	free(line);
}

/* SELECT INBOX with its 3 messages (all \Recent for this session). */
static void select_inbox(struct sess *s)
{
	send_str(s, "S SELECT INBOX\r\n");
	for (;;) {
		char *line = get_line(s);
		assert_non_null(line);
		int last = strncmp(line, "S ", 2) == 0;
		if (last)
			assert_string_equal(line, "S OK [READ-WRITE] Select completed.");
		else if (strstr(line, "EXISTS") != NULL)
			assert_string_equal(line, "* 3 EXISTS");
		free(line);
		if (last)
			return;
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next line must arrive within ms milliseconds (poll, no sleeping). */
static void expect_within(struct sess *s, const char *want, int ms)
{
	int64_t deadline = mono_ms() + ms;
	while (memmem(s->in.data != NULL ? s->in.data : "", s->in.len, "\r\n", 2) == NULL) {
		int64_t left = deadline - mono_ms();
		struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			fail_msg("no \"%s\" within %d ms", want, ms);
		char chunk[4096];
		ssize_t n = read(s->fd, chunk, sizeof(chunk));
		if (n <= 0)
			fail_msg("connection closed while waiting for \"%s\"", want);
		assert_int_equal(buf_append(&s->in, chunk, (size_t)n), 0);
	}
	expect(s, want);
}

/* Nothing more from the session for ms milliseconds. */
static void expect_quiet(struct sess *s, int ms)
{
	struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
	assert_int_equal(s->in.len, 0);
	assert_int_equal(poll(&pfd, 1, ms), 0);
}

static struct maildir_mailbox *other_open(struct imap_fx *fx)
{
	struct maildir_mailbox *box;
	const char *err;
	assert_int_equal(maildir_mailbox_open(&fx->st, "INBOX", 0, &box, &err), 0);
	return box;
}

static void other_expunge(struct imap_fx *fx, uint32_t uid)
{
	struct maildir_mailbox *box = other_open(fx);
	const char *err;
	assert_int_equal(maildir_msg_expunge(box, uid, &err), 0);
	maildir_mailbox_close(box);
}

static void other_flags(struct imap_fx *fx, uint32_t uid, unsigned flags, const char *keyword)
{
	struct maildir_mailbox *box = other_open(fx);
	const char *err;
	uint32_t kw = 0;
	if (keyword != NULL) {
		int idx = maildir_keyword_index(box, keyword, 1, &err);
		assert_true(idx >= 0);
		kw = (uint32_t)1 << idx;
	}
	assert_int_equal(maildir_msg_set_flags(box, uid, flags, kw, &err), 0);
	maildir_mailbox_close(box);
}

static void other_deliver(struct imap_fx *fx)
{
	const char *err;
	assert_int_equal(maildir_deliver(&fx->st, "INBOX", msg, strlen(msg), NULL, &err), 0);
}

static void test_idle_delivery(void **state)
{
	struct imap_fx *fx = *state;
	struct sess s;
	start(fx, &s);
	select_inbox(&s);
	send_str(&s, "a IDLE\r\n");
	expect(&s, "+ idling");
	expect_quiet(&s, 100);
	other_deliver(fx);
	expect_within(&s, "* 4 EXISTS", 2000);
	expect(&s, "* 4 RECENT");
	/* the session took \Recent once: it stays ours, nothing repeats */
	expect_quiet(&s, 300);
	send_str(&s, "DONE\r\n");
	expect(&s, "a OK Idle completed.");
	send_str(&s, "b FETCH 4 (FLAGS)\r\n");
	expect(&s, "* 4 FETCH (FLAGS (\\Recent))");
	expect(&s, "b OK Fetch completed.");
	logout(&s);
}

static void test_idle_expunge_flags(void **state)
{
	struct imap_fx *fx = *state;
	struct sess s;
	start(fx, &s);
	select_inbox(&s);
	send_str(&s, "a IDLE\r\n");
	expect(&s, "+ idling");
	other_expunge(fx, 2);
	expect_within(&s, "* 2 EXPUNGE", 2000);
	other_flags(fx, 3, MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_SEEN, NULL);
	expect_within(&s, "* 2 FETCH (FLAGS (\\Flagged \\Seen \\Recent))", 2000);
	/* a keyword another session created: FLAGS first, then the FETCH */
	other_flags(fx, 1, 0, "$Work");
	expect_within(&s, "* FLAGS (" SYSFLAGS " $Work)", 2000);
	expect(&s, "* OK [PERMANENTFLAGS (" SYSFLAGS " $Work \\*)] Flags permitted.");
	expect_within(&s, "* 1 FETCH (FLAGS (\\Recent $Work))", 2000);
	send_str(&s, "done\r\n");
	expect(&s, "a OK Idle completed.");
	send_str(&s, "b NOOP\r\n");
	expect(&s, "b OK NOOP completed.");
	logout(&s);
}

static void test_idle_done_bad(void **state)
{
	struct imap_fx *fx = *state;
	struct sess s;
	start(fx, &s);
	select_inbox(&s);
	send_str(&s, "a IDLE\r\n");
	expect(&s, "+ idling");
	send_str(&s, "b NOOP\r\n");
	expect(&s, "a BAD Expected DONE.");
	/* IDLE is over: the parser takes commands again */
	send_str(&s, "c NOOP\r\n");
	expect(&s, "c OK NOOP completed.");
	/* the DONE line may come in pieces */
	send_str(&s, "d IDLE\r\n");
	expect(&s, "+ idling");
	send_str(&s, "Do");
	expect_quiet(&s, 100);
	send_str(&s, "nE\r\n");
	expect(&s, "d OK Idle completed.");
	send_str(&s, "e IDLE extra\r\n");
	expect(&s, "e BAD Error in IMAP command IDLE: Invalid arguments.");
	logout(&s);
}

static void test_idle_pipelined(void **state)
{
	struct imap_fx *fx = *state;
	struct sess s;
	start(fx, &s);
	select_inbox(&s);
	send_str(&s, "a IDLE\r\n");
	expect(&s, "+ idling");
	send_str(&s, "DONE\r\nb NOOP\r\nc NAMESPACE\r\n");
	expect(&s, "a OK Idle completed.");
	expect(&s, "b OK NOOP completed.");
	expect(&s, "* NAMESPACE ((\"\" \"/\")) NIL NIL");
	expect(&s, "c OK Namespace completed.");
	/* DONE already in the same packet as IDLE */
	send_str(&s, "d IDLE\r\nDONE\r\ne FETCH 1 (UID)\r\n");
	expect(&s, "+ idling");
	expect(&s, "d OK Idle completed.");
	expect(&s, "* 1 FETCH (UID 1)");
	expect(&s, "e OK Fetch completed.");
	logout(&s);
}

static void test_idle_unselected(void **state)
{
	struct imap_fx *fx = *state;
	struct sess s;
	start(fx, &s);
	send_str(&s, "a IDLE\r\n");
	expect(&s, "+ idling");
	other_deliver(fx);
	expect_quiet(&s, 300);
	send_str(&s, "DONE\r\n");
	expect(&s, "a OK Idle completed.");
	logout(&s);
}

static void test_idle_timeout(void **state)
{
	struct imap_fx *fx = *state;
	const char conf[] = "imap_idle_timeout = 1s\n";
	fx->cfg = config_load_buf("test", conf, strlen(conf), NULL);
	assert_non_null(fx->cfg);
	struct sess s;
	start(fx, &s);
	select_inbox(&s);
	send_str(&s, "a IDLE\r\n");
	expect(&s, "+ idling");
	expect_within(&s, "* BYE Disconnected for inactivity.", 3000);
	assert_null(get_line(&s));
	assert_int_equal(finish(&s), 0);
}

/* Between commands: EXPUNGE (highest first), FETCH, EXISTS, RECENT, all
 * before the tagged line. */
static void test_noop_order(void **state)
{
	struct imap_fx *fx = *state;
	struct sess s;
	start(fx, &s);
	select_inbox(&s);
	other_flags(fx, 3, MAILDIR_FLAG_SEEN, NULL);
	other_expunge(fx, 2);
	other_expunge(fx, 1);
	other_deliver(fx);
	send_str(&s, "a NOOP\r\n");
	expect(&s, "* 2 EXPUNGE");
	expect(&s, "* 1 EXPUNGE");
	expect(&s, "* 1 FETCH (FLAGS (\\Seen \\Recent))");
	expect(&s, "* 2 EXISTS");
	expect(&s, "* 2 RECENT");
	expect(&s, "a OK NOOP completed.");
	/* told once */
	send_str(&s, "b CHECK\r\n");
	expect(&s, "b OK Check completed.");
	/* other commands report too, e.g. LIST */
	other_flags(fx, 4, MAILDIR_FLAG_FLAGGED, NULL);
	send_str(&s, "c LIST \"\" INBOX\r\n");
	expect(&s, "* LIST (\\HasNoChildren) \"/\" INBOX");
	expect(&s, "* 2 FETCH (FLAGS (\\Flagged \\Recent))");
	expect(&s, "c OK List completed.");
	logout(&s);
}

/* RFC 3501 7.4.1: no EXPUNGE while answering FETCH; the vanished message
 * keeps its number (and says nothing) until a later command. */
static void test_no_expunge_after_fetch(void **state)
{
	struct imap_fx *fx = *state;
	struct sess s;
	start(fx, &s);
	select_inbox(&s);
	other_expunge(fx, 2);
	other_deliver(fx);
	/* the mailbox is synced after the FETCH's own replies (2's UID still
	 * comes from the cached table, RFC 3501 allows either) */
	send_str(&s, "a FETCH 1:* (UID)\r\n");
	expect(&s, "* 1 FETCH (UID 1)");
	expect(&s, "* 2 FETCH (UID 2)");
	expect(&s, "* 3 FETCH (UID 3)");
	/* new messages may be announced: numbers count the withheld one */
	expect(&s, "* 4 EXISTS");
	expect(&s, "* 3 RECENT");
	expect(&s, "a OK Fetch completed.");
	send_str(&s, "b FETCH 1:* (UID)\r\n");
	expect(&s, "* 1 FETCH (UID 1)");
	expect(&s, "* 3 FETCH (UID 3)");
	expect(&s, "* 4 FETCH (UID 4)");
	expect(&s, "b OK Fetch completed.");
	/* UID FETCH may send it; its flag updates carry the UID */
	other_flags(fx, 3, MAILDIR_FLAG_FLAGGED, NULL);
	send_str(&s, "c UID FETCH 1 (UID)\r\n");
	expect(&s, "* 1 FETCH (UID 1)");
	expect(&s, "* 2 EXPUNGE");
	expect(&s, "* 2 FETCH (UID 3 FLAGS (\\Flagged \\Recent))");
	expect(&s, "c OK UID Fetch completed.");
	/* and NOOP does */
	other_expunge(fx, 1);
	send_str(&s, "d FETCH 1 (UID)\r\n");
	expect(&s, "* 1 FETCH (UID 1)");
	expect(&s, "d OK Fetch completed.");
	send_str(&s, "d2 FETCH 1 (UID)\r\n");
	expect(&s, "d2 OK Fetch completed.");
	send_str(&s, "e NOOP\r\n");
	expect(&s, "* 1 EXPUNGE");
	expect(&s, "e OK NOOP completed.");
	send_str(&s, "f FETCH 1:* (UID)\r\n");
	expect(&s, "* 1 FETCH (UID 3)");
	expect(&s, "* 2 FETCH (UID 4)");
	expect(&s, "f OK Fetch completed.");
	logout(&s);
}

static void test_enable(void **state)
{
	struct imap_fx *fx = *state;
	struct sess s;
	start(fx, &s);
	send_str(&s, "a ENABLE CONDSTORE QRESYNC UTF8=ACCEPT X-UNKNOWN\r\n");
	expect(&s, "* ENABLED");
	expect(&s, "a OK Enabled.");
	send_str(&s, "b ENABLE\r\n");
	expect(&s, "b BAD Error in IMAP command ENABLE: Invalid arguments.");
	send_str(&s, "c ENABLE (CONDSTORE)\r\n");
	expect(&s, "c BAD Error in IMAP command ENABLE: Invalid arguments.");
	select_inbox(&s);
	send_str(&s, "d ENABLE CONDSTORE\r\n");
	expect(&s, "d BAD ENABLE isn't allowed in the selected state.");
	logout(&s);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_idle_delivery, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_idle_expunge_flags, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_idle_done_bad, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_idle_pipelined, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_idle_unselected, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_idle_timeout, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_noop_order, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_no_expunge_after_fetch, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_enable, setup, imap_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
