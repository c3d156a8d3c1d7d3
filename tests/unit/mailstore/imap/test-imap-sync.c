/* test-imap-sync.c: the explicit sync of the IMAP session. A session is
 * built in this process over a temp Maildir and commands are run through
 * imap_command_run; its counters show that each command syncs exactly once,
 * from imap_cmd_done, in its table row's mode, that a plain imap_reply of a
 * line that looks like a tagged OK syncs nothing, and that the updates
 * (EXPUNGE withheld during FETCH, STORE, SEARCH) come right before the
 * tagged line. The test process plays "another session" on the Maildir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "imap-private.h"
#include "imap-session-fixture.h"
#include "maildir.h"

static const char msg[] = "From: a@example.org\nSubject: hi\n\nbody\n";

struct fx {
	struct imap_fx im; /* first: imap_fx_teardown frees fx */
	struct session_env env;
	struct imap_session s;
	int sv[2];
	char *out; /* what the last command queued */
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *err = NULL;
	if (fx == NULL || imap_fx_init(&fx->im, "sync") < 0)
		return -1;
	for (int i = 0; i < 3; i++) /* UIDs 1, 2, 3 */
		if (maildir_deliver(&fx->im.st, "INBOX", msg, strlen(msg), NULL, &err) < 0)
			return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fx->sv) < 0)
		return -1;
	fx->env = (struct session_env){.fd = fx->sv[1],
	                               .user = "alice",
	                               .home = "",
	                               .maildir = fx->im.root,
	                               .login_tag = "L1",
	                               .rip = "127.0.0.1",
	                               .lip = "127.0.0.1",
	                               .session_id = "test"};
	struct imap_session *s = &fx->s;
	s->env = &fx->env;
	s->fd = fx->sv[1];
	s->state = IMAP_STATE_AUTH;
	s->idle_ms = 5000;
	s->sep = '/';
	if (maildir_store_init(&s->store, fx->im.root, '/', NULL, &err) < 0)
		return -1;
	s->store_ok = true;
	struct imap_limits lim = {.max_line = 65536, .max_literal = 1 << 20};
	lim.max_command = lim.max_line + lim.max_literal;
	s->ps = imap_parser_new(&lim);
	buf_init(&s->in, 0);
	buf_init(&s->out, 0);
	*state = fx;
	return s->ps != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	struct imap_session *s = &fx->s;
	imap_unselect(s);
	maildir_store_deinit(&s->store);
	imap_parser_free(s->ps);
	buf_free(&s->in);
	buf_free(&s->out);
	free(fx->out);
	close(fx->sv[0]);
	close(fx->sv[1]);
	return imap_fx_teardown(state);
}

/* Parse one command line (no literals). */
static const struct imap_command *parse(struct fx *fx, const char *line)
{
	size_t used = 0;
	enum imap_parse_result r = imap_parser_feed(fx->s.ps, line, strlen(line), &used);
	assert_int_equal(r, IMAP_PARSE_COMMAND);
	assert_int_equal(used, strlen(line));
	return imap_parser_command(fx->s.ps);
}

/* Take what the session queued (nothing was flushed: all small). */
static const char *take_out(struct fx *fx)
{
	free(fx->out);
	fx->out = strndup(fx->s.out.data != NULL ? fx->s.out.data : "", fx->s.out.len);
	assert_non_null(fx->out);
	buf_reset(&fx->s.out);
	assert_false(fx->s.dead);
	return fx->out;
}

/* Run line; check it synced `want` times, all from imap_cmd_done in the
 * table row's mode, which must be `mode`. Returns the queued output. */
static const char *run(struct fx *fx, const char *line, unsigned want, enum imap_sync mode)
{
	struct imap_session *s = &fx->s;
	const struct imap_command *c = parse(fx, line);
	const struct imap_cmd *row = imap_command_find(c);
	assert_non_null(row);
	assert_int_equal(row->sync, mode);
	unsigned long n0 = s->nsync, d0 = s->ndone_sync, f0 = s->nflush;
	s->last_sync = -1;
	imap_command_run(s, c);
	assert_int_equal(s->nsync - n0, want);
	assert_int_equal(s->ndone_sync - d0, want);
	assert_int_equal(s->nflush, f0);
	if (want > 0)
		assert_int_equal(s->last_sync, (int)mode);
	assert_null(s->cmd); /* no command is left running */
	return take_out(fx);
}

static void other_expunge(struct fx *fx, uint32_t uid)
{
	struct maildir_mailbox *box;
	const char *err;
	assert_int_equal(maildir_mailbox_open(&fx->im.st, "INBOX", 0, &box, &err), 0);
	assert_int_equal(maildir_msg_expunge(box, uid, &err), 0);
	maildir_mailbox_close(box);
}

static void other_deliver(struct fx *fx)
{
	const char *err;
	assert_int_equal(maildir_deliver(&fx->im.st, "INBOX", msg, strlen(msg), NULL, &err), 0);
}

static void select_inbox(struct fx *fx, unsigned exists)
{
	const char *out = run(fx, "S SELECT INBOX\r\n", 0, IMAP_SYNC_NONE);
	char want[32];
	snprintf(want, sizeof(want), "* %u EXISTS\r\n", exists);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "S OK [READ-WRITE] Select completed.\r\n"));
	assert_int_equal(fx->s.state, IMAP_STATE_SELECTED);
}

/* Every command syncs exactly once in the selected state, in its mode. */
static void test_once_per_command(void **state)
{
	struct fx *fx = *state;
	/* authenticated state: no view, nothing to sync */
	assert_string_equal(run(fx, "a NOOP\r\n", 0, IMAP_SYNC_FULL), "a OK NOOP completed.\r\n");
	select_inbox(fx, 3);
	assert_string_equal(run(fx, "b NOOP\r\n", 1, IMAP_SYNC_FULL), "b OK NOOP completed.\r\n");
	assert_string_equal(run(fx, "c CHECK\r\n", 1, IMAP_SYNC_FULL), "c OK Check completed.\r\n");
	run(fx, "d CAPABILITY\r\n", 1, IMAP_SYNC_FULL);
	run(fx, "e LIST \"\" *\r\n", 1, IMAP_SYNC_FULL);
	run(fx, "f STATUS INBOX (MESSAGES)\r\n", 1, IMAP_SYNC_FULL);
	assert_string_equal(run(fx, "g FETCH 1 UID\r\n", 1, IMAP_SYNC_NO_EXPUNGE),
	                    "* 1 FETCH (UID 1)\r\ng OK Fetch completed.\r\n");
	assert_string_equal(run(fx, "h UID FETCH 2 UID\r\n", 1, IMAP_SYNC_FULL),
	                    "* 2 FETCH (UID 2)\r\nh OK UID Fetch completed.\r\n");
	run(fx, "i STORE 1 +FLAGS.SILENT (\\Flagged)\r\n", 1, IMAP_SYNC_NO_EXPUNGE);
	run(fx, "j UID STORE 1 -FLAGS.SILENT (\\Flagged)\r\n", 1, IMAP_SYNC_FULL);
	assert_string_equal(run(fx, "k SEARCH ALL\r\n", 1, IMAP_SYNC_NO_EXPUNGE),
	                    "* SEARCH 1 2 3\r\nk OK Search completed.\r\n");
	run(fx, "l UID SEARCH ALL\r\n", 1, IMAP_SYNC_FULL);
	/* the copy into the selected mailbox is told before the OK */
	const char *out = run(fx, "m COPY 1 INBOX\r\n", 1, IMAP_SYNC_FULL);
	assert_non_null(strstr(out, "* 4 EXISTS\r\n* 4 RECENT\r\nm OK [COPYUID "));
	/* NO syncs too; BAD does not */
	assert_string_equal(run(fx, "n COPY 1 Nowhere\r\n", 1, IMAP_SYNC_FULL),
	                    "n NO [TRYCREATE] Mailbox doesn't exist: Nowhere\r\n");
	assert_string_equal(run(fx, "o STORE 99 +FLAGS (\\Seen)\r\n", 0, IMAP_SYNC_NO_EXPUNGE),
	                    "o BAD Error in IMAP command STORE: Invalid messageset\r\n");
	run(fx, "p UID EXPUNGE 1\r\n", 1, IMAP_SYNC_FULL);
	run(fx, "q EXPUNGE\r\n", 1, IMAP_SYNC_FULL);
	run(fx, "r ENABLE FOO\r\n", 0, IMAP_SYNC_FULL); /* BAD in the selected state */
	run(fx, "s UNSELECT\r\n", 0, IMAP_SYNC_NONE);
	select_inbox(fx, 4);
	assert_string_equal(run(fx, "t LOGOUT\r\n", 0, IMAP_SYNC_NONE),
	                    "* BYE Logging out\r\nt OK Logout completed.\r\n");
}

/* The updates come right before the tagged line; EXPUNGE waits during
 * FETCH, STORE and SEARCH (RFC 3501 7.4.1) and goes out with the next
 * command that may send it. */
static void test_updates_before_tagged(void **state)
{
	struct fx *fx = *state;
	select_inbox(fx, 3);
	other_expunge(fx, 2);
	other_deliver(fx);
	assert_string_equal(run(fx, "a FETCH 1 UID\r\n", 1, IMAP_SYNC_NO_EXPUNGE),
	                    "* 1 FETCH (UID 1)\r\n* 4 EXISTS\r\n* 3 RECENT\r\n"
	                    "a OK Fetch completed.\r\n");
	assert_string_equal(
	    run(fx, "b STORE 1 +FLAGS.SILENT (\\Seen)\r\n", 1, IMAP_SYNC_NO_EXPUNGE),
	    "b OK Store completed.\r\n");
	assert_string_equal(run(fx, "c SEARCH ALL\r\n", 1, IMAP_SYNC_NO_EXPUNGE),
	                    "* SEARCH 1 3 4\r\nc OK Search completed.\r\n");
	assert_string_equal(run(fx, "d NOOP\r\n", 1, IMAP_SYNC_FULL),
	                    "* 2 EXPUNGE\r\nd OK NOOP completed.\r\n");
	/* a UID command may send it, with the UID in untagged FETCH */
	other_expunge(fx, 1);
	assert_string_equal(run(fx, "e UID FETCH 3 UID\r\n", 1, IMAP_SYNC_FULL),
	                    "* 2 FETCH (UID 3)\r\n* 1 EXPUNGE\r\ne OK UID Fetch completed.\r\n");
}

/* A line formatted like a tagged OK is only queued: no sync, no updates. */
static void test_reply_does_not_sync(void **state)
{
	struct fx *fx = *state;
	struct imap_session *s = &fx->s;
	select_inbox(fx, 3);
	other_deliver(fx);
	const struct imap_command *c = parse(fx, "x NOOP\r\n");
	/* as imap_command_run leaves it while the handler runs */
	s->cmd = imap_command_find(c);
	s->cmd_done = false;
	unsigned long n0 = s->nsync;
	imap_reply(s, "x OK NOOP completed.");
	struct buf line;
	buf_init(&line, 0);
	assert_int_equal(buf_append_str(&line, "x NO NOOP completed."), 0);
	imap_reply_buf(s, &line);
	buf_free(&line);
	assert_int_equal(s->nsync, n0);
	assert_string_equal(take_out(fx), "x OK NOOP completed.\r\nx NO NOOP completed.\r\n");
	/* the completion call does sync, once, even if called again */
	imap_cmd_done(s, c, IMAP_OK, "NOOP completed.");
	imap_cmd_done(s, c, IMAP_OK, "again");
	assert_int_equal(s->nsync, n0 + 1);
	assert_string_equal(take_out(fx), "* 4 EXISTS\r\n* 4 RECENT\r\nx OK NOOP completed.\r\n"
	                                  "x OK again\r\n");
	s->cmd = NULL;
}

/* The table itself: the rules its flags and modes must keep. */
static void test_table_rules(void **state)
{
	(void)state;
	size_t n;
	const struct imap_cmd *t = imap_command_table(&n);
	assert_true(n > 0);
	unsigned noexp = 0;
	for (size_t i = 0; i < n; i++) {
		bool uid_row = strncmp(t[i].name, "UID ", 4) == 0;
		assert_true((t[i].fn != NULL) != (t[i].seq != NULL));
		assert_int_equal(uid_row, (t[i].flags & IMAP_CMD_UID) != 0);
		/* EXPUNGE is withheld only for a command that reads sequence
		 * numbers, is not a UID form and does not expunge itself */
		if (t[i].sync == IMAP_SYNC_NO_EXPUNGE) {
			noexp++;
			assert_true(t[i].flags & IMAP_CMD_USES_SEQS);
			assert_false(t[i].flags & (IMAP_CMD_UID | IMAP_CMD_BREAKS_SEQS));
		}
		if (t[i].flags & IMAP_CMD_UID) {
			assert_true(t[i].flags & IMAP_CMD_NEEDS_SELECTED);
			assert_false(t[i].flags & IMAP_CMD_USES_SEQS);
			assert_int_equal(t[i].sync, IMAP_SYNC_FULL);
			/* the plain form exists with the same handler */
			bool found = false;
			for (size_t j = 0; j < n; j++)
				found |=
				    strcmp(t[j].name, t[i].name + 4) == 0 && t[j].seq == t[i].seq;
			assert_true(found);
		}
	}
	assert_int_equal(noexp, 3); /* FETCH, STORE, SEARCH */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_once_per_command, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_updates_before_tagged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_does_not_sync, setup, teardown),
	    cmocka_unit_test(test_table_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
