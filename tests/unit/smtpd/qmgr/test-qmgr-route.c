/* test-qmgr-route.c: the queue manager's pure decisions (smtpd/qmgr-
 * route.c): local or remote routing (mydomains, no domain, postmaster),
 * grouping recipients into jobs within the per-destination concurrency,
 * the retry back-off, the lifetime check and DSN status codes from replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "qmgr-route.h"

static const char *const doms[] = {"example.org", "Mail.Example.NET"};
static const struct qmgr_route_cfg cfg = {doms, 2, "root"};

static void test_route(void **state)
{
	(void)state;
	struct qmgr_dest d;
	assert_int_equal(qmgr_route(&cfg, "alice@example.org", &d), 0);
	assert_true(d.local);
	assert_string_equal(d.lmtp_rcpt, "alice@example.org");
	assert_string_equal(d.domain, "");
	assert_int_equal(qmgr_route(&cfg, "bob@mail.example.net", &d), 0);
	assert_true(d.local);
	assert_int_equal(qmgr_route(&cfg, "carol", &d), 0);
	assert_true(d.local);
	assert_string_equal(d.lmtp_rcpt, "carol");
	assert_int_equal(qmgr_route(&cfg, "dave@Remote.Example.COM", &d), 0);
	assert_false(d.local);
	assert_string_equal(d.domain, "remote.example.com");
	/* a subdomain of a local domain is not local */
	assert_int_equal(qmgr_route(&cfg, "x@sub.example.org", &d), 0);
	assert_false(d.local);
	assert_string_equal(d.domain, "sub.example.org");
	/* postmaster, any case, local only, maps to postmaster_user */
	assert_int_equal(qmgr_route(&cfg, "PostMaster@example.org", &d), 0);
	assert_true(d.local);
	assert_string_equal(d.lmtp_rcpt, "root");
	assert_int_equal(qmgr_route(&cfg, "postmaster", &d), 0);
	assert_string_equal(d.lmtp_rcpt, "root");
	assert_int_equal(qmgr_route(&cfg, "postmaster@remote.example", &d), 0);
	assert_false(d.local);
	/* bad addresses */
	assert_int_equal(qmgr_route(&cfg, "", &d), -1);
	assert_int_equal(qmgr_route(&cfg, "a b@example.org", &d), -1);
	assert_int_equal(qmgr_route(&cfg, "<x@example.org>", &d), -1);
	assert_int_equal(qmgr_route(&cfg, "x@-bad-.example", &d), -1);
}

static struct qmgr_dest remote(const char *dom)
{
	struct qmgr_dest d;
	memset(&d, 0, sizeof(d));
	strcpy(d.domain, dom);
	return d;
}

static void test_plan_remote(void **state)
{
	(void)state;
	struct qmgr_plan p = {NULL, 0};
	int msgs[30];
	struct qmgr_dest a = remote("a.example"), b = remote("b.example");
	/* 25 messages with two recipients each at a.example: 20 + 5 */
	for (int i = 0; i < 25; i++) {
		assert_int_equal(qmgr_plan_add(&p, &msgs[i], 0, &a, 0, 5), 1);
		assert_int_equal(qmgr_plan_add(&p, &msgs[i], 3, &a, 0, 5), 1);
	}
	assert_int_equal(p.njobs, 2);
	assert_int_equal(p.jobs->nmsg, QMGR_JOB_MSGS);
	assert_int_equal(p.jobs->next->nmsg, 5);
	assert_ptr_equal(p.jobs->msgs[0].msg, &msgs[0]);
	assert_int_equal(p.jobs->msgs[0].nrcpt, 2);
	assert_int_equal(p.jobs->msgs[0].rcpt[1], 3);
	assert_int_equal(p.jobs->msgs[0].fd, -1);
	assert_false(p.jobs->local);
	assert_string_equal(p.jobs->next->domain, "a.example");
	/* another domain: a job of its own */
	assert_int_equal(qmgr_plan_add(&p, &msgs[0], 1, &b, 0, 5), 1);
	assert_int_equal(p.njobs, 3);
	qmgr_plan_free(&p);
	assert_null(p.jobs);
}

static void test_plan_concurrency(void **state)
{
	(void)state;
	struct qmgr_plan p = {NULL, 0};
	int msgs[50];
	struct qmgr_dest a = remote("a.example");
	/* 2 jobs already running, limit 3: one more job (20 messages) */
	for (int i = 0; i < 20; i++)
		assert_int_equal(qmgr_plan_add(&p, &msgs[i], 0, &a, 2, 3), 1);
	assert_int_equal(qmgr_plan_add(&p, &msgs[20], 0, &a, 2, 3), 0);
	assert_int_equal(p.njobs, 1);
	/* limit reached by running jobs alone */
	assert_int_equal(
	    qmgr_plan_add(&p, &msgs[21], 0, &(struct qmgr_dest){.domain = "c.ex"}, 4, 4), 0);
	/* concurrency 0 counts as 1 */
	assert_int_equal(
	    qmgr_plan_add(&p, &msgs[22], 0, &(struct qmgr_dest){.domain = "d.ex"}, 0, 0), 1);
	assert_int_equal(
	    qmgr_plan_add(&p, &msgs[23], 0, &(struct qmgr_dest){.domain = "d.ex"}, 1, 0),
	    1); /* joins the planned job */
	assert_int_equal(p.njobs, 2);
	qmgr_plan_free(&p);
}

static void test_plan_rcpt_cap(void **state)
{
	(void)state;
	struct qmgr_plan p = {NULL, 0};
	int msg;
	struct qmgr_dest a = remote("a.example");
	for (uint32_t i = 0; i < QMGR_JOB_RCPTS + 5; i++)
		assert_int_equal(qmgr_plan_add(&p, &msg, i, &a, 0, 5), 1);
	/* a message appears once per job: the rest go into a second job */
	assert_int_equal(p.njobs, 2);
	assert_int_equal(p.jobs->msgs[0].nrcpt, QMGR_JOB_RCPTS);
	assert_int_equal(p.jobs->next->nmsg, 1);
	assert_int_equal(p.jobs->next->msgs[0].nrcpt, 5);
	assert_int_equal(p.jobs->next->msgs[0].rcpt[0], QMGR_JOB_RCPTS);
	qmgr_plan_free(&p);
}

static void test_plan_local(void **state)
{
	(void)state;
	struct qmgr_plan p = {NULL, 0};
	int m1, m2;
	struct qmgr_dest l = {.local = true};
	assert_int_equal(qmgr_plan_add(&p, &m1, 0, &l, 0, 5), 1);
	assert_int_equal(qmgr_plan_add(&p, &m1, 2, &l, 0, 5), 1);
	assert_int_equal(qmgr_plan_add(&p, &m2, 0, &l, 0, 5), 1);
	/* one LMTP transaction per message */
	assert_int_equal(p.njobs, 2);
	assert_true(p.jobs->local);
	assert_int_equal(p.jobs->nmsg, 1);
	assert_int_equal(p.jobs->msgs[0].nrcpt, 2);
	/* a remote domain named "" is not the local destination */
	struct qmgr_dest r = remote("");
	assert_int_equal(qmgr_plan_add(&p, &m1, 1, &r, 0, 5), 1);
	assert_int_equal(p.njobs, 3);
	qmgr_plan_free(&p);
}

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(qmgr_backoff(60000, 3600000, 1), 60);
	assert_int_equal(qmgr_backoff(60000, 3600000, 2), 120);
	assert_int_equal(qmgr_backoff(60000, 3600000, 3), 240);
	assert_int_equal(qmgr_backoff(60000, 3600000, 6), 1920);
	assert_int_equal(qmgr_backoff(60000, 3600000, 7), 3600);
	assert_int_equal(qmgr_backoff(60000, 3600000, 4000000000u), 3600);
	assert_int_equal(qmgr_backoff(1000, 3600000, 1), 1);
	assert_int_equal(qmgr_backoff(1000, 3600000, 3), 4);
	assert_int_equal(qmgr_backoff(1500, 3600000, 1), 2); /* rounded up */
	assert_int_equal(qmgr_backoff(0, 0, 1), 1);          /* never 0 */
	assert_int_equal(qmgr_backoff(0, 0, 0), 1);
	assert_int_equal(qmgr_backoff(10000, 5000, 3), 10); /* max below min */
	assert_int_equal(qmgr_backoff(UINT64_MAX / 2, UINT64_MAX, 64) > 0, 1);
}

static void test_expired(void **state)
{
	(void)state;
	assert_false(qmgr_expired(1000, 1002, 3000));
	assert_true(qmgr_expired(1000, 1003, 3000));
	assert_true(qmgr_expired(1000, 5000, 3000));
	assert_false(qmgr_expired(1000, 1000 + 5 * 86400 - 1, 5ull * 86400 * 1000));
}

static void status(const char *reply, char klass, const char *want)
{
	char out[16];
	qmgr_dsn_status(reply, klass, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_dsn_status(void **state)
{
	(void)state;
	status("550 5.1.1 <x@y>... User unknown", '5', "5.1.1");
	status("550-5.7.1 rejected", '5', "5.7.1");
	status("552 5.3.4 too big", '5', "5.3.4");
	status("5.1.10 no such", '5', "5.1.10");
	status("4.4.7 delivery time expired (x)", '4', "4.4.7");
	status("550 no enhanced code", '5', "5.0.0");
	status("550 4.1.1 wrong class", '5', "5.0.0");
	status("550 5.1.1234 too long", '5', "5.0.0");
	status("550 5..1 bad", '5', "5.0.0");
	status("mx1.example.org[192.0.2.1] said: 550 5.1.1 <u@example.org>: no such user", '5',
	       "5.1.1");
	status("mx1.example.org[192.0.2.1] said: 552-5.2.2 mailbox full", '5', "5.2.2");
	status("mx1.example.org[192.0.2.1] said: 554 no enhanced code", '5', "5.0.0");
	status("", '5', "5.0.0");
	status(NULL, '4', "4.0.0");
	char tiny[3] = "xx";
	qmgr_dsn_status("550 5.1.1 x", '5', tiny, sizeof(tiny));
	assert_string_equal(tiny, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_route),
	    cmocka_unit_test(test_plan_remote),
	    cmocka_unit_test(test_plan_concurrency),
	    cmocka_unit_test(test_plan_rcpt_cap),
	    cmocka_unit_test(test_plan_local),
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_expired),
	    cmocka_unit_test(test_dsn_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
