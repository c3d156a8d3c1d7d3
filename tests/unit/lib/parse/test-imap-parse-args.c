/* test-imap-parse-args.c: the pure IMAP argument parsers of lib/parse/imap-parse.h
 * used by the mailstore IMAP session: sequence sets, flag lists, every FETCH
 * attribute and section form, SEARCH/APPEND dates, modified UTF-7 names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "imap-parse.h"

static int seq(const char *s, struct imap_seq_range *r, size_t max, size_t *n)
{
	const char *err = NULL;
	int ret = imap_seqset_parse(s, strlen(s), r, max, n, &err);
	if (ret < 0)
		assert_non_null(err);
	return ret;
}

static void test_seqset(void **state)
{
	(void)state;
	struct imap_seq_range r[8];
	size_t n;
	assert_int_equal(seq("1:*", r, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].lo, 1);
	assert_int_equal(r[0].hi, IMAP_SEQ_STAR);
	assert_int_equal(seq("2,4:7,9,*", r, 8, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(r[1].lo, 4);
	assert_int_equal(r[1].hi, 7);
	assert_int_equal(r[2].lo, 9);
	assert_int_equal(r[3].lo, IMAP_SEQ_STAR);
	assert_int_equal(seq("7:4", r, 8, &n), 0);
	assert_int_equal(r[0].lo, 4);
	assert_int_equal(r[0].hi, 7);
	assert_int_equal(seq("4294967295", r, 8, &n), 0);
	assert_int_equal(r[0].lo, 4294967295u);
	assert_true(r[0].lo != IMAP_SEQ_STAR);
	/* 4294967295 is a number, not '*': 7:4294967295 in a mailbox whose
	 * highest UID is 6 holds nothing (imaptest search-sets) */
	assert_int_equal(seq("7:4294967295", r, 8, &n), 0);
	imap_seqset_resolve(r, n, 6);
	assert_int_equal(r[0].lo, 7);
	assert_int_equal(r[0].hi, 4294967295u);
	assert_false(imap_seqset_contains(r, n, 6));
	assert_true(imap_seqset_contains(r, n, 4294967295u));
	assert_int_equal(seq("7:*", r, 8, &n), 0); /* while 7:* holds the highest */
	imap_seqset_resolve(r, n, 6);
	assert_true(imap_seqset_contains(r, n, 6));
	assert_false(imap_seqset_contains(r, n, 4294967295u));
	assert_int_equal(seq("4294967295:*", r, 8, &n), 0);
	assert_int_equal(r[0].lo, 4294967295u);
	assert_int_equal(r[0].hi, IMAP_SEQ_STAR);
	imap_seqset_resolve(r, n, 4294967295u);
	assert_int_equal(r[0].lo, 4294967295u);
	assert_int_equal(r[0].hi, 4294967295u);
	/* * resolved by the caller: *:5 in a mailbox of 3 is 3:5 */
	assert_int_equal(seq("*:5,10:*", r, 8, &n), 0);
	imap_seqset_resolve(r, n, 3);
	assert_int_equal(r[0].lo, 3);
	assert_int_equal(r[0].hi, 5);
	assert_int_equal(r[1].lo, 3);
	assert_int_equal(r[1].hi, 10);
	assert_true(imap_seqset_contains(r, n, 4));
	assert_true(imap_seqset_contains(r, n, 10));
	assert_false(imap_seqset_contains(r, n, 11));
	assert_false(imap_seqset_contains(r, n, 2));
	static const char *const bad[] = {"",    "0",    "0:5",  "1:0", "4294967296", "1,",
	                                  ",1",  "1,,2", "1:",   ":1",  "1::2",       "01",
	                                  "1 2", "a",    "1:*a", "-1",  "$",          "1.5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(seq(bad[i], r, 8, &n), -1);
	assert_int_equal(seq("1,2,3", r, 2, &n), -1); /* more ranges than room */
}

/* Parse one command and hand back its args (parser kept for the strings). */
static const struct imap_command *cmd(struct imap_parser **ps, const char *s)
{
	*ps = imap_parser_new(NULL);
	size_t used;
	assert_int_equal(imap_parser_feed(*ps, s, strlen(s), &used), IMAP_PARSE_COMMAND);
	return imap_parser_command(*ps);
}

static void test_flags(void **state)
{
	(void)state;
	struct imap_parser *ps;
	const struct imap_command *c = cmd(
	    &ps, "t STORE 1 FLAGS (\\Seen \\answered \\FLAGGED \\Deleted \\Draft $Work "
	         "later $work) \\Seen () (\\Recent) (\\Bogus) (a]b) ((x)) \"q\" (\\Seen\\x)\r\n");
	struct imap_flags f;
	const char *err;
	assert_int_equal(imap_flags_parse(&c->args[2], 0, &f, &err), 0);
	assert_int_equal(f.system, IMAP_FLAG_SEEN | IMAP_FLAG_ANSWERED | IMAP_FLAG_FLAGGED |
	                               IMAP_FLAG_DELETED | IMAP_FLAG_DRAFT);
	assert_int_equal(f.nkeywords, 2); /* keywords compare case-insensitively */
	assert_memory_equal(f.keywords[0], "$Work", 5);
	assert_memory_equal(f.keywords[1], "later", 5);
	assert_int_equal(imap_flags_parse(&c->args[3], 0, &f, &err), 0);
	assert_int_equal(f.system, IMAP_FLAG_SEEN);
	assert_int_equal(imap_flags_parse(&c->args[4], 0, &f, &err), 0);
	assert_int_equal(f.system, 0);
	assert_int_equal(f.nkeywords, 0);
	assert_int_equal(imap_flags_parse(&c->args[5], 0, &f, &err), -1);
	assert_int_equal(imap_flags_parse(&c->args[5], 1, &f, &err), 0);
	assert_int_equal(f.system, IMAP_FLAG_RECENT);
	for (unsigned i = 6; i < c->argc; i++)
		assert_int_equal(imap_flags_parse(&c->args[i], 1, &f, &err), -1);
	imap_parser_free(ps);
}

static int att(const char *s, struct imap_fetch_att *a)
{
	const char *err = NULL;
	int r = imap_fetch_att_parse(s, strlen(s), a, &err);
	if (r < 0)
		assert_non_null(err);
	return r;
}

static void test_fetch_simple(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		enum imap_fetch_kind kind;
	} t[] = {{"FLAGS", IMAP_FETCH_FLAGS},
	         {"internaldate", IMAP_FETCH_INTERNALDATE},
	         {"RFC822", IMAP_FETCH_RFC822},
	         {"RFC822.HEADER", IMAP_FETCH_RFC822_HEADER},
	         {"RFC822.SIZE", IMAP_FETCH_RFC822_SIZE},
	         {"RFC822.TEXT", IMAP_FETCH_RFC822_TEXT},
	         {"ENVELOPE", IMAP_FETCH_ENVELOPE},
	         {"BODY", IMAP_FETCH_BODY},
	         {"BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE},
	         {"UID", IMAP_FETCH_UID}};
	struct imap_fetch_att a;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(att(t[i].name, &a), 0);
		assert_int_equal(a.kind, t[i].kind);
		assert_int_equal(a.raw_len, strlen(t[i].name));
	}
	static const char *const bad[] = {"FLAG",     "RFC822.",   "BODY.PEEK", "BODYX", "",
	                                  "RFC822.X", "ENVELOPES", "UID[]",     "ALL"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(att(bad[i], &a), -1);
}

static void test_fetch_sections(void **state)
{
	(void)state;
	struct imap_fetch_att a;
	assert_int_equal(att("BODY[]", &a), 0);
	assert_int_equal(a.kind, IMAP_FETCH_BODY_SECTION);
	assert_int_equal(a.section, IMAP_FETCH_SECTION_ALL);
	assert_int_equal(a.nparts, 0);
	assert_int_equal(a.section_len, 0);
	assert_false(a.peek);
	assert_false(a.partial);
	assert_int_equal(att("body.peek[HEADER]", &a), 0);
	assert_true(a.peek);
	assert_int_equal(a.section, IMAP_FETCH_SECTION_HEADER);
	assert_int_equal(att("BODY[TEXT]<0.100>", &a), 0);
	assert_int_equal(a.section, IMAP_FETCH_SECTION_TEXT);
	assert_true(a.partial);
	assert_int_equal(a.partial_start, 0);
	assert_int_equal(a.partial_len, 100);
	assert_int_equal(att("BODY[1.2.3]", &a), 0);
	assert_int_equal(a.nparts, 3);
	assert_int_equal(a.parts[0], 1);
	assert_int_equal(a.parts[2], 3);
	assert_int_equal(a.section, IMAP_FETCH_SECTION_ALL);
	assert_int_equal(att("BODY[2.MIME]", &a), 0);
	assert_int_equal(a.nparts, 1);
	assert_int_equal(a.section, IMAP_FETCH_SECTION_MIME);
	assert_int_equal(att("BODY[1.1.HEADER]", &a), 0);
	assert_int_equal(a.section, IMAP_FETCH_SECTION_HEADER);
	assert_int_equal(att("BODY[3.TEXT]<5.4294967295>", &a), 0);
	assert_int_equal(a.section, IMAP_FETCH_SECTION_TEXT);
	assert_int_equal(a.partial_len, 4294967295u);
	assert_int_equal(att("BODY.PEEK[HEADER.FIELDS (From \"To\" x-spam)]", &a), 0);
	assert_int_equal(a.section, IMAP_FETCH_SECTION_HEADER_FIELDS);
	assert_int_equal(a.nfields, 3);
	assert_int_equal(a.field_lens[0], 4);
	assert_memory_equal(a.fields[0], "From", 4);
	assert_int_equal(a.field_lens[1], 2);
	assert_memory_equal(a.fields[1], "To", 2);
	assert_memory_equal(a.fields[2], "x-spam", 6);
	assert_int_equal(att("BODY[1.HEADER.FIELDS.NOT (Received)]<10.20>", &a), 0);
	assert_int_equal(a.section, IMAP_FETCH_SECTION_HEADER_FIELDS_NOT);
	assert_int_equal(a.section_len, strlen("1.HEADER.FIELDS.NOT (Received)"));
	assert_memory_equal(a.section_str, "1.HEADER.FIELDS.NOT (Received)", a.section_len);
	assert_int_equal(a.nparts, 1);
	assert_int_equal(a.nfields, 1);
	assert_int_equal(a.partial_start, 10);
	static const char *const bad[] = {"BODY[",
	                                  "BODY[]x",
	                                  "BODY[MIME]",
	                                  "BODY[0]",
	                                  "BODY[1.]",
	                                  "BODY[01]",
	                                  "BODY[1..2]",
	                                  "BODY[.1]",
	                                  "BODY[1.FOO]",
	                                  "BODY[HEADERS]",
	                                  "BODY[TEXT]<1>",
	                                  "BODY[TEXT]<1.0>",
	                                  "BODY[TEXT]<1.2",
	                                  "BODY[TEXT]<.2>",
	                                  "BODY[TEXT]<4294967296.1>",
	                                  "BODY[HEADER.FIELDS]",
	                                  "BODY[HEADER.FIELDS ()]",
	                                  "BODY[HEADER.FIELDS (A ]",
	                                  "BODY[HEADER.FIELDS (A  B)]",
	                                  "BODY[HEADER.FIELDS (\"A\\\"\")]",
	                                  "BODY.PEEK",
	                                  "BODY.PEEK[]<>",
	                                  "BINARY[]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (att(bad[i], &a) != -1)
			fail_msg("accepted %s", bad[i]);
	}
}

static void test_fetch_args(void **state)
{
	(void)state;
	struct imap_parser *ps;
	const struct imap_command *c = cmd(
	    &ps,
	    "t FETCH 1 all FAST FULL (UID BODY.PEEK[HEADER.FIELDS (A B)]<0.9>) UID () (UID \"x\") "
	    "(FLAGS FLAGS FLAGS FLAGS FLAGS FLAGS FLAGS FLAGS FLAGS) BODY[1] (ALL)\r\n");
	struct imap_fetch_att a[8];
	size_t n;
	const char *err;
	assert_int_equal(imap_fetch_parse(&c->args[1], a, 8, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(a[0].kind, IMAP_FETCH_FLAGS);
	assert_int_equal(a[1].kind, IMAP_FETCH_INTERNALDATE);
	assert_int_equal(a[2].kind, IMAP_FETCH_RFC822_SIZE);
	assert_int_equal(a[3].kind, IMAP_FETCH_ENVELOPE);
	assert_int_equal(imap_fetch_parse(&c->args[2], a, 8, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(imap_fetch_parse(&c->args[3], a, 8, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_int_equal(a[4].kind, IMAP_FETCH_BODY);
	assert_int_equal(imap_fetch_parse(&c->args[3], a, 4, &n, &err), -1);
	assert_int_equal(imap_fetch_parse(&c->args[4], a, 8, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(a[1].kind, IMAP_FETCH_BODY_SECTION);
	assert_int_equal(a[1].nfields, 2);
	assert_int_equal(a[1].partial_len, 9);
	assert_memory_equal(a[1].raw, "BODY.PEEK[HEADER.FIELDS (A B)]<0.9>", a[1].raw_len);
	assert_int_equal(imap_fetch_parse(&c->args[5], a, 8, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(imap_fetch_parse(&c->args[6], a, 8, &n, &err), -1); /* () */
	assert_int_equal(imap_fetch_parse(&c->args[7], a, 8, &n, &err), -1); /* "x" */
	assert_int_equal(imap_fetch_parse(&c->args[8], a, 8, &n, &err), -1); /* too many */
	assert_int_equal(imap_fetch_parse(&c->args[9], a, 8, &n, &err), 0);
	assert_int_equal(a[0].parts[0], 1);
	assert_int_equal(imap_fetch_parse(&c->args[10], a, 8, &n, &err), -1); /* macro in list */
	imap_parser_free(ps);
}

static void test_dates(void **state)
{
	(void)state;
	struct tm tm;
	assert_int_equal(imap_date_parse("1-Feb-1994", 10, &tm), 0);
	assert_int_equal(tm.tm_mday, 1);
	assert_int_equal(tm.tm_mon, 1);
	assert_int_equal(tm.tm_year, 94);
	assert_int_equal(imap_date_parse("29-feb-2024", 11, &tm), 0);
	assert_int_equal(imap_date_parse("31-DEC-9999", 11, &tm), 0);
	static const char *const bad[] = {
	    "29-Feb-2023",  "29-Feb-1900", "31-Apr-2020",  "0-Jan-2020", "32-Jan-2020",
	    "1-Jam-2020",   "1-Jan-20",    "01-Jan-20200", "1 Jan 2020", "-Jan-2020",
	    "123-Jan-2020", "1-Jan-2020 ", "a1-Jan-2020",  "1-Jan-0000", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (imap_date_parse(bad[i], strlen(bad[i]), &tm) != -1)
			fail_msg("accepted %s", bad[i]);
	}
	assert_int_equal(imap_date_parse("29-Feb-2000", 11, &tm), 0);

	time_t t;
	int tz;
	const char *d = "17-Jul-1996 02:44:25 -0700";
	assert_int_equal(imap_datetime_parse(d, strlen(d), &t, &tz), 0);
	assert_int_equal(t, 837596665); /* 1996-07-17 09:44:25 UTC */
	assert_int_equal(tz, -7 * 3600);
	d = " 1-Jan-1970 01:00:00 +0100";
	assert_int_equal(imap_datetime_parse(d, strlen(d), &t, &tz), 0);
	assert_int_equal(t, 0);
	assert_int_equal(tz, 3600);
	d = "1-Jan-1970 00:00:00 +0000";
	assert_int_equal(imap_datetime_parse(d, strlen(d), &t, &tz), 0);
	assert_int_equal(t, 0);
	d = "29-Feb-2024 23:59:59 +0530";
	assert_int_equal(imap_datetime_parse(d, strlen(d), &t, &tz), 0);
	assert_int_equal(t, 1709251199 - 19800);
	static const char *const badt[] = {
	    "17-Jul-1996 02:44:25",        "17-Jul-1996 24:00:00 +0000",
	    "17-Jul-1996 02:60:00 +0000",  "17-Jul-1996 02:44:61 +0000",
	    "17-Jul-1996 02:44:25 0700",   "17-Jul-1996 02:44:25 +07000",
	    "17-Jul-1996 02:44:25 +0760",  "17-Jul-1996 2:44:25 +0700",
	    "17-Jul-1996  02:44:25 +0700", "31-Jun-1996 02:44:25 +0700",
	    "17-Jul-1996 02:44:25 +07a0",  "  7-Jul-1996 02:44:25 +0700"};
	for (size_t i = 0; i < sizeof(badt) / sizeof(badt[0]); i++) {
		if (imap_datetime_parse(badt[i], strlen(badt[i]), &t, &tz) != -1)
			fail_msg("accepted %s", badt[i]);
	}
}

static void mutf7_pair(const char *utf8, const char *mutf7)
{
	struct buf o;
	buf_init(&o, 0);
	assert_int_equal(imap_utf8_to_mutf7(utf8, strlen(utf8), &o), 0);
	buf_append_str(&o, "");
	assert_string_equal(o.data, mutf7);
	buf_reset(&o);
	assert_int_equal(imap_mutf7_to_utf8(mutf7, strlen(mutf7), &o), 0);
	buf_append_str(&o, "");
	assert_string_equal(o.data, utf8);
	buf_free(&o);
}

static void test_mutf7(void **state)
{
	(void)state;
	mutf7_pair("INBOX", "INBOX");
	mutf7_pair("", "");
	mutf7_pair("R&D", "R&-D");
	mutf7_pair("&&", "&-&-");
	mutf7_pair("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	           "~peter/mail/&U,BTFw-/&ZeVnLIqe-"); /* the RFC 3501 example */
	mutf7_pair("Entw\xc3\xbc rfe", "Entw&APw- rfe");
	mutf7_pair("\xc3\xa9t\xc3\xa9", "&AOk-t&AOk-");
	mutf7_pair("\xf0\x9f\x93\xa7 mail", "&2D3c5w- mail"); /* surrogate pair */
	mutf7_pair("\xc3\xa9\xc3\xa8\xc3\xa0", "&AOkA6ADg-");
	static const char *const bad[] = {
	    "&",          /* unterminated */
	    "&AOk",       /* no '-' */
	    "&AOl-",      /* non-zero padding bits */
	    "&AO-",       /* partial unit */
	    "&AOkA-",     /* leftover 6+ bits */
	    "&AGE-",      /* 'a' must be sent directly */
	    "&AAA-",      /* NUL */
	    "&2D3-",      /* lone high surrogate */
	    "&3KcA6Q-",   /* lone low surrogate */
	    "&AO!-",      /* not base64 */
	    "&AOk=-",     /* '=' padding is not allowed */
	    "a\x01",      /* control */
	    "caf\xc3\xa9" /* 8-bit must be encoded */
	};
	struct buf o;
	buf_init(&o, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&o);
		if (imap_mutf7_to_utf8(bad[i], strlen(bad[i]), &o) != -1)
			fail_msg("decoded %s", bad[i]);
	}
	static const char *const bad8[] = {"\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	                                   "\xff", "a\x01",    "\xe2\x82",     "\x80"};
	for (size_t i = 0; i < sizeof(bad8) / sizeof(bad8[0]); i++) {
		buf_reset(&o);
		if (imap_utf8_to_mutf7(bad8[i], strlen(bad8[i]), &o) != -1)
			fail_msg("encoded bad UTF-8 %zu", i);
	}
	buf_free(&o);
	assert_true(imap_mailbox_is_inbox("iNbOx", 5));
	assert_false(imap_mailbox_is_inbox("INBOX.x", 7));
	assert_false(imap_mailbox_is_inbox("INBO", 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seqset),       cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_fetch_simple), cmocka_unit_test(test_fetch_sections),
	    cmocka_unit_test(test_fetch_args),   cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_mutf7),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
