/* test-alias-parse.c: the aliases(5), virtual(5) and .forward parsers: a
 * Sendmail-style /etc/aliases with every kind of target, continuation and
 * comment lines, every problem reported with its line while good entries
 * stay, and the refusals that keep commands and files out of virtual maps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alias-parse.h"

static int parse(const char *text, enum alias_format fmt, struct alias_list *l)
{
	memset(l, 0, sizeof(*l));
	return alias_parse(text, strlen(text), fmt, l);
}

static const struct alias_entry *must_find(const struct alias_list *l, const char *key)
{
	const struct alias_entry *e = alias_list_find(l, key);
	if (e == NULL)
		fail_msg("no entry '%s'", key);
	return e;
}

static void test_debian_aliases(void **state)
{
	(void)state;
	const char *text = "# /etc/aliases\n"
	                   "mailer-daemon: postmaster\n"
	                   "postmaster: root\n"
	                   "Root:\tAlice\n"
	                   "\n"
	                   "staff: alice, bob,\n"
	                   "  carol@example.net\n"
	                   "# a comment between continuation lines\n"
	                   "\t<dave@example.net>\n"
	                   "log: /var/log/mail-copy, \"|/usr/bin/logger -t mail\"\n"
	                   "list: :include:/etc/mail/list.txt\r\n"
	                   "\"quoted name\": alice\n";
	struct alias_list l;
	assert_int_equal(parse(text, ALIAS_FORMAT_ALIASES, &l), 0);
	assert_int_equal(l.n, 7);
	const struct alias_entry *e = must_find(&l, "root");
	assert_int_equal(e->line, 4);
	assert_int_equal(e->ntargets, 1);
	assert_string_equal(e->targets[0].value, "Alice");
	e = must_find(&l, "staff");
	assert_int_equal(e->line, 6);
	assert_int_equal(e->ntargets, 4);
	assert_string_equal(e->targets[2].value, "carol@example.net");
	assert_string_equal(e->targets[3].value, "dave@example.net");
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(e->targets[i].kind, ALIAS_ADDRESS);
	e = must_find(&l, "log");
	assert_int_equal(e->targets[0].kind, ALIAS_FILE);
	assert_string_equal(e->targets[0].value, "/var/log/mail-copy");
	assert_int_equal(e->targets[1].kind, ALIAS_PIPE);
	assert_string_equal(e->targets[1].value, "/usr/bin/logger -t mail");
	e = must_find(&l, "list");
	assert_int_equal(e->targets[0].kind, ALIAS_INCLUDE);
	assert_string_equal(e->targets[0].value, "/etc/mail/list.txt");
	must_find(&l, "quoted name");
	alias_list_free(&l);
}

static void test_every_problem_with_its_line(void **state)
{
	(void)state;
	const char *text = "good: alice\n"            /* 1 */
	                   "nocolon alice\n"          /* 2 */
	                   "  orphan\n"               /* 3: continues line 2 */
	                   ": alice\n"                /* 4 */
	                   "empty:\n"                 /* 5 */
	                   "q: \"|/bin/x\n"           /* 6 */
	                   "good: bob\n"              /* 7: duplicate */
	                   "at@sign: alice\n"         /* 8 */
	                   "bad: a@b@c\n"             /* 9 */
	                   "ctl: al\x01ice\n"         /* 10 */
	                   "inc: :include:relative\n" /* 11 */
	                   "pipe: |\n"                /* 12 */
	                   "fine: bob\n";             /* 13 */
	struct alias_list l;
	assert_int_equal(parse(text, ALIAS_FORMAT_ALIASES, &l), 1);
	static const unsigned lines[] = {2, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	assert_int_equal(l.nproblems, sizeof(lines) / sizeof(lines[0]));
	for (size_t i = 0; i < l.nproblems; i++)
		assert_int_equal(l.problems[i].line, lines[i]);
	assert_non_null(strstr(l.problems[0].text, "missing ':'"));
	assert_non_null(strstr(l.problems[4].text, "duplicate"));
	assert_non_null(strstr(l.problems[4].text, "line 1"));
	/* the good entries stay; the first "good" wins */
	assert_int_equal(l.n, 2);
	assert_string_equal(must_find(&l, "good")->targets[0].value, "alice");
	must_find(&l, "fine");
	alias_list_free(&l);

	assert_int_equal(parse("  leading: x\nok: y\n", ALIAS_FORMAT_ALIASES, &l), 1);
	assert_int_equal(l.problems[0].line, 1);
	assert_non_null(strstr(l.problems[0].text, "continuation"));
	assert_int_equal(l.n, 1);
	alias_list_free(&l);
}

static void test_virtual_map(void **state)
{
	(void)state;
	const char *text = "example.com\tanything\n"
	                   "info@example.com  alice, bob@example.org\n"
	                   "@example.com      catchall\n"
	                   "Sales@Example.COM carol\n";
	struct alias_list l;
	assert_int_equal(parse(text, ALIAS_FORMAT_VIRTUAL, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(must_find(&l, "example.com")->ntargets, 0);
	assert_int_equal(must_find(&l, "info@example.com")->ntargets, 2);
	assert_string_equal(must_find(&l, "@example.com")->targets[0].value, "catchall");
	must_find(&l, "sales@example.com");
	alias_list_free(&l);
}

static void test_virtual_refuses_commands_and_files(void **state)
{
	(void)state;
	const char *text = "a@example.com \"|/bin/sh\"\n"
	                   "b@example.com /etc/passwd\n"
	                   "c@example.com :include:/etc/x\n"
	                   "@ nobody\n"
	                   "d@example.com\n"
	                   "e@example.com ok@example.org\n";
	struct alias_list l;
	assert_int_equal(parse(text, ALIAS_FORMAT_VIRTUAL, &l), 1);
	assert_int_equal(l.nproblems, 5);
	for (size_t i = 0; i < 3; i++)
		assert_non_null(strstr(l.problems[i].text, "not allowed in a virtual map"));
	assert_int_equal(l.n, 1);
	must_find(&l, "e@example.com");
	alias_list_free(&l);
}

static void test_forward_file(void **state)
{
	(void)state;
	struct alias_list l;
	/* "\alice": a copy into alice's own mailbox, no further expansion */
	assert_int_equal(
	    parse("# forward\n\\alice, me@elsewhere.example\n", ALIAS_FORMAT_TARGETS, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.entries[0].ntargets, 2);
	assert_true(l.entries[0].targets[0].direct);
	assert_string_equal(l.entries[0].targets[0].value, "alice");
	assert_false(l.entries[0].targets[1].direct);
	assert_int_equal(l.entries[0].line, 2);
	alias_list_free(&l);
	assert_int_equal(parse("\\|/bin/sh\n", ALIAS_FORMAT_TARGETS, &l), 1);
	assert_int_equal(l.n, 0);
	alias_list_free(&l);
	assert_int_equal(parse("me@elsewhere.example,\nalice \"|/usr/bin/procmail -f-\"\n",
	                       ALIAS_FORMAT_TARGETS, &l),
	                 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.entries[0].key, "");
	assert_int_equal(l.entries[0].ntargets, 3);
	assert_int_equal(l.entries[0].targets[2].kind, ALIAS_PIPE);
	assert_string_equal(l.entries[0].targets[2].value, "/usr/bin/procmail -f-");
	alias_list_free(&l);
	/* a problem anywhere delivers to nobody */
	assert_int_equal(parse("a@b.example\nx@y@z\n", ALIAS_FORMAT_TARGETS, &l), 1);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.problems[0].line, 2);
	alias_list_free(&l);
	assert_int_equal(parse("\n# nothing\n", ALIAS_FORMAT_TARGETS, &l), 0);
	assert_int_equal(l.n, 0);
	alias_list_free(&l);
}

static void test_nul_and_newline_never_reach_a_target(void **state)
{
	(void)state;
	const char text[] = "a: \"|/bin/echo\0x\"\nb: c\rd\n";
	struct alias_list l = {0};
	assert_int_equal(alias_parse(text, sizeof(text) - 1, ALIAS_FORMAT_ALIASES, &l), 1);
	assert_int_equal(l.nproblems, 2);
	assert_int_equal(l.n, 0);
	alias_list_free(&l);
}

static void test_many_entries(void **state)
{
	(void)state;
	char *text = malloc(20000 * 24);
	assert_non_null(text);
	size_t n = 0;
	for (int i = 0; i < 20000; i++)
		n += (size_t)sprintf(text + n, "u%d: t%d\n", i, i);
	n += (size_t)sprintf(text + n, "u7: dup\n");
	struct alias_list l = {0};
	assert_int_equal(alias_parse(text, n, ALIAS_FORMAT_ALIASES, &l), 1);
	assert_int_equal(l.n, 20000);
	assert_int_equal(l.nproblems, 1);
	assert_int_equal(l.problems[0].line, 20001);
	alias_list_free(&l);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_debian_aliases),
	    cmocka_unit_test(test_every_problem_with_its_line),
	    cmocka_unit_test(test_virtual_map),
	    cmocka_unit_test(test_virtual_refuses_commands_and_files),
	    cmocka_unit_test(test_forward_file),
	    cmocka_unit_test(test_nul_and_newline_never_reach_a_target),
	    cmocka_unit_test(test_many_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
