/* test-auth-client.c: lib/ipc/auth-client.c against a scripted fake loft-auth:
 * the blocking form's request lines and reply parsing (USER, REDEEM, every
 * reply verb, malformed and late replies), its handshake, and the
 * asynchronous form's AUTH/CONT exchange and TEMPFAIL when auth goes away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth-client.h"

/* Read one line (up to LF) from fd into out (NUL-terminated, LF dropped). */
static void read_line(int fd, char *out, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		char c;
		if (read(fd, &c, 1) != 1)
			break;
		if (c == '\n')
			break;
		out[n++] = c;
	}
	out[n] = '\0';
}

static void write_str(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_redeem_ok(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	write_str(sv[1], "OK\t1\tuser=alice\tuid=1000\tgid=1001\thome=/home/a\\tb\t"
	                 "mail=maildir:/home/a/Maildir\n");
	struct auth_client_reply rep;
	char *store = NULL;
	assert_int_equal(auth_client_redeem(sv[0], "abcd", "pop3", 1000, &rep, &store), 0);
	char line[256];
	read_line(sv[1], line, sizeof(line));
	assert_string_equal(line, "REDEEM\t1\tabcd\tservice=pop3");
	assert_int_equal(rep.result, AUTH_CLIENT_OK);
	assert_string_equal(rep.user, "alice");
	assert_int_equal(rep.uid, 1000);
	assert_int_equal(rep.gid, 1001);
	assert_string_equal(rep.home, "/home/a\tb");
	assert_string_equal(rep.mail, "maildir:/home/a/Maildir");
	free(store);
	close(sv[0]);
	close(sv[1]);
}

/* Send reply, run one blocking USER request, return its result code. */
static int user_with_reply(const char *reply, struct auth_client_reply *rep, char **store)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (reply != NULL)
		write_str(sv[1], reply);
	int r = auth_client_user(sv[0], "bob", 300, rep, store);
	char line[256];
	shutdown(sv[0], SHUT_WR);
	read_line(sv[1], line, sizeof(line));
	assert_string_equal(line, "USER\t1\tbob");
	close(sv[0]);
	close(sv[1]);
	return r;
}

static void test_reply_verbs(void **state)
{
	(void)state;
	struct auth_client_reply rep;
	char *store = NULL;
	assert_int_equal(
	    user_with_reply("USER\t1\tuser=bob\tuid=5\tgid=6\thome=\tmail=maildir:/m\n", &rep,
	                    &store),
	    0);
	assert_int_equal(rep.result, AUTH_CLIENT_OK);
	assert_string_equal(rep.user, "bob");
	assert_int_equal(rep.uid, 5);
	assert_string_equal(rep.home, "");
	free(store);

	assert_int_equal(user_with_reply("NOTFOUND\t1\n", &rep, &store), 0);
	assert_int_equal(rep.result, AUTH_CLIENT_NOTFOUND);
	free(store);

	assert_int_equal(user_with_reply("FAIL\t1\treason=invalid token\n", &rep, &store), 0);
	assert_int_equal(rep.result, AUTH_CLIENT_FAIL);
	assert_string_equal(rep.reason, "invalid token");
	free(store);

	assert_int_equal(user_with_reply("FAIL\t1\treason=temporary failure\ttemp\n", &rep, &store),
	                 0);
	assert_int_equal(rep.result, AUTH_CLIENT_TEMPFAIL);
	assert_int_equal(rep.delay_ms, 0);
	free(store);

	/* A failure the caller is to delay itself (client-delay). */
	assert_int_equal(
	    user_with_reply("FAIL\t1\treason=authentication failed\tdelay=4000\n", &rep, &store),
	    0);
	assert_int_equal(rep.result, AUTH_CLIENT_FAIL);
	assert_int_equal(rep.delay_ms, 4000);
	free(store);
	/* Beyond AUTH_CLIENT_DELAY_MAX or not a number: ignored, not obeyed. */
	assert_int_equal(user_with_reply("FAIL\t1\treason=authentication failed\tdelay=999999999\n",
	                                 &rep, &store),
	                 0);
	assert_int_equal(rep.delay_ms, 0);
	free(store);
	assert_int_equal(user_with_reply("FAIL\t1\tdelay=12x\n", &rep, &store), 0);
	assert_int_equal(rep.result, AUTH_CLIENT_FAIL);
	assert_int_equal(rep.delay_ms, 0);
	free(store);
}

static void test_bad_replies(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "USER\t1\tuser=bob\tgid=6\thome=\tmail=\n",   /* no uid */
	    "USER\t1\tuser=bob\tuid=x\tgid=6\n",          /* bad uid */
	    "USER\t1\tuser=bob\tuid=4294967296\tgid=6\n", /* uid overflow */
	    "USER\t1\tuid=1\tgid=6\n",                    /* no user */
	    "USER\t2\tuser=bob\tuid=1\tgid=6\n",          /* someone else's id */
	    "USER\t01\tuser=bob\tuid=1\tgid=6\n",         /* leading zero */
	    "NOTFOUND\t1\textra\n",                       /* junk */
	    "HELLO\t1\n",                                 /* unknown verb */
	    "CONT\t1\n",                                  /* not for USER */
	    "USER\t1\tuser=bo\\xb\tuid=1\tgid=6\n",       /* bad escape */
	    "USER\t1\tuser=bob\tuid=1\tgid=6",            /* no LF: times out */
	    NULL,                                         /* silence: times out */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct auth_client_reply rep;
		char *store = (char *)1;
		if (user_with_reply(bad[i], &rep, &store) != -1)
			fail_msg("accepted: %s", bad[i] ? bad[i] : "(nothing)");
		assert_null(store);
	}
}

static void test_timeout_is_bounded(void **state)
{
	(void)state;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct auth_client_reply rep;
	char *store;
	assert_int_equal(user_with_reply(NULL, &rep, &store), -1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms >= 250 && ms < 3000);
}

/* A fake auth server on a UNIX socket in a temp dir, run by a child that
 * follows script: lines starting "> " are sent, "< " lines are read and must
 * match (else the child exits 3), "x" closes the connection. */
struct fake {
	char dir[64], path[128];
	pid_t pid;
};

static void fake_start(struct fake *fk, const char *const *script)
{
	strcpy(fk->dir, "/tmp/test-auth-client-XXXXXX");
	assert_non_null(mkdtemp(fk->dir));
	snprintf(fk->path, sizeof(fk->path), "%s/auth", fk->dir);
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	strcpy(sun.sun_path, fk->path);
	assert_int_equal(bind(ls, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(ls, 4), 0);
	fk->pid = fork();
	assert_true(fk->pid >= 0);
	if (fk->pid == 0) {
		alarm(10);
		int c = accept(ls, NULL, NULL);
		for (size_t i = 0; script[i] != NULL; i++) {
			if (script[i][0] == '>') {
				if (write(c, script[i] + 2, strlen(script[i] + 2)) < 0)
					_exit(4);
			} else if (script[i][0] == '<') {
				char line[512];
				read_line(c, line, sizeof(line));
				if (strcmp(line, script[i] + 2) != 0) {
					fprintf(stderr, "fake auth got %s\n", line);
					_exit(3);
				}
			} else {
				close(c);
			}
		}
		_exit(0);
	}
	close(ls);
}

static int fake_stop(struct fake *fk)
{
	int st = -1;
	waitpid(fk->pid, &st, 0);
	unlink(fk->path);
	rmdir(fk->dir);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static void test_connect_handshake(void **state)
{
	(void)state;
	const char *const script[] = {
	    "> VERSION\tauth\t1\t0\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\nDONE\n",
	    "< VERSION\tauth\t1\t0", "< REDEEM\t1\tff\tservice=imap",
	    "> FAIL\t1\treason=invalid token\n", NULL};
	struct fake fk;
	fake_start(&fk, script);
	const char *err = NULL;
	int fd = auth_client_connect(fk.path, 2000, &err);
	assert_true(fd >= 0);
	struct auth_client_reply rep;
	char *store;
	assert_int_equal(auth_client_redeem(fd, "ff", "imap", 2000, &rep, &store), 0);
	assert_int_equal(rep.result, AUTH_CLIENT_FAIL);
	assert_string_equal(rep.reason, "invalid token");
	free(store);
	close(fd);
	assert_int_equal(fake_stop(&fk), 0);
}

static void test_connect_refuses_other_version(void **state)
{
	(void)state;
	const char *const script[] = {"> VERSION\tauth\t2\t0\nDONE\n", "< VERSION\tauth\t1\t0",
	                              NULL};
	struct fake fk;
	fake_start(&fk, script);
	const char *err = NULL;
	assert_int_equal(auth_client_connect(fk.path, 2000, &err), -1);
	assert_non_null(err);
	fake_stop(&fk);
	assert_int_equal(auth_client_connect("/nonexistent/auth", 200, &err), -1);
}

/* ---- asynchronous ---- */

struct async_ctx {
	struct auth_client *ac;
	struct event_base *base;
	int calls;
	enum auth_client_result last[8];
	char user[64], token[80], chal[64];
	uint32_t id;
};

static void async_cb(const struct auth_client_reply *rep, void *arg)
{
	struct async_ctx *x = arg;
	x->last[x->calls++] = rep->result;
	if (rep->result == AUTH_CLIENT_CONTINUE) {
		snprintf(x->chal, sizeof(x->chal), "%.*s", (int)rep->challenge_len,
		         (const char *)rep->challenge);
		assert_int_equal(auth_client_cont(x->ac, x->id, (const unsigned char *)"\0u\0p", 4),
		                 0);
	} else if (rep->result == AUTH_CLIENT_OK) {
		snprintf(x->user, sizeof(x->user), "%s", rep->user);
		snprintf(x->token, sizeof(x->token), "%s", rep->token);
	}
	if (rep->result != AUTH_CLIENT_CONTINUE)
		event_base_loopbreak(x->base);
}

static void test_async_exchange_then_auth_dies(void **state)
{
	(void)state;
	const char *const script[] = {
	    "> VERSION\tauth\t1\t0\nMECH\tPLAIN\tplaintext\nMECH\tXOTHER\nDONE\n",
	    "< VERSION\tauth\t1\t0",
	    "< AUTH\t1\tPLAIN\tservice=pop3\trip=192.0.2.1\tlip=192.0.2.2\tsecured\tclient-delay",
	    "> CONT\t1\tVXNlcm5hbWU6\n",
	    "< CONT\t1\tAHUAcA==",
	    "> OK\t1\tuser=u\ttoken=abcdef\n",
	    "< AUTH\t2\tPLAIN\tservice=pop3\tresp=\tclient-delay",
	    "x",
	    NULL};
	struct fake fk;
	fake_start(&fk, script);
	struct async_ctx x;
	memset(&x, 0, sizeof(x));
	x.base = event_base_new();
	x.ac = auth_client_new(x.base, fk.path);
	assert_non_null(x.ac);
	const char *const *names;
	const bool *plain;
	assert_int_equal(auth_client_mechs(x.ac, &names, &plain), 2);
	assert_string_equal(names[0], "PLAIN");
	assert_true(plain[0]);
	assert_string_equal(names[1], "XOTHER");
	assert_false(plain[1]);

	x.id = auth_client_auth(x.ac, "PLAIN", "pop3", "192.0.2.1", "192.0.2.2", true, NULL, 0,
	                        false, async_cb, &x);
	assert_int_equal(x.id, 1);
	event_base_dispatch(x.base);
	assert_int_equal(x.calls, 2);
	assert_int_equal(x.last[0], AUTH_CLIENT_CONTINUE);
	assert_string_equal(x.chal, "Username:");
	assert_int_equal(x.last[1], AUTH_CLIENT_OK);
	assert_string_equal(x.user, "u");
	assert_string_equal(x.token, "abcdef");

	/* The server reads the next request, then goes away: TEMPFAIL. */
	x.id = auth_client_auth(x.ac, "PLAIN", "pop3", NULL, NULL, false, (const unsigned char *)"",
	                        0, true, async_cb, &x);
	assert_int_equal(x.id, 2);
	event_base_dispatch(x.base);
	assert_int_equal(x.calls, 3);
	assert_int_equal(x.last[2], AUTH_CLIENT_TEMPFAIL);
	assert_int_equal(fake_stop(&fk), 0);

	/* Nobody listens now: a request is answered TEMPFAIL, never synchronously. */
	x.id = auth_client_auth(x.ac, "PLAIN", "pop3", NULL, NULL, false, NULL, 0, false, async_cb,
	                        &x);
	assert_true(x.id != 0);
	assert_int_equal(x.calls, 3);
	event_base_dispatch(x.base);
	assert_int_equal(x.calls, 4);
	assert_int_equal(x.last[3], AUTH_CLIENT_TEMPFAIL);

	/* A cancelled request is never answered; free answers the rest. */
	uint32_t a = auth_client_auth(x.ac, "PLAIN", "pop3", NULL, NULL, false, NULL, 0, false,
	                              async_cb, &x);
	auth_client_cancel(x.ac, a);
	auth_client_auth(x.ac, "PLAIN", "pop3", NULL, NULL, false, NULL, 0, false, async_cb, &x);
	auth_client_free(x.ac);
	assert_int_equal(x.calls, 5);
	assert_int_equal(x.last[4], AUTH_CLIENT_TEMPFAIL);
	event_base_free(x.base);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_redeem_ok),
	    cmocka_unit_test(test_reply_verbs),
	    cmocka_unit_test(test_bad_replies),
	    cmocka_unit_test(test_timeout_is_bounded),
	    cmocka_unit_test(test_connect_handshake),
	    cmocka_unit_test(test_connect_refuses_other_version),
	    cmocka_unit_test(test_async_exchange_then_auth_dies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
