/* test-imap-search-session.c: SEARCH and UID SEARCH in the IMAP session
 * (forked child over a socketpair, as test-imap-session.c) against five
 * delivered messages: plain, multipart with a base64 text part, a
 * quoted-printable Latin-1 body, RFC 2047 subjects in UTF-8 and ISO-8859-1,
 * attachments; flags, keywords, file mtimes as internal dates. Every key,
 * OR/NOT nesting, CHARSET with a literal, BADCHARSET, sequence and UID
 * sets, sizes, \Recent across sessions, a message expunged meanwhile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
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

#define NMSG 5

static const char m1[] = "From: Alice Example <alice@example.org>\n"
                         "To: bob@example.com\n"
                         "Cc: carol@example.net\n"
                         "Subject: Lunch plans\n"
                         "Date: Tue, 1 Feb 1994 10:00:00 +0000\n"
                         "Message-ID: <m1@example.org>\n"
                         "\n"
                         "Shall we meet at noon?\n";

static const char m2[] = "From: bob@example.com\r\n"
                         "To: alice@example.org\r\n"
                         "Bcc: <dave (the boss)@ (corp) example.org>\r\n"
                         "Subject: Report\r\n"
                         "Date: Fri, 31 Dec 1999 23:59:00 -0800\r\n"
                         "X-Priority: 1\r\n"
                         "MIME-Version: 1.0\r\n"
                         "Content-Type: multipart/mixed; boundary=\"XX\"\r\n"
                         "\r\n"
                         "--XX\r\n"
                         "Content-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: base64\r\n"
                         "\r\n"
                         "VGhlIHNlY3JldCB3b3JkIGlz\r\n"
                         "IHh5bG9waG9uZS4gR3LDvMOfZSEK\r\n"
                         "--XX\r\n"
                         "Content-Type: application/octet-stream; name=\"z.bin\"\r\n"
                         "Content-Transfer-Encoding: base64\r\n"
                         "\r\n"
                         "emVicmEgc3RyaXBlcw==\r\n"
                         "--XX--\r\n";

static const char m3[] = "From: carol@example.net\n"
                         "To: alice@example.org\n"
                         "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\n"
                         "Date: 1 Mar 2000 08:00:00 +0100\n"
                         "Content-Type: text/plain; charset=iso-8859-1\n"
                         "Content-Transfer-Encoding: quoted-printable\n"
                         "\n"
                         "Caf=E9 cr=E8me br=FBl=E9e, soft=\n"
                         "break here.\n";

static const char m4[] = "From: =?utf-8?q?J=C3=BCrgen?= <j@example.de>\n"
                         "To: bob@example.com\n"
                         "Subject: =?ISO-8859-1?Q?Caf=E9_au_lait?=\n"
                         "X-Spam: YES\n"
                         "\n"
                         "nothing here\n";

static const char m5[] = "From: Eve <eve@example.com>\n"
                         "To: alice@example.org\n"
                         "Subject: Invoice attached\n"
                         "Date: Thu, 29 Feb 2024 09:00:00 +0000\n"
                         "MIME-Version: 1.0\n"
                         "Content-Type: multipart/mixed; boundary=b1\n"
                         "\n"
                         "--b1\n"
                         "Content-Type: text/html; charset=us-ascii\n"
                         "Content-Transfer-Encoding: quoted-printable\n"
                         "\n"
                         "<p>Hello HTML =3D fine</p>\n"
                         "--b1\n"
                         "Content-Type: application/pdf; name=inv.pdf\n"
                         "Content-Disposition: attachment; filename=inv.pdf\n"
                         "Content-Transfer-Encoding: base64\n"
                         "\n"
                         "JVBERiBzZWNyZXRwZGZ3b3Jk\n"
                         "--b1--\n";

static const char *const msgs[NMSG] = {m1, m2, m3, m4, m5};
/* internal dates (UTC) */
static const time_t mtimes[NMSG] = {
    1057060800, /* 2003-07-01 12:00:00 */
    1057103999, /* 2003-07-01 23:59:59 */
    1057104000, /* 2003-07-02 00:00:00 */
    946634400,  /* 1999-12-31 10:00:00 */
    1709182800, /* 2024-02-29 05:00:00 */
};

struct fx {
	struct imap_fx im;  /* first: imap_fx_teardown frees fx */
	unsigned seq[NMSG]; /* by message number 1..5 (index 0..4) */
	unsigned uid[NMSG];
	unsigned long vsize[NMSG];
};

/* Set the mtime of the file in new/ whose name starts with base. */
static int set_mtime(const char *root, const char *base, time_t t)
{
	char dir[256], path[512];
	snprintf(dir, sizeof(dir), "%s/new", root);
	DIR *d = opendir(dir);
	struct dirent *e;
	int r = -1;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, base, strlen(base)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct timespec ts[2] = {{.tv_sec = t}, {.tv_sec = t}};
		r = utimensat(AT_FDCWD, path, ts, 0);
	}
	if (d != NULL)
		closedir(d);
	return r;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *err = NULL;
	if (fx == NULL || imap_fx_init(&fx->im, "isearch") < 0)
		return -1;
	char *bases[NMSG];
	for (int i = 0; i < NMSG; i++) {
		if (maildir_deliver(&fx->im.st, "INBOX", msgs[i], strlen(msgs[i]), &bases[i],
		                    &err) < 0 ||
		    set_mtime(fx->im.root, bases[i], mtimes[i]) < 0)
			return -1;
		fx->vsize[i] = (unsigned long)maildir_vsize(msgs[i], strlen(msgs[i]));
	}
	struct maildir_mailbox *box;
	if (maildir_mailbox_open(&fx->im.st, "INBOX", 0, &box, &err) < 0 || box->count != NMSG)
		return -1;
	int work = maildir_keyword_index(box, "$Work", 1, &err);
	const unsigned flags[NMSG] = {
	    MAILDIR_FLAG_SEEN | MAILDIR_FLAG_REPLIED, MAILDIR_FLAG_FLAGGED,
	    MAILDIR_FLAG_TRASHED | MAILDIR_FLAG_DRAFT, MAILDIR_FLAG_SEEN, 0};
	for (int i = 0; i < NMSG; i++) {
		struct maildir_msg *m = maildir_mailbox_find_base(box, bases[i]);
		if (m == NULL || work < 0)
			return -1;
		fx->seq[i] = (unsigned)(m - box->msgs) + 1;
		fx->uid[i] = m->uid;
		if (maildir_msg_set_flags(box, m->uid, flags[i], i == 1 ? 1u << work : 0, &err) !=
		    0)
			return -1;
		free(bases[i]);
	}
	maildir_mailbox_close(box);
	*state = fx;
	return 0;
}

static void start(struct fx *fx, struct sess *s)
{
	imap_fx_fork(&fx->im, s, fx->im.root, NULL);
	char *line = get_line(s);
	assert_non_null(line);
	assert_true(strncmp(line, "L1 OK ", 6) == 0);
	free(line);
	send_str(s, "s SELECT INBOX\r\n");
	for (;;) {
		line = get_line(s);
		assert_non_null(line);
		int done = strncmp(line, "s OK", 4) == 0;
		free(line);
		if (done)
			break;
	}
}

/* Send "tag [UID ]SEARCH crit" and expect the ids (message numbers 1..5,
 * as a string like "135") in ascending sequence (or UID) order. */
static void search_as(struct fx *fx, struct sess *s, bool uid, const char *crit, const char *ids)
{
	char cmd[1024], want[256];
	snprintf(cmd, sizeof(cmd), "t %sSEARCH %s\r\n", uid ? "UID " : "", crit);
	send_str(s, cmd);
	size_t n = strlen("* SEARCH");
	memcpy(want, "* SEARCH", n + 1);
	/* the numbers of the selected messages, ascending */
	const unsigned *num = uid ? fx->uid : fx->seq;
	unsigned last = 0;
	for (;;) {
		unsigned best = 0;
		for (const char *p = ids; *p != '\0'; p++) {
			unsigned v = num[*p - '1'];
			if (v > last && (best == 0 || v < best))
				best = v;
		}
		if (best == 0)
			break;
		n += (size_t)snprintf(want + n, sizeof(want) - n, " %u", best);
		last = best;
	}
	char *line = get_line(s);
	assert_non_null(line);
	if (strcmp(line, want) != 0)
		fail_msg("%s: got \"%s\" want \"%s\"", crit, line, want);
	free(line);
	expect(s, uid ? "t OK UID Search completed." : "t OK Search completed.");
}

static void search(struct fx *fx, struct sess *s, const char *crit, const char *ids)
{
	search_as(fx, s, false, crit, ids);
}

static void test_flags(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	search(fx, &s, "ALL", "12345");
	search(fx, &s, "ANSWERED", "1");
	search(fx, &s, "UNANSWERED", "2345");
	search(fx, &s, "SEEN", "14");
	search(fx, &s, "unseen", "235");
	search(fx, &s, "FLAGGED", "2");
	search(fx, &s, "UNFLAGGED", "1345");
	search(fx, &s, "DELETED", "3");
	search(fx, &s, "UNDELETED", "1245");
	search(fx, &s, "DRAFT", "3");
	search(fx, &s, "UNDRAFT", "1245");
	search(fx, &s, "KEYWORD $Work", "2");
	search(fx, &s, "UNKEYWORD $Work", "1345");
	search(fx, &s, "KEYWORD $Nosuch", "");
	search(fx, &s, "UNKEYWORD $Nosuch", "12345");
	/* this session took \Recent for all */
	search(fx, &s, "RECENT", "12345");
	search(fx, &s, "NEW", "235");
	search(fx, &s, "OLD", "");
	logout(&s);
	start(fx, &s);
	search(fx, &s, "RECENT", "");
	search(fx, &s, "NEW", "");
	search(fx, &s, "OLD", "12345");
	logout(&s);
}

static void test_headers(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	search(fx, &s, "FROM alice", "1");
	search(fx, &s, "FROM \"ALICE example\"", "1");
	search(fx, &s, "FROM example.com", "25");
	search(fx, &s, "FROM \"J\xc3\xbcrgen\"", "4");
	search(fx, &s, "FROM \"J\xc3\x9cRGEN\"", "4");
	search(fx, &s, "TO alice@example.org", "235");
	search(fx, &s, "TO bob", "14");
	search(fx, &s, "CC carol", "1");
	search(fx, &s, "CC alice", "");
	search(fx, &s, "BCC dave", "2");
	/* addresses match in their normal form: comments gone, as Dovecot */
	search(fx, &s, "BCC dave@example.org", "2");
	search(fx, &s, "BCC boss", "");
	search(fx, &s, "FROM \"\\\"Alice Example\\\" <alice@example.org>\"", "1");
	search(fx, &s, "TO \"bob@example.com\"", "14");
	search(fx, &s, "SUBJECT \"caf\xc3\xa9\"", "4");
	search(fx, &s, "SUBJECT \"CAF\xc3\x89 AU\"", "4");
	search(fx, &s,
	       "SUBJECT \"gr\xc3\xbc\xc3\x9f"
	       "e\"",
	       "3");
	search(fx, &s, "SUBJECT \"k\xc3\xb6ln\"", "3");
	search(fx, &s, "SUBJECT report", "2");
	search(fx, &s, "SUBJECT \"\"", "12345");
	search(fx, &s, "HEADER X-Spam \"\"", "4");
	search(fx, &s, "HEADER x-priority 1", "2");
	search(fx, &s, "HEADER Message-ID \"\"", "1");
	search(fx, &s, "HEADER X-None \"\"", "");
	search(fx, &s, "HEADER Content-Type multipart", "25");
	logout(&s);
}

static void test_body_text(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	search(fx, &s, "BODY xylophone", "2");
	search(fx, &s,
	       "BODY \"gr\xc3\xbc\xc3\x9f"
	       "e!\"",
	       "2");
	search(fx, &s, "BODY zebra", "");         /* octet-stream attachment */
	search(fx, &s, "BODY secretpdfword", ""); /* pdf attachment */
	search(fx, &s,
	       "BODY \"cr\xc3\xa8me BR\xc3\x9bL\xc3\x89"
	       "E\"",
	       "3");
	search(fx, &s, "BODY softbreak", "3");
	search(fx, &s, "BODY \"caf\xc3\xa9\"", "3");
	search(fx, &s, "BODY \"hello html = fine\"", "5");
	search(fx, &s, "BODY Subject", "");
	search(fx, &s, "BODY noon", "1");
	search(fx, &s, "TEXT \"caf\xc3\xa9\"", "34");
	search(fx, &s, "TEXT \"subject: REPORT\"", "2");
	search(fx, &s, "TEXT noon", "1");
	search(fx, &s, "TEXT alice", "1235");
	search(fx, &s, "TEXT \"\"", "12345");
	/* CHARSET with a synchronising literal holding UTF-8 */
	send_str(&s, "t SEARCH CHARSET UTF-8 TEXT {5}\r\n");
	expect(&s, "+ OK");
	send_str(&s, "K\xc3\x96LN\r\n");
	char want[64];
	snprintf(want, sizeof(want), "* SEARCH %u", fx->seq[2]);
	expect(&s, want);
	expect(&s, "t OK Search completed.");
	search(fx, &s, "CHARSET us-ascii BODY {9+}\r\nxylophone", "2");
	send_str(&s, "t SEARCH CHARSET ISO-8859-1 BODY x\r\n");
	expect(&s, "t NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
	logout(&s);
}

static void test_dates_sizes(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	search(fx, &s, "BEFORE 2-Jul-2003", "124");
	search(fx, &s, "ON 1-Jul-2003", "12");
	search(fx, &s, "SINCE 2-Jul-2003", "35");
	search(fx, &s, "ON 29-Feb-2024", "5");
	search(fx, &s, "SINCE 1-Jan-2030", "");
	search(fx, &s, "SENTBEFORE 1-Mar-2000", "124"); /* no Date: counts as 1970 */
	search(fx, &s, "SENTON 31-Dec-1999", "2");      /* the day as written */
	search(fx, &s, "SENTON 1-Jan-1970", "4");
	search(fx, &s, "SENTSINCE 1-Mar-2000", "35");
	search(fx, &s, "SENTON 1-Feb-1994", "1");
	/* sizes: RFC822.SIZE, every bare LF counted as CRLF */
	for (int t = 0; t < NMSG; t++) {
		char crit[64], larger[8] = "", smaller[8] = "", equal[8] = "";
		for (int i = 0; i < NMSG; i++) {
			char id[2] = {(char)('1' + i), 0};
			strcat(fx->vsize[i] > fx->vsize[t]   ? larger
			       : fx->vsize[i] < fx->vsize[t] ? smaller
			                                     : equal,
			       id);
		}
		snprintf(crit, sizeof(crit), "LARGER %lu", fx->vsize[t]);
		search(fx, &s, crit, larger);
		snprintf(crit, sizeof(crit), "SMALLER %lu", fx->vsize[t]);
		search(fx, &s, crit, smaller);
		snprintf(crit, sizeof(crit), "NOT LARGER %lu NOT SMALLER %lu", fx->vsize[t],
		         fx->vsize[t]);
		search(fx, &s, crit, equal);
	}
	search(fx, &s, "LARGER 0", "12345");
	search(fx, &s, "SMALLER 1", "");
	logout(&s);
}

/* The id (1..5) with sequence number n. */
static char id_of_seq(const struct fx *fx, unsigned n)
{
	for (int i = 0; i < NMSG; i++) {
		if (fx->seq[i] == n)
			return (char)('1' + i);
	}
	return '?';
}

static void test_sets_and_nesting(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	char ids[8] = {id_of_seq(fx, 2), id_of_seq(fx, 3), 0};
	search(fx, &s, "2:3", ids);
	ids[0] = id_of_seq(fx, 5), ids[1] = 0;
	search(fx, &s, "*", ids);
	ids[0] = id_of_seq(fx, 1), ids[1] = id_of_seq(fx, 5);
	search(fx, &s, "1,5:*", ids);
	search(fx, &s, "6:7", "");
	char crit[64];
	snprintf(crit, sizeof(crit), "UID %u", fx->uid[2]);
	search(fx, &s, crit, "3");
	search_as(fx, &s, true, crit, "3");
	/* UID sets by what the UIDs are: 1's, and 4's and above */
	char want[8] = "", top[2] = "1";
	for (int i = 0; i < NMSG; i++) {
		char id[2] = {(char)('1' + i), 0};
		if (fx->uid[i] == fx->uid[0] || fx->uid[i] >= fx->uid[3])
			strcat(want, id);
		if (fx->uid[i] > fx->uid[top[0] - '1'])
			top[0] = id[0];
	}
	snprintf(crit, sizeof(crit), "UID %u,%u:*", fx->uid[0], fx->uid[3]);
	search_as(fx, &s, true, crit, want);
	search_as(fx, &s, true, "ALL", "12345");
	search_as(fx, &s, true, "SEEN", "14");
	search_as(fx, &s, true, "UID *", top);
	char last[2] = {id_of_seq(fx, 5), 0};
	search_as(fx, &s, true, "*", last);
	search(fx, &s, "OR SEEN FLAGGED", "124");
	search(fx, &s, "NOT OR SEEN FLAGGED", "35");
	search(fx, &s, "OR (SEEN FROM alice) (DELETED DRAFT)", "13");
	search(fx, &s, "NOT (UNSEEN NOT FROM eve)", "145");
	search(fx, &s, "OR OR BODY xylophone SUBJECT lunch HEADER X-Spam yes", "124");
	search(fx, &s, "(OR NEW SEEN) NOT (OR DELETED BODY xylophone) SINCE 1-Jan-2000", "15");
	search(fx, &s, "seen NOT NOT answered", "1");
	/* errors */
	send_str(&s, "t SEARCH FROBNICATE\r\n");
	expect(&s, "t BAD Error in IMAP command SEARCH: Unknown argument FROBNICATE");
	send_str(&s, "t UID SEARCH\r\n");
	expect(&s, "t BAD Error in IMAP command UID SEARCH: Missing search parameters");
	send_str(&s, "t SEARCH BEFORE 31-Jun-2003\r\n");
	expect(&s, "t BAD Error in IMAP command SEARCH: Invalid search date parameter");
	send_str(&s, "t SEARCH OR SEEN\r\n");
	expect(&s, "t BAD Error in IMAP command SEARCH: Missing parameter for OR");
	logout(&s);
}

static void test_expunged_in_view(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	/* another session expunges message 2: still in this view, no match */
	struct maildir_mailbox *box;
	const char *err;
	assert_int_equal(maildir_mailbox_open(&fx->im.st, "INBOX", 0, &box, &err), 0);
	uint32_t gone = fx->uid[1];
	assert_int_equal(maildir_mailbox_expunge(box, &gone, 1, &err), 1);
	maildir_mailbox_close(box);
	search(fx, &s, "ALL", "1345");
	search(fx, &s, "FLAGGED", "");
	search(fx, &s, "NOT FLAGGED", "1345");
	search(fx, &s, "NOT BODY xylophone", "1345");
	/* UID SEARCH may report the EXPUNGE (RFC 3501 7.4.1) before its OK */
	send_str(&s, "t UID SEARCH UNSEEN\r\n");
	char want[64];
	snprintf(want, sizeof(want), "* SEARCH %u %u",
	         fx->uid[2] < fx->uid[4] ? fx->uid[2] : fx->uid[4],
	         fx->uid[2] < fx->uid[4] ? fx->uid[4] : fx->uid[2]);
	expect(&s, want);
	snprintf(want, sizeof(want), "* %u EXPUNGE", fx->seq[1]);
	expect(&s, want);
	expect(&s, "t OK UID Search completed.");
	logout(&s);
}

static void test_not_selected(void **state)
{
	struct fx *fx = *state;
	struct sess s;
	start(fx, &s);
	send_str(&s, "u UNSELECT\r\n");
	expect(&s, "u OK Unselect completed.");
	send_str(&s, "t SEARCH ALL\r\n");
	expect(&s, "t BAD No mailbox selected.");
	logout(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_flags, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_headers, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_body_text, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_dates_sizes, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_sets_and_nesting, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_expunged_in_view, setup, imap_fx_teardown),
	    cmocka_unit_test_setup_teardown(test_not_selected, setup, imap_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
