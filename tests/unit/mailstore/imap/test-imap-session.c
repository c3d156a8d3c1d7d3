/* test-imap-session.c: the IMAP session of mailstore (imap_session_run) in a
 * forked child over a socketpair, against a temp Maildir filled with
 * maildir_deliver: the login tag's answer, exact responses of every command,
 * wrong-state and bad input, LIST patterns, mailbox management, INBOX
 * rename, SELECT/EXAMINE, \Recent across sessions, STATUS, autologout,
 * pre-read pipelined commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

#define CAPS                                                                                       \
	"IMAP4rev1 LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT CHILDREN SPECIAL-USE UIDPLUS MOVE"
#define LOGGED_IN "L1 OK [CAPABILITY " CAPS "] Logged in"

static const char msg1[] = "From: a@example.org\nSubject: one\n\nline one\n";
static const char msg2[] = "From: b@example.org\r\nSubject: two\r\n\r\nbody\r\n";
static const char msg3[] = "Subject: three\n\nend\n";

struct fx {
	struct imap_fx im; /* first: imap_fx_teardown frees fx */
	unsigned uidvalidity;
	const char *byno[3]; /* message text by sequence number */
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *const msgs[] = {msg1, msg2, msg3};
	if (fx == NULL || imap_fx_init(&fx->im, "imap") < 0 ||
	    imap_fx_deliver_indexed(&fx->im, msgs, 3, 0, fx->byno, &fx->uidvalidity) < 0)
		return -1;
	*state = fx;
	return 0;
}

/* Start a session on the fixture's Maildir and read the login answer. */
static void start(struct fx *fx, struct sess *s)
{
	imap_fx_fork(&fx->im, s, fx->im.root, NULL);
	expect(s, LOGGED_IN);
}

static void test_any_state(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	send_str(&s, "a CAPABILITY\r\n");
	expect(&s, "* CAPABILITY " CAPS);
	expect(&s, "a OK Capability completed.");
	send_str(&s, "b NOOP\r\n");
	expect(&s, "b OK NOOP completed.");
	send_str(&s, "c ID (\"name\" \"test\")\r\n");
	expect(&s, "* ID (\"name\" \"Loft\")");
	expect(&s, "c OK ID completed.");
	send_str(&s, "d id nil\r\n");
	expect(&s, "* ID (\"name\" \"Loft\")");
	expect(&s, "d OK ID completed.");
	send_str(&s, "e NAMESPACE\r\n");
	expect(&s, "* NAMESPACE ((\"\" \"/\")) NIL NIL");
	expect(&s, "e OK Namespace completed.");
	logout(&s);
}

static void test_bad_commands(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	send_str(&s, "a FROB\r\n");
	expect(&s, "a BAD Error in IMAP command received by server.");
	send_str(&s, "b CLOSE\r\n");
	expect(&s, "b BAD No mailbox selected.");
	send_str(&s, "c UNSELECT\r\n");
	expect(&s, "c BAD No mailbox selected.");
	send_str(&s, "d CHECK\r\n");
	expect(&s, "d BAD No mailbox selected.");
	send_str(&s, "e NOOP extra\r\n");
	expect(&s, "e BAD Error in IMAP command NOOP: Invalid arguments.");
	send_str(&s, "f SELECT\r\n");
	expect(&s, "f BAD Error in IMAP command SELECT: Invalid arguments.");
	send_str(&s, "g STATUS INBOX MESSAGES\r\n");
	expect(&s, "g BAD Error in IMAP command STATUS: Invalid arguments.");
	send_str(&s, "h STATUS INBOX (BOGUS)\r\n");
	expect(&s, "h BAD Error in IMAP command STATUS: Invalid arguments.");
	send_str(&s, "i CREATE \"a&Jjo\"\r\n");
	expect(&s, "i NO Invalid mailbox name: not modified UTF-7");
	/* after 20 bad commands the session ends */
	for (int i = 0; i < 14; i++)
		send_str(&s, "x FROB\r\n");
	for (int i = 0; i < 13; i++)
		expect(&s, "x BAD Error in IMAP command received by server.");
	expect(&s, "x BAD Error in IMAP command received by server.");
	expect(&s, "* BYE Too many invalid IMAP commands.");
	assert_null(get_line(&s));
	assert_int_equal(finish(&s), 0);
}

static void test_autocreate_list(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	fx->im.cfg = config_defaults();
	assert_non_null(fx->im.cfg);
	char root[160];
	snprintf(root, sizeof(root), "%s/fresh", fx->im.dir);
	imap_fx_fork(&fx->im, &s, root, NULL);
	expect(&s, LOGGED_IN);
	send_str(&s, "a LIST \"\" *\r\n");
	expect(&s, "* LIST (\\HasNoChildren) \"/\" INBOX");
	expect(&s, "* LIST (\\HasNoChildren \\Archive) \"/\" Archive");
	expect(&s, "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts");
	expect(&s, "* LIST (\\HasNoChildren \\Junk) \"/\" Junk");
	expect(&s, "* LIST (\\HasNoChildren \\Sent) \"/\" Sent");
	expect(&s, "* LIST (\\HasNoChildren \\Trash) \"/\" Trash");
	expect(&s, "a OK List completed.");
	logout(&s);
	struct stat st;
	char path[200];
	snprintf(path, sizeof(path), "%s/.Sent/cur", root);
	assert_int_equal(stat(path, &st), 0);
	/* not first login any more: a deleted folder stays deleted */
	const char *err;
	struct maildir_store store;
	assert_int_equal(maildir_store_init(&store, root, '/', "mx", &err), 0);
	assert_int_equal(maildir_folder_delete(&store, "Junk", &err), 0);
	maildir_store_deinit(&store);
	imap_fx_fork(&fx->im, &s, root, NULL);
	expect(&s, LOGGED_IN);
	send_str(&s, "b LIST \"\" Junk\r\n");
	expect(&s, "b OK List completed.");
	logout(&s);
}

static void test_list_patterns(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	send_str(&s, "a CREATE a/b/c\r\n");
	expect(&s, "a OK Create completed.");
	send_str(&s, "b CREATE x/\r\n");
	expect(&s, "b OK Create completed.");
	send_str(&s, "c LIST \"\" %\r\n");
	expect(&s, "* LIST (\\HasNoChildren) \"/\" INBOX");
	expect(&s, "* LIST (\\Noselect \\HasChildren) \"/\" a");
	expect(&s, "* LIST (\\HasNoChildren) \"/\" x");
	expect(&s, "c OK List completed.");
	send_str(&s, "d LIST \"\" *\r\n");
	expect(&s, "* LIST (\\HasNoChildren) \"/\" INBOX");
	expect(&s, "* LIST (\\Noselect \\HasChildren) \"/\" a");
	expect(&s, "* LIST (\\Noselect \\HasChildren) \"/\" a/b");
	expect(&s, "* LIST (\\HasNoChildren) \"/\" a/b/c");
	expect(&s, "* LIST (\\HasNoChildren) \"/\" x");
	expect(&s, "d OK List completed.");
	send_str(&s, "e LIST a/ %\r\n");
	expect(&s, "* LIST (\\Noselect \\HasChildren) \"/\" a/b");
	expect(&s, "e OK List completed.");
	send_str(&s, "f LIST \"\" \"\"\r\n");
	expect(&s, "* LIST (\\Noselect) \"/\" \"\"");
	expect(&s, "f OK List completed.");
	send_str(&s, "g LIST \"\" inbox\r\n");
	expect(&s, "* LIST (\\HasNoChildren) \"/\" INBOX");
	expect(&s, "g OK List completed.");
	send_str(&s, "h LIST \"\" *c\r\n");
	expect(&s, "* LIST (\\HasNoChildren) \"/\" a/b/c");
	expect(&s, "h OK List completed.");
	send_str(&s, "i LIST \"\" %c\r\n");
	expect(&s, "i OK List completed.");
	/* a modified UTF-7 name, given as a literal */
	send_str(&s, "j CREATE {7}\r\n");
	expect(&s, "+ OK");
	send_str(&s, "&AOk-t\xc3\r\n");
	expect(&s, "j NO Invalid mailbox name: not modified UTF-7");
	send_str(&s, "k CREATE {7+}\r\n&AOk-t&\r\n");
	expect(&s, "k NO Invalid mailbox name: not modified UTF-7");
	send_str(&s, "l CREATE &AOk-t\r\nm LIST \"\" &*\r\n");
	expect(&s, "l OK Create completed.");
	expect(&s, "* LIST (\\HasNoChildren) \"/\" &AOk-t");
	expect(&s, "m OK List completed.");
	logout(&s);
}

static void test_manage(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	send_str(&s, "a CREATE Work\r\n");
	expect(&s, "a OK Create completed.");
	send_str(&s, "b CREATE Work\r\n");
	expect(&s, "b NO [ALREADYEXISTS] Mailbox already exists");
	send_str(&s, "c CREATE inbox\r\n");
	expect(&s, "c NO [ALREADYEXISTS] Mailbox already exists");
	send_str(&s, "d CREATE Work/Sub\r\n");
	expect(&s, "d OK Create completed.");
	send_str(&s, "e DELETE Work\r\n");
	expect(&s, "e NO [INUSE] Mailbox has children, delete them first");
	send_str(&s, "f RENAME Work Play\r\n");
	expect(&s, "f OK Rename completed.");
	send_str(&s, "g LIST \"\" *\r\n");
	expect(&s, "* LIST (\\HasNoChildren) \"/\" INBOX");
	expect(&s, "* LIST (\\HasChildren) \"/\" Play");
	expect(&s, "* LIST (\\HasNoChildren) \"/\" Play/Sub");
	expect(&s, "g OK List completed.");
	send_str(&s, "h RENAME Nope X\r\n");
	expect(&s, "h NO [NONEXISTENT] Mailbox doesn't exist: Nope");
	send_str(&s, "i RENAME Play INBOX\r\n");
	expect(&s, "i NO [ALREADYEXISTS] Target mailbox already exists");
	send_str(&s, "j DELETE Play/Sub\r\n");
	expect(&s, "j OK Delete completed.");
	send_str(&s, "k DELETE Play/Sub\r\n");
	expect(&s, "k NO [NONEXISTENT] Mailbox doesn't exist: Play/Sub");
	send_str(&s, "l DELETE INBOX\r\n");
	expect(&s, "l NO INBOX can't be deleted.");
	send_str(&s, "m SUBSCRIBE Play\r\n");
	expect(&s, "m OK Subscribe completed.");
	send_str(&s, "n SUBSCRIBE Gone\r\n");
	expect(&s, "n NO [NONEXISTENT] Mailbox doesn't exist: Gone");
	send_str(&s, "o LSUB \"\" *\r\n");
	expect(&s, "* LSUB () \"/\" Play");
	expect(&s, "o OK Lsub completed.");
	send_str(&s, "p DELETE Play\r\n");
	expect(&s, "p OK Delete completed.");
	send_str(&s, "q LSUB \"\" *\r\n");
	expect(&s, "* LSUB (\\Noselect) \"/\" Play");
	expect(&s, "q OK Lsub completed.");
	send_str(&s, "r UNSUBSCRIBE Play\r\n");
	expect(&s, "r OK Unsubscribe completed.");
	send_str(&s, "s LSUB \"\" *\r\n");
	expect(&s, "s OK Lsub completed.");
	logout(&s);
}

static void test_inbox_rename_status(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	send_str(&s, "a STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)\r\n");
	expectf(&s, "* STATUS INBOX (MESSAGES 3 RECENT 3 UIDNEXT 4 UIDVALIDITY %u UNSEEN 3)",
	        fx->uidvalidity);
	expect(&s, "a OK Status completed.");
	send_str(&s, "b STATUS Nope (MESSAGES)\r\n");
	expect(&s, "b NO [NONEXISTENT] Mailbox doesn't exist: Nope");
	send_str(&s, "c RENAME INBOX Old\r\n");
	expect(&s, "c OK Rename completed.");
	send_str(&s, "d STATUS Old (MESSAGES UIDNEXT)\r\n");
	expect(&s, "* STATUS Old (MESSAGES 3 UIDNEXT 4)");
	expect(&s, "d OK Status completed.");
	send_str(&s, "e STATUS inbox (MESSAGES)\r\n");
	expect(&s, "* STATUS INBOX (MESSAGES 0)");
	expect(&s, "e OK Status completed.");
	logout(&s);
}

static void select_populated(struct sess *s, const struct fx *fx, const char *verb, int recent)
{
	expect(s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
	if (strcmp(verb, "SELECT") == 0)
		expect(s,
		       "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
		       "Flags permitted.");
	else
		expect(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox.");
	expect(s, "* 3 EXISTS");
	expectf(s, "* %d RECENT", recent);
	expect(s, "* OK [UNSEEN 1] First unseen.");
	expectf(s, "* OK [UIDVALIDITY %u] UIDs valid", fx->uidvalidity);
	expect(s, "* OK [UIDNEXT 4] Predicted next UID");
}

static void test_select_recent(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	/* EXAMINE shows \Recent without taking it */
	send_str(&s, "a EXAMINE INBOX\r\n");
	select_populated(&s, fx, "EXAMINE", 3);
	expect(&s, "a OK [READ-ONLY] Examine completed.");
	send_str(&s, "b SELECT INBOX\r\n");
	expect(&s, "* OK [CLOSED] Previous mailbox closed.");
	select_populated(&s, fx, "SELECT", 3);
	expect(&s, "b OK [READ-WRITE] Select completed.");
	send_str(&s, "c CHECK\r\n");
	expect(&s, "c OK Check completed.");
	/* a new delivery shows up on NOOP */
	const char *err;
	assert_int_equal(maildir_deliver(&fx->im.st, "INBOX", msg1, strlen(msg1), NULL, &err), 0);
	send_str(&s, "d NOOP\r\n");
	expect(&s, "* 4 EXISTS");
	expect(&s, "* 4 RECENT");
	expect(&s, "d OK NOOP completed.");
	send_str(&s, "e UNSELECT\r\n");
	expect(&s, "e OK Unselect completed.");
	send_str(&s, "f CLOSE\r\n");
	expect(&s, "f BAD No mailbox selected.");
	logout(&s);

	/* the second session sees no \Recent: the first one had them */
	start(fx, &s);
	send_str(&s, "a SELECT INBOX\r\n");
	expect(&s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
	expect(&s, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
	           "Flags permitted.");
	expect(&s, "* 4 EXISTS");
	expect(&s, "* 0 RECENT");
	expect(&s, "* OK [UNSEEN 1] First unseen.");
	expectf(&s, "* OK [UIDVALIDITY %u] UIDs valid", fx->uidvalidity);
	expect(&s, "* OK [UIDNEXT 5] Predicted next UID");
	expect(&s, "a OK [READ-WRITE] Select completed.");
	send_str(&s, "b STATUS INBOX (recent Messages)\r\n");
	expect(&s, "* STATUS INBOX (RECENT 0 MESSAGES 4)");
	expect(&s, "b OK Status completed.");
	send_str(&s, "c CLOSE\r\n");
	expect(&s, "c OK Close completed.");
	logout(&s);
}

static void test_select_empty_close_expunges(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	send_str(&s, "a CREATE Empty\r\n");
	expect(&s, "a OK Create completed.");
	send_str(&s, "b SELECT Empty\r\n");
	expect(&s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
	expect(&s, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
	           "Flags permitted.");
	expect(&s, "* 0 EXISTS");
	expect(&s, "* 0 RECENT");
	char *line = get_line(&s);
	assert_non_null(line);
	assert_true(strncmp(line, "* OK [UIDVALIDITY ", 18) == 0);
	free(line);
	expect(&s, "* OK [UIDNEXT 1] Predicted next UID");
	expect(&s, "b OK [READ-WRITE] Select completed.");
	send_str(&s, "c SELECT Nope\r\n");
	expect(&s, "* OK [CLOSED] Previous mailbox closed.");
	expect(&s, "c NO [NONEXISTENT] Mailbox doesn't exist: Nope");
	send_str(&s, "d CHECK\r\n");
	expect(&s, "d BAD No mailbox selected.");
	logout(&s);

	/* CLOSE removes \Deleted messages of a read-write mailbox */
	const char *err;
	struct maildir_mailbox *box;
	assert_int_equal(maildir_mailbox_open(&fx->im.st, "INBOX", 0, &box, &err), 0);
	assert_int_equal(
	    maildir_msg_set_flags(box, box->msgs[1].uid, MAILDIR_FLAG_TRASHED, 0, &err), 0);
	maildir_mailbox_close(box);
	start(fx, &s);
	send_str(&s, "a EXAMINE INBOX\r\nb CLOSE\r\n");
	for (int i = 0; i < 7; i++)
		free(get_line(&s));
	expect(&s, "a OK [READ-ONLY] Examine completed.");
	expect(&s, "b OK Close completed.");
	send_str(&s, "c STATUS INBOX (MESSAGES)\r\n");
	expect(&s, "* STATUS INBOX (MESSAGES 3)");
	expect(&s, "c OK Status completed.");
	send_str(&s, "d SELECT INBOX\r\ne CLOSE\r\n");
	for (int i = 0; i < 7; i++)
		free(get_line(&s));
	expect(&s, "d OK [READ-WRITE] Select completed.");
	expect(&s, "e OK Close completed.");
	send_str(&s, "f STATUS INBOX (MESSAGES)\r\n");
	expect(&s, "* STATUS INBOX (MESSAGES 2)");
	expect(&s, "f OK Status completed.");
	logout(&s);
}

static int seq_of(const struct fx *fx, const char *msg)
{
	for (int i = 0; i < 3; i++) {
		if (fx->byno[i] == msg)
			return i + 1;
	}
	fail();
	return 0;
}

/* "* n FETCH (<head>{len}" + the literal + "<tail>" */
static void expect_literal(struct sess *s, const char *head, const char *data, const char *tail)
{
	char want[512];
	snprintf(want, sizeof(want), "%s{%zu}", head, strlen(data));
	expect(s, want);
	while (s->in.len < strlen(data) + strlen(tail) + 2)
		assert_int_equal(fill(s), 0);
	assert_memory_equal(s->in.data, data, strlen(data));
	buf_consume(&s->in, strlen(data));
	expect(s, tail);
}

static void test_fetch(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	int n1 = seq_of(fx, msg1), n2 = seq_of(fx, msg2);
	start(fx, &s);
	send_str(&s, "a FETCH 1 FLAGS\r\n");
	expect(&s, "a BAD No mailbox selected.");
	send_str(&s, "b EXAMINE INBOX\r\n");
	for (int i = 0; i < 7; i++)
		free(get_line(&s));
	expect(&s, "b OK [READ-ONLY] Examine completed.");
	send_str(&s, "c FETCH 1:* (FLAGS UID RFC822.SIZE)\r\n");
	for (int i = 1; i <= 3; i++) {
		const char *m = fx->byno[i - 1];
		expectf(&s, "* %d FETCH (FLAGS () UID %d RFC822.SIZE %llu)", i, i,
		        (unsigned long long)maildir_vsize(m, strlen(m)));
	}
	expect(&s, "c OK Fetch completed.");
	send_str(&s, "d BOGUS\r\n");
	expect(&s, "d BAD Error in IMAP command received by server.");
	/* read-only: a body fetch does not set \Seen */
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "e FETCH %d BODY[TEXT]\r\n", n2);
	send_str(&s, cmd);
	char head[64];
	snprintf(head, sizeof(head), "* %d FETCH (BODY[TEXT] ", n2);
	expect_literal(&s, head, "body\r\n", ")");
	expect(&s, "e OK Fetch completed.");
	send_str(&s, "f SELECT INBOX\r\n");
	for (int i = 0; i < 8; i++)
		free(get_line(&s));
	expect(&s, "f OK [READ-WRITE] Select completed.");
	snprintf(cmd, sizeof(cmd), "g UID FETCH %d BODY[]\r\n", n1);
	send_str(&s, cmd);
	snprintf(head, sizeof(head), "* %d FETCH (BODY[] ", n1);
	expect_literal(&s, head, "From: a@example.org\r\nSubject: one\r\n\r\nline one\r\n",
	               " UID 1 FLAGS (\\Seen \\Recent))");
	expect(&s, "g OK UID Fetch completed.");
	snprintf(cmd, sizeof(cmd), "h FETCH %d (FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])\r\n", n2);
	send_str(&s, cmd);
	snprintf(head, sizeof(head), "* %d FETCH (FLAGS (\\Recent) BODY[HEADER.FIELDS (Subject)] ",
	         n2);
	expect_literal(&s, head, "Subject: two\r\n\r\n", ")");
	expect(&s, "h OK Fetch completed.");
	snprintf(cmd, sizeof(cmd), "i FETCH %d BODY.PEEK[]<6.7>\r\n", n2);
	send_str(&s, cmd);
	snprintf(head, sizeof(head), "* %d FETCH (BODY[]<6> ", n2);
	expect_literal(&s, head, "b@examp", ")");
	expect(&s, "i OK Fetch completed.");
	snprintf(cmd, sizeof(cmd), "j FETCH %d (ENVELOPE BODYSTRUCTURE)\r\n", n1);
	send_str(&s, cmd);
	expectf(&s,
	        "* %d FETCH (ENVELOPE (NIL \"one\" ((NIL NIL \"a\" \"example.org\")) ((NIL NIL "
	        "\"a\" \"example.org\")) ((NIL NIL \"a\" \"example.org\")) NIL NIL NIL NIL NIL) "
	        "BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 "
	        "1 NIL NIL NIL NIL))",
	        n1);
	expect(&s, "j OK Fetch completed.");
	send_str(&s, "k UID FETCH 3:* UID\r\nl FETCH 1 (FROB)\r\nm UID FROB 1 FLAGS ()\r\n");
	expect(&s, "* 3 FETCH (UID 3)");
	expect(&s, "k OK UID Fetch completed.");
	expect(&s, "l BAD Error in IMAP command FETCH: Invalid arguments.");
	expect(&s, "m BAD Error in IMAP command UID: Invalid arguments.");
	send_str(&s, "n FETCH 1 INTERNALDATE\r\n");
	char *line = get_line(&s);
	assert_non_null(line);
	/* * 1 FETCH (INTERNALDATE "26-Nov-2026 15:38:17 +0000") */
	assert_int_equal(strlen(line),
	                 strlen("* 1 FETCH (INTERNALDATE \"dd-Mon-yyyy hh:mm:ss +0000\")"));
	assert_true(strncmp(line, "* 1 FETCH (INTERNALDATE \"", 25) == 0);
	free(line);
	expect(&s, "n OK Fetch completed.");
	logout(&s);
}

static void test_preread(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	imap_fx_fork(&fx->im, &s, fx->im.root, "p1 NOOP\r\np2 NAMESPACE\r\np3 LOG");
	expect(&s, LOGGED_IN);
	expect(&s, "p1 OK NOOP completed.");
	expect(&s, "* NAMESPACE ((\"\" \"/\")) NIL NIL");
	expect(&s, "p2 OK Namespace completed.");
	send_str(&s, "OUT\r\n");
	expect(&s, "* BYE Logging out");
	expect(&s, "p3 OK Logout completed.");
	assert_null(get_line(&s));
	assert_int_equal(finish(&s), 0);
}

static void test_store_unusable(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	char root[160];
	/* a file where the Maildir should be */
	snprintf(root, sizeof(root), "%s/file", fx->im.dir);
	FILE *f = fopen(root, "w");
	assert_non_null(f);
	fclose(f);
	imap_fx_fork(&fx->im, &s, root, NULL);
	expect(&s, "L1 NO [UNAVAILABLE] Internal error occurred. Refer to server log for more "
	           "information.");
	assert_null(get_line(&s));
	assert_int_equal(finish(&s), 1);
}

static void test_idle_timeout(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	const char conf[] = "imap_idle_timeout = 1s\n";
	fx->im.cfg = config_load_buf("test", conf, strlen(conf), NULL);
	assert_non_null(fx->im.cfg);
	start(fx, &s);
	expect(&s, "* BYE Disconnected for inactivity.");
	assert_null(get_line(&s));
	assert_int_equal(finish(&s), 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_any_state, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_commands, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_autocreate_list, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_list_patterns, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_manage, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_inbox_rename_status, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_select_recent, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_select_empty_close_expunges, setup,
	                                    imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_fetch, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_preread, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_store_unusable, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_idle_timeout, setup, imap_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
