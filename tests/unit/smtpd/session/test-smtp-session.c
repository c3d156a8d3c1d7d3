/* test-smtp-session.c: the smtpd session state machine (smtpd/session/smtp-session.c)
 * driven with scripted input and fake callbacks, asserting exact reply lines:
 * every command and sequence error, pipelining, relay control in each mode,
 * AUTH, STARTTLS injection, size and hop limits, dot-stuffing, smuggling
 * vectors, 8-bit bodies, and the Received line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smtp-session.h"

#define NOW 1795706240 /* Thu, 26 Nov 2026 15:17:20 +0000 */

struct fake {
	enum smtp_rcpt_result rcpt_res;
	enum smtp_queue_result begin_res, write_res, commit_res;
	int begins, commits, aborts, starttls, auth_starts, auth_conts;
	char mech[8];
	char initial[64];
	bool has_initial;
	char cont[64];
	struct buf msg;     /* bytes of the message being written */
	struct buf done[4]; /* committed messages */
	size_t n_done;
	size_t txn_rcpts;
	char txn_auth[16];
	const char *reason_status, *reason_text; /* queue_reason's answer */
};

static enum smtp_rcpt_result f_rcpt(void *ctx, const struct smtp_addr *a)
{
	struct fake *f = ctx;
	if (strcmp(a->local, "nobody") == 0)
		return SMTP_RCPT_UNKNOWN;
	if (strcmp(a->local, "tempfail") == 0)
		return SMTP_RCPT_TEMPFAIL;
	return f->rcpt_res;
}

static int f_auth_start(void *ctx, const char *mech, const char *initial)
{
	struct fake *f = ctx;
	f->auth_starts++;
	snprintf(f->mech, sizeof(f->mech), "%s", mech);
	f->has_initial = initial != NULL;
	snprintf(f->initial, sizeof(f->initial), "%s", initial ? initial : "");
	return 0;
}

static int f_auth_cont(void *ctx, const char *line, size_t len)
{
	struct fake *f = ctx;
	f->auth_conts++;
	snprintf(f->cont, sizeof(f->cont), "%.*s", (int)len, line);
	return 0;
}

static void f_starttls(void *ctx)
{
	((struct fake *)ctx)->starttls++;
}

static enum smtp_queue_result f_begin(void *ctx, const struct smtp_txn *txn, char *qid, size_t size)
{
	struct fake *f = ctx;
	f->begins++;
	f->txn_rcpts = txn->n_rcpts;
	snprintf(f->txn_auth, sizeof(f->txn_auth), "%s", txn->auth_user ? txn->auth_user : "-");
	snprintf(qid, size, "QID%d", f->begins);
	buf_reset(&f->msg);
	return f->begin_res;
}

static enum smtp_queue_result f_write(void *ctx, const char *p, size_t len)
{
	struct fake *f = ctx;
	assert_int_equal(buf_append(&f->msg, p, len), 0);
	return f->write_res;
}

static enum smtp_queue_result f_commit(void *ctx)
{
	struct fake *f = ctx;
	f->commits++;
	if (f->commit_res == SMTP_QUEUE_OK && f->n_done < 4) {
		buf_init(&f->done[f->n_done], 0);
		buf_append(&f->done[f->n_done], f->msg.data, f->msg.len);
		f->n_done++;
	}
	return f->commit_res;
}

static void f_abort(void *ctx)
{
	((struct fake *)ctx)->aborts++;
}

static void f_reason(void *ctx, const char **status_r, const char **text_r)
{
	struct fake *f = ctx;
	*status_r = f->reason_status;
	*text_r = f->reason_text;
}

static const struct smtp_session_callbacks cbs = {
    .rcpt_check = f_rcpt,
    .auth_start = f_auth_start,
    .auth_continue = f_auth_cont,
    .starttls = f_starttls,
    .queue_begin = f_begin,
    .queue_write = f_write,
    .queue_commit = f_commit,
    .queue_abort = f_abort,
    .queue_reason = f_reason,
};

static const char *const domains[] = {"example.org", "example.net"};

static time_t fixed_now(void)
{
	return NOW;
}

struct t {
	struct fake f;
	struct smtp_session_opts o;
	struct smtp_session *s;
	int last_rc;
};

static struct t *t_new(enum smtp_mode mode)
{
	struct t *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	buf_init(&t->f.msg, 0);
	t->o = (struct smtp_session_opts){
	    .mode = mode,
	    .hostname = "mx.example.org",
	    .mydomains = domains,
	    .n_mydomains = 2,
	    .size_limit = 1000,
	    .max_recipients = 3,
	    .max_hops = 3,
	    .max_errors = 5,
	    .tls_available = true,
	    .client_ip = "192.0.2.1",
	    .client_rdns = "client.example.com",
	    .tls_proto = "TLSv1.3",
	    .tls_cipher = "TLS_AES_256_GCM_SHA384",
	    .tls_bits = 256,
	    .now = fixed_now,
	    .cb = &cbs,
	    .cb_ctx = &t->f,
	};
	return t;
}

static void t_start(struct t *t)
{
	t->s = smtp_session_new(&t->o);
	assert_non_null(t->s);
}

static void t_free(struct t *t)
{
	smtp_session_free(t->s);
	buf_free(&t->f.msg);
	for (size_t i = 0; i < t->f.n_done; i++)
		buf_free(&t->f.done[i]);
	free(t);
}

static void in(struct t *t, const char *s)
{
	t->last_rc = smtp_session_input(t->s, s, strlen(s));
}

static void in_n(struct t *t, const char *s, size_t n)
{
	t->last_rc = smtp_session_input(t->s, s, n);
}

/* The output so far must be exactly want; it is consumed. */
static void out(struct t *t, const char *want)
{
	struct buf *o = smtp_session_output(t->s);
	if (o->len != strlen(want) || memcmp(o->data, want, o->len) != 0)
		fail_msg("output:\n%.*s\nwanted:\n%s", (int)o->len, o->data ? o->data : "", want);
	buf_consume(o, o->len);
}

/* Greeting and EHLO already answered. */
static struct t *t_ehlo(enum smtp_mode mode)
{
	struct t *t = t_new(mode);
	t_start(t);
	in(t, "EHLO client.example.com\r\n");
	buf_consume(smtp_session_output(t->s), smtp_session_output(t->s)->len);
	return t;
}

static void test_greeting_ehlo(void **state)
{
	(void)state;
	struct t *t = t_new(SMTP_MODE_MX);
	t_start(t);
	out(t, "220 mx.example.org ESMTP Loft\r\n");
	in(t, "EHLO client.example.com\r\n");
	out(t, "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-STARTTLS\r\n"
	       "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n");
	in(t, "HELO client\r\n");
	out(t, "250 mx.example.org\r\n");
	in(t, "EHLO\r\n");
	out(t, "501 5.5.4 Syntax: EHLO hostname\r\n");
	in(t, "HELO\r\n");
	out(t, "501 5.5.4 Syntax: HELO hostname\r\n");
	t_free(t);

	/* loopback: AUTH without TLS */
	t = t_new(SMTP_MODE_SUBMISSION);
	t->o.client_loopback = true;
	t->o.tls_available = false;
	t->o.size_limit = 0;
	t_start(t);
	out(t, "220 mx.example.org ESMTP Loft\r\n");
	in(t, "ehlo x\r\n");
	out(t, "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE\r\n250-AUTH PLAIN LOGIN\r\n"
	       "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n");
	t_free(t);

	/* 465: TLS on, so AUTH and no STARTTLS */
	t = t_new(SMTP_MODE_SUBMISSIONS);
	t_start(t);
	out(t, "220 mx.example.org ESMTP Loft\r\n");
	in(t, "EHLO x\r\n");
	out(t, "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-AUTH PLAIN LOGIN\r\n"
	       "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n");
	in(t, "STARTTLS\r\n");
	out(t, "554 5.5.1 Error: TLS already active\r\n");
	t_free(t);
}

static void test_simple_commands(void **state)
{
	(void)state;
	struct t *t = t_new(SMTP_MODE_MX);
	t_start(t);
	out(t, "220 mx.example.org ESMTP Loft\r\n");
	in(t, "NOOP\r\n");
	out(t, "250 2.0.0 Ok\r\n");
	in(t, "RSET\r\n");
	out(t, "250 2.0.0 Ok\r\n");
	in(t, "VRFY root\r\n");
	out(t, "252 2.0.0 Cannot VRFY user; try RCPT to attempt delivery\r\n");
	in(t, "VRFY\r\n");
	out(t, "501 5.5.4 Syntax: VRFY address\r\n");
	in(t, "HELP\r\n");
	out(t, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS "
	       "AUTH\r\n");
	in(t, "EXPN list\r\n");
	out(t, "502 5.5.1 Error: command not supported\r\n");
	in(t, "BDAT 10 LAST\r\n");
	out(t, "502 5.5.1 Error: command not supported\r\n");
	assert_int_equal(t->last_rc, 0);
	in(t, "QUIT\r\n");
	out(t, "221 2.0.0 Bye\r\n");
	assert_int_equal(t->last_rc, -1);
	assert_true(smtp_session_closed(t->s));
	in(t, "NOOP\r\n");
	assert_int_equal(t->last_rc, -1);
	out(t, "");
	t_free(t);
}

static void test_sequence_errors(void **state)
{
	(void)state;
	struct t *t = t_new(SMTP_MODE_MX);
	t->o.max_errors = 100;
	t_start(t);
	out(t, "220 mx.example.org ESMTP Loft\r\n");
	in(t, "MAIL FROM:<a@b.example>\r\n");
	out(t, "503 5.5.1 Error: send HELO/EHLO first\r\n");
	in(t, "RCPT TO:<u@example.org>\r\n");
	out(t, "503 5.5.1 Error: send HELO/EHLO first\r\n");
	in(t, "DATA\r\n");
	out(t, "503 5.5.1 Error: send HELO/EHLO first\r\n");
	in(t, "AUTH PLAIN\r\n");
	out(t, "503 5.5.1 Error: send HELO/EHLO first\r\n");
	in(t, "EHLO c\r\n");
	out(t, "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-STARTTLS\r\n"
	       "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n");
	in(t, "RCPT TO:<u@example.org>\r\n");
	out(t, "503 5.5.1 Error: need MAIL command\r\n");
	in(t, "DATA\r\n");
	out(t, "503 5.5.1 Error: need MAIL command\r\n");
	in(t, "MAIL FROM:<a@b.example>\r\n");
	out(t, "250 2.1.0 Ok\r\n");
	in(t, "MAIL FROM:<a@b.example>\r\n");
	out(t, "503 5.5.1 Error: nested MAIL command\r\n");
	in(t, "DATA\r\n");
	out(t, "503 5.5.1 Error: need RCPT command\r\n");
	in(t, "STARTTLS\r\n");
	out(t, "503 5.5.1 Error: MAIL transaction in progress\r\n");
	in(t, "RCPT TO:<u@example.org>\r\n");
	out(t, "250 2.1.5 Ok\r\n");
	in(t, "DATA x\r\n");
	out(t, "501 5.5.4 Syntax: DATA\r\n");
	in(t, "RSET\r\n");
	out(t, "250 2.0.0 Ok\r\n");
	in(t, "RCPT TO:<u@example.org>\r\n");
	out(t, "503 5.5.1 Error: need MAIL command\r\n");
	/* syntax */
	in(t, "MAIL FROM:<a@@b>\r\n");
	out(t, "501 5.1.7 Bad sender address syntax\r\n");
	in(t, "MAIL FROM:<a@b.example> FOO=1\r\n");
	out(t, "555 5.5.4 Unsupported option\r\n");
	in(t, "MAIL TO:<a@b.example>\r\n");
	out(t, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
	in(t, "MAIL FROM:<a@b.example>\r\n");
	out(t, "250 2.1.0 Ok\r\n");
	in(t, "RCPT TO:<bad address@example.org>\r\n");
	out(t, "501 5.1.3 Bad recipient address syntax\r\n");
	in(t, "RCPT TO:<j\xc3\xb6rg@example.org>\r\n");
	out(t, "553 5.6.7 Non-ASCII address needs SMTPUTF8\r\n");
	in(t, "RCPT TO:<user>\r\n");
	out(t, "504 5.5.2 <user>: Recipient address rejected: need fully-qualified address\r\n");
	in(t, "FOO bar\r\n");
	out(t, "500 5.5.2 Error: command not recognized\r\n");
	in_n(t, "NOOP\0x\r\n", 8);
	out(t, "500 5.5.2 Error: bad syntax\r\n");
	t_free(t);
}

static void test_line_too_long(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_MX);
	char big[3000];
	memset(big, 'A', sizeof(big));
	in(t, "NOOP ");
	in_n(t, big, sizeof(big));
	out(t, "500 5.5.2 Error: line too long\r\n");
	in_n(t, big, sizeof(big)); /* still the same line: no second reply */
	out(t, "");
	in(t, "AAA\r\nNOOP\r\n");
	out(t, "250 2.0.0 Ok\r\n");
	t_free(t);
}

static void test_too_many_errors(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_MX);
	in(t, "X\r\nX\r\nX\r\nX\r\nX\r\nNOOP\r\n");
	out(t,
	    "500 5.5.2 Error: command not recognized\r\n500 5.5.2 Error: command not recognized\r\n"
	    "500 5.5.2 Error: command not recognized\r\n500 5.5.2 Error: command not recognized\r\n"
	    "500 5.5.2 Error: command not recognized\r\n"
	    "421 4.7.0 mx.example.org Error: too many errors\r\n");
	assert_int_equal(t->last_rc, -1);
	t_free(t);
}

static void test_pipelining(void **state)
{
	(void)state;
	struct t *t = t_new(SMTP_MODE_MX);
	t_start(t);
	in(t, "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@example.org>\r\n"
	      "RCPT TO:<nobody@example.org>\r\nRCPT TO:<v@Example.NET>\r\nDATA\r\n"
	      "Subject: hi\r\n\r\nbody\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n"
	      "x\r\n.\r\nQUIT\r\n");
	out(t, "220 mx.example.org ESMTP Loft\r\n"
	       "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-STARTTLS\r\n"
	       "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
	       "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	       "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local "
	       "recipient table\r\n"
	       "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
	       "250 2.0.0 Ok: queued as QID1\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	       "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as QID2\r\n"
	       "221 2.0.0 Bye\r\n");
	assert_int_equal(t->f.commits, 2);
	assert_int_equal(t->f.n_done, 2);
	t_free(t);
}

static void test_relay_mx(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_MX);
	in(t, "MAIL FROM:<a@b.example>\r\n");
	out(t, "250 2.1.0 Ok\r\n");
	in(t, "RCPT TO:<victim@elsewhere.example>\r\n");
	out(t, "554 5.7.1 <victim@elsewhere.example>: Relay access denied\r\n");
	in(t, "RCPT TO:<postmaster@example.net>\r\n");
	out(t, "250 2.1.5 Ok\r\n");
	in(t, "RCPT TO:<Postmaster>\r\n");
	out(t, "250 2.1.5 Ok\r\n");
	in(t, "RCPT TO:<postmaster@elsewhere.example>\r\n");
	out(t, "554 5.7.1 <postmaster@elsewhere.example>: Relay access denied\r\n");
	in(t, "RCPT TO:<tempfail@example.org>\r\n");
	out(t, "451 4.3.0 <tempfail@example.org>: Temporary lookup failure\r\n");
	in(t, "RCPT TO:<u3@example.org>\r\n");
	out(t, "250 2.1.5 Ok\r\n");
	in(t, "RCPT TO:<u4@example.org>\r\n");
	out(t, "452 4.5.3 Error: too many recipients\r\n");
	t_free(t);

	/* a client in mynetworks may relay */
	t = t_new(SMTP_MODE_MX);
	t->o.client_in_mynetworks = true;
	t_start(t);
	in(t, "HELO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@elsewhere.example>\r\n");
	out(t, "220 mx.example.org ESMTP Loft\r\n250 mx.example.org\r\n250 2.1.0 Ok\r\n"
	       "250 2.1.5 Ok\r\n");
	t_free(t);
}

/* AUTH PLAIN with an initial response, answered by the fake daemon. */
static void auth_ok(struct t *t)
{
	in(t, "AUTH plain AHVzZXIAcGFzcw==\r\n");
	out(t, "");
	assert_int_equal(t->f.auth_starts, 1);
	assert_string_equal(t->f.mech, "PLAIN");
	assert_string_equal(t->f.initial, "AHVzZXIAcGFzcw==");
	assert_int_equal(smtp_session_auth_done(t->s, "user", false), 0);
	out(t, "235 2.7.0 Authentication successful\r\n");
}

static void test_relay_submission(void **state)
{
	(void)state;
	for (int m = SMTP_MODE_SUBMISSION; m <= SMTP_MODE_SUBMISSIONS; m++) {
		struct t *t = t_ehlo((enum smtp_mode)m);
		t->o.client_in_mynetworks = true; /* submission still wants AUTH */
		in(t, "MAIL FROM:<a@example.org>\r\n");
		out(t, "530 5.7.0 Authentication required\r\n");
		in(t, "RCPT TO:<x@elsewhere.example>\r\n");
		out(t, "503 5.5.1 Error: need MAIL command\r\n");
		if (m == SMTP_MODE_SUBMISSION) {
			/* no TLS, not loopback: no AUTH */
			in(t, "AUTH PLAIN AHVzZXIAcGFzcw==\r\n");
			out(t, "503 5.5.1 Error: authentication not enabled\r\n");
			t_free(t);
			continue;
		}
		auth_ok(t);
		in(t, "AUTH PLAIN\r\n");
		out(t, "503 5.5.1 Error: already authenticated\r\n");
		in(t, "MAIL FROM:<a@example.org>\r\nRCPT TO:<x@elsewhere.example>\r\n");
		out(t, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
		t_free(t);
	}
	/* port 25 with AUTH (over TLS) may relay too */
	struct t *t = t_ehlo(SMTP_MODE_MX);
	in(t, "STARTTLS\r\n");
	out(t, "220 2.0.0 Ready to start TLS\r\n");
	assert_int_equal(smtp_session_tls_started(t->s, "TLSv1.3", "X", 128), 0);
	in(t, "EHLO c\r\n");
	buf_consume(smtp_session_output(t->s), smtp_session_output(t->s)->len);
	auth_ok(t);
	in(t, "MAIL FROM:<a@example.org>\r\nRCPT TO:<x@elsewhere.example>\r\n");
	out(t, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
	t_free(t);
}

static void test_auth_login_dialog(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_SUBMISSIONS);
	t->o.max_errors = 100;
	in(t, "AUTH LOGIN\r\nNOOP\r\n");
	out(t, "");
	assert_false(t->f.has_initial);
	assert_string_equal(t->f.mech, "LOGIN");
	assert_int_equal(smtp_session_auth_challenge(t->s, "VXNlcm5hbWU6"), 0);
	/* the pipelined NOOP was taken as the answer: that is what the client sent */
	out(t, "334 VXNlcm5hbWU6\r\n");
	assert_int_equal(t->f.auth_conts, 1);
	assert_string_equal(t->f.cont, "NOOP");
	assert_int_equal(smtp_session_auth_challenge(t->s, "UGFzc3dvcmQ6"), 0);
	out(t, "334 UGFzc3dvcmQ6\r\n");
	in(t, "*\r\n");
	out(t, "501 5.7.0 Authentication aborted\r\n");
	in(t, "AUTH CRAM-MD5\r\n");
	out(t, "504 5.5.4 Unrecognized authentication type\r\n");
	in(t, "AUTH\r\n");
	out(t, "501 5.5.4 Syntax: AUTH mechanism\r\n");
	in(t, "AUTH LOGIN dXNlcg==\r\n");
	assert_int_equal(smtp_session_auth_done(t->s, NULL, false), 0);
	out(t, "535 5.7.8 Error: authentication failed\r\n");
	in(t, "AUTH LOGIN dXNlcg==\r\n");
	assert_int_equal(smtp_session_auth_done(t->s, NULL, true), 0);
	out(t, "454 4.7.0 Temporary authentication failure\r\n");
	assert_int_equal(smtp_session_auth_done(t->s, NULL, true), -1); /* not pending */
	assert_int_equal(smtp_session_auth_challenge(t->s, "x"), -1);
	assert_int_equal(smtp_session_tls_started(t->s, "TLSv1.3", "X", 1), -1);
	/* an over-long answer to a 334 cancels the exchange */
	char big[3000];
	memset(big, 'Q', sizeof(big));
	in(t, "AUTH LOGIN\r\n");
	assert_int_equal(smtp_session_auth_challenge(t->s, "VXNlcm5hbWU6"), 0);
	out(t, "334 VXNlcm5hbWU6\r\n");
	in_n(t, big, sizeof(big));
	out(t, "500 5.5.2 Error: line too long\r\n");
	assert_string_equal(t->f.cont, "*");
	in(t, "QQ\r\nNOOP\r\n");
	out(t, "250 2.0.0 Ok\r\n");
	t_free(t);
}

static void test_starttls_injection(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_MX);
	in(t, "STARTTLS\r\nMAIL FROM:<evil@x.example>\r\nRCPT TO:<u@example.org>\r\n");
	out(t, "220 2.0.0 Ready to start TLS\r\n");
	assert_int_equal(t->f.starttls, 1);
	in(t, "NOOP\r\n"); /* before the handshake: discarded too */
	out(t, "");
	assert_int_equal(smtp_session_tls_started(t->s, "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128),
	                 0);
	out(t, "");
	/* state was reset: HELO needed again, nothing of the injected MAIL left */
	in(t, "RCPT TO:<u@example.org>\r\n");
	out(t, "503 5.5.1 Error: send HELO/EHLO first\r\n");
	in(t, "EHLO c\r\n");
	out(t, "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-AUTH PLAIN LOGIN\r\n"
	       "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n");
	in(t, "RCPT TO:<u@example.org>\r\n");
	out(t, "503 5.5.1 Error: need MAIL command\r\n");
	t_free(t);

	t = t_ehlo(SMTP_MODE_MX);
	t->o.tls_available = false;
	in(t, "STARTTLS\r\n");
	out(t, "502 5.5.1 Error: command not supported\r\n");
	t->o.tls_available = true;
	in(t, "STARTTLS now\r\n");
	out(t, "501 5.5.4 Syntax: STARTTLS\r\n");
	t_free(t);
}

/* Issue 18: a client that pipelines EHLO and never reads fills the output
 * buffer; the session ends with one whole 421 after whole replies. */
static void test_output_full_421(void **state)
{
	(void)state;
	char host[201];
	memset(host, 'h', 200);
	host[200] = '\0';
	struct t *t = t_new(SMTP_MODE_MX);
	t->o.hostname = host;
	t->o.max_errors = 0;
	t_start(t);
	char ehlo[64 * 1024];
	const char line[] = "EHLO client.example.com\r\n";
	size_t n = 0;
	while (n + sizeof(line) - 1 <= sizeof(ehlo)) {
		memcpy(ehlo + n, line, sizeof(line) - 1);
		n += sizeof(line) - 1;
	}
	int rounds = 0;
	while (!smtp_session_closed(t->s) && rounds++ < 64)
		in_n(t, ehlo, n);
	assert_true(smtp_session_closed(t->s));
	assert_int_equal(t->last_rc, -1);
	struct buf *o = smtp_session_output(t->s);
	assert_true(o->len > 1000 * 1000 && o->len <= 1024 * 1024 + 512);
	char want[300];
	snprintf(want, sizeof(want), "\r\n421 4.7.0 %s Error: too much unread output\r\n", host);
	size_t wl = strlen(want);
	assert_true(o->len > wl);
	assert_memory_equal(o->data + o->len - wl, want, wl);
	/* the reply before it is whole: its last line "250 SMTPUTF8" */
	const char *prev = o->data + o->len - wl - strlen("250 SMTPUTF8");
	assert_memory_equal(prev, "250 SMTPUTF8", strlen("250 SMTPUTF8"));
	/* one 421, and nothing more is said or read */
	assert_null(memmem(o->data, o->len - wl + 2, "421 ", 4));
	size_t len = o->len;
	in(t, "NOOP\r\n");
	assert_int_equal(t->last_rc, -1);
	assert_int_equal(o->len, len);
	t_free(t);
}

/* Run one transaction with body (the bytes after DATA's CRLF). */
static void send_body(struct t *t, const char *body, size_t len)
{
	in(t, "MAIL FROM:<a@b.example>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n");
	out(t, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
	in_n(t, body, len);
}

static const char received1[] =
    "Received: from client.example.com (client.example.com [192.0.2.1])\r\n"
    "\tby mx.example.org (Loft) with ESMTP id QID1\r\n"
    "\tfor <u@example.org>; Thu, 26 Nov 2026 15:17:20 +0000\r\n";

/* The committed message minus the Received line must equal want. */
static void delivered(struct t *t, size_t i, const char *want, size_t wlen)
{
	assert_true(i < t->f.n_done);
	struct buf *m = &t->f.done[i];
	const char *nl = strstr(m->data, "\r\n\t");
	assert_non_null(nl);
	const char *end = strstr(m->data, " +0000\r\n");
	assert_non_null(end);
	end += 8;
	size_t off = (size_t)(end - m->data);
	if (m->len - off != wlen || memcmp(m->data + off, want, wlen) != 0)
		fail_msg("delivered:\n%.*s\nwanted:\n%.*s", (int)(m->len - off), m->data + off,
		         (int)wlen, want);
}

static void test_data_and_received(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_MX);
	const char body[] = "Subject: s\r\n\r\n..dot\r\n.x\r\nlast\r\n.\r\n";
	send_body(t, body, sizeof(body) - 1);
	out(t, "250 2.0.0 Ok: queued as QID1\r\n");
	assert_string_equal(t->f.txn_auth, "-");
	assert_int_equal(t->f.n_done, 1);
	assert_int_equal(t->f.done[0].len,
	                 strlen(received1) + strlen("Subject: s\r\n\r\n.dot\r\nx\r\nlast\r\n"));
	assert_memory_equal(t->f.done[0].data, received1, strlen(received1));
	delivered(t, 0, "Subject: s\r\n\r\n.dot\r\nx\r\nlast\r\n", 29);
	/* empty message, terminator split over many inputs */
	in(t, "MAIL FROM:<>\r\nRCPT TO:<u@example.org>\r\nRCPT TO:<v@example.org>\r\nDATA\r\n");
	out(t, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with "
	       "<CR><LF>.<CR><LF>\r\n");
	in(t, ".");
	in(t, "\r");
	out(t, "");
	in(t, "\n");
	out(t, "250 2.0.0 Ok: queued as QID2\r\n");
	assert_string_equal(t->f.done[1].data,
	                    "Received: from client.example.com (client.example.com [192.0.2.1])\r\n"
	                    "\tby mx.example.org (Loft) with ESMTP id QID2;\r\n"
	                    "\tThu, 26 Nov 2026 15:17:20 +0000\r\n");
	t_free(t);
}

static void test_smuggling(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_MX);
	t->o.size_limit = 0;
	/* each vector is followed by what would be a smuggled second message;
	 * bare LFs are normalised, so the message is taken, as one */
	const char body[] = "Subject: a\r\n\r\nx\n.\r\nMAIL FROM:<s@x>\r\nz\r\n.\nRCPT TO:<v>\r\n"
	                    "w\n.\nDATA\r\nend\r\n.\r\n";
	send_body(t, body, sizeof(body) - 1);
	out(t, "250 2.0.0 Ok: queued as QID1\r\n");
	assert_int_equal(t->f.begins, 1);
	assert_int_equal(t->f.n_done, 1);
	const char want[] = "Subject: a\r\n\r\nx\r\n.\r\nMAIL FROM:<s@x>\r\nz\r\n.\r\nRCPT "
	                    "TO:<v>\r\nw\r\n.\r\nDATA\r\nend\r\n";
	delivered(t, 0, want, sizeof(want) - 1);
	/* back in command mode after the one message */
	in(t, "NOOP\r\n");
	out(t, "250 2.0.0 Ok\r\n");
	/* the same body one byte at a time decodes the same */
	send_body(t, "", 0);
	for (size_t i = 0; i < sizeof(body) - 1; i++)
		in_n(t, body + i, 1);
	out(t, "250 2.0.0 Ok: queued as QID2\r\n");
	assert_int_equal(t->f.n_done, 2);
	delivered(t, 1, want, sizeof(want) - 1);
	t_free(t);
}

/* A bare CR (here <CR>.<CR><LF>, the CVE-2023-51764 vector) refuses the
 * whole message at its real end; nothing is queued, the session goes on. */
static void test_bare_cr_refused(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_MX);
	const char body[] = "Subject: a\r\n\r\nbody\r.\r\nMAIL FROM:<s@x>\r\nRCPT TO:<v@x>\r\n"
	                    "DATA\r\nsmuggled\r\n.\r\n";
	send_body(t, body, sizeof(body) - 1);
	out(t, "554 5.6.0 Message contains bare CR\r\n");
	assert_int_equal(t->f.begins, 1);
	assert_int_equal(t->f.aborts, 1);
	assert_int_equal(t->f.commits, 0);
	assert_int_equal(t->f.n_done, 0);
	/* in the header section too, and split at the CR */
	send_body(t, "Subject: a\r", 11);
	in(t, "b\r\n\r\nx\r\n.\r\n");
	out(t, "554 5.6.0 Message contains bare CR\r\n");
	assert_int_equal(t->f.aborts, 2);
	/* a clean message after it is taken */
	const char clean[] = "Subject: c\r\n\r\nok\r\n.\r\n";
	send_body(t, clean, sizeof(clean) - 1);
	out(t, "250 2.0.0 Ok: queued as QID3\r\n");
	assert_int_equal(t->f.n_done, 1);
	delivered(t, 0, "Subject: c\r\n\r\nok\r\n", 18);
	t_free(t);
}

static void test_8bit(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_MX);
	const char body[] = "Subject: \xc3\xa9t\xc3\xa9\r\n\r\n\x80\xff\x01\x7f b\xc3\xb6"
	                    "dy\r\n.\r\n";
	send_body(t, body, sizeof(body) - 1);
	out(t, "250 2.0.0 Ok: queued as QID1\r\n");
	delivered(t, 0, body, sizeof(body) - 1 - 3);
	t_free(t);
}

static void test_size_limit(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_MX);
	in(t, "MAIL FROM:<a@b.example> SIZE=1001\r\n");
	out(t, "552 5.3.4 Message size exceeds fixed limit\r\n");
	in(t, "MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME\r\n");
	out(t, "250 2.1.0 Ok\r\n");
	in(t, "RSET\r\n");
	out(t, "250 2.0.0 Ok\r\n");
	char big[1200];
	memset(big, 'a', sizeof(big));
	send_body(t, "S: x\r\n\r\n", 8);
	in_n(t, big, sizeof(big));
	out(t, "");
	in(t, "\r\n.\r\n");
	out(t, "552 5.3.4 Message size exceeds fixed limit\r\n");
	assert_int_equal(t->f.aborts, 1);
	assert_int_equal(t->f.commits, 0);
	/* the session goes on */
	send_body(t, "S: y\r\n\r\nok\r\n.\r\n", 15);
	out(t, "250 2.0.0 Ok: queued as QID2\r\n");
	t_free(t);
}

static void test_max_hops(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_MX);
	const char three[] =
	    "Received: a\r\nreceived : b\r\nRECEIVED: c\r\n\tfolded\r\n\r\nx\r\n.\r\n";
	send_body(t, three, sizeof(three) - 1);
	out(t, "554 5.4.6 Too many hops\r\n");
	assert_int_equal(t->f.aborts, 1);
	const char two[] =
	    "Received: a\r\nX-Received: b\r\nReceived: c\r\n\r\nReceived: body\r\n.\r\n";
	send_body(t, two, sizeof(two) - 1);
	out(t, "250 2.0.0 Ok: queued as QID2\r\n");
	t_free(t);
}

static void test_submission_headers(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_SUBMISSIONS);
	auth_ok(t);
	send_body(t, "Subject: s\r\n\r\nb\r\n.\r\n", 20);
	out(t, "250 2.0.0 Ok: queued as QID1\r\n");
	assert_string_equal(t->f.txn_auth, "user");
	assert_string_equal(
	    t->f.done[0].data,
	    "Received: from client.example.com (client.example.com [192.0.2.1])\r\n"
	    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n"
	    "\t(Authenticated sender: user)\r\n"
	    "\tby mx.example.org (Loft) with ESMTPSA id QID1\r\n"
	    "\tfor <u@example.org>; Thu, 26 Nov 2026 15:17:20 +0000\r\n"
	    "Message-ID: <20261126151720.QID1@mx.example.org>\r\n"
	    "Date: Thu, 26 Nov 2026 15:17:20 +0000\r\n"
	    "Subject: s\r\n\r\nb\r\n");
	/* present ones are kept, not doubled */
	const char has[] =
	    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-Id: <a@b>\r\n\r\nb\r\n.\r\n";
	send_body(t, has, sizeof(has) - 1);
	out(t, "250 2.0.0 Ok: queued as QID2\r\n");
	assert_null(strstr(t->f.done[1].data, "Message-ID: <2026"));
	assert_null(strstr(t->f.done[1].data, "Date: Thu"));
	t_free(t);
}

static void test_queue_failures(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_MX);
	t->f.begin_res = SMTP_QUEUE_TEMP;
	in(t, "MAIL FROM:<a@b.example>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n");
	out(t, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n451 4.3.0 Error: queue file write error\r\n");
	in(t, "RSET\r\n");
	out(t, "250 2.0.0 Ok\r\n");
	t->f.begin_res = SMTP_QUEUE_OK;
	t->f.commit_res = SMTP_QUEUE_TEMP;
	send_body(t, "a\r\n.\r\n", 6);
	out(t, "451 4.3.0 Error: queue file write error\r\n");
	t->f.commit_res = SMTP_QUEUE_OK;
	t->f.write_res = SMTP_QUEUE_PERM;
	send_body(t, "a\r\n.\r\n", 6);
	out(t, "554 5.3.0 Error: message refused\r\n");
	assert_int_equal(t->f.aborts, 1);
	assert_int_equal(t->f.n_done, 0);
	/* the client vanishes in DATA: the queue file is dropped */
	t->f.write_res = SMTP_QUEUE_OK;
	send_body(t, "partial", 7);
	smtp_session_eof(t->s);
	assert_int_equal(t->f.aborts, 2);
	assert_int_equal(t->f.n_done, 0);
	t_free(t);
}

/* The queue's own code and text reach the client (issue 17); a code of
 * the wrong class or a text that is not printable falls back. */
static void test_queue_failures_carry_the_queue_reason(void **state)
{
	(void)state;
	struct t *t = t_ehlo(SMTP_MODE_MX);
	t->f.commit_res = SMTP_QUEUE_PERM;
	t->f.reason_status = "5.3.4";
	t->f.reason_text = "message too big";
	send_body(t, "a\r\n.\r\n", 6);
	out(t, "552 5.3.4 message too big\r\n");
	t->f.reason_status = "5.7.1";
	t->f.reason_text = "refused by policy";
	send_body(t, "a\r\n.\r\n", 6);
	out(t, "554 5.7.1 refused by policy\r\n");
	t->f.reason_status = "";
	t->f.reason_text = "no such thing";
	send_body(t, "a\r\n.\r\n", 6);
	out(t, "554 5.3.0 no such thing\r\n");
	t->f.commit_res = SMTP_QUEUE_TEMP;
	t->f.reason_status = "4.3.0";
	t->f.reason_text = "cannot write queue file";
	send_body(t, "a\r\n.\r\n", 6);
	out(t, "451 4.3.0 cannot write queue file\r\n");
	t_free(t);
	/* a fresh session: max_errors is 5 */
	t = t_ehlo(SMTP_MODE_MX);
	t->f.commit_res = SMTP_QUEUE_TEMP;
	/* a 5.x.x code on a temporary failure is not used */
	t->f.reason_status = "5.3.4";
	t->f.reason_text = "x";
	send_body(t, "a\r\n.\r\n", 6);
	out(t, "451 4.3.0 x\r\n");
	/* nor a text that could split the reply */
	t->f.reason_status = "4.3.0";
	t->f.reason_text = "a\r\n250 ok";
	send_body(t, "a\r\n.\r\n", 6);
	out(t, "451 4.3.0 Error: queue file write error\r\n");
	t->f.reason_status = "4.3";
	t->f.reason_text = "";
	send_body(t, "a\r\n.\r\n", 6);
	out(t, "451 4.3.0 Error: queue file write error\r\n");
	/* a permanent refusal at DATA is a 5xx too, with the queue's text */
	t->f.commit_res = SMTP_QUEUE_OK;
	t->f.begin_res = SMTP_QUEUE_PERM;
	t->f.reason_status = "";
	t->f.reason_text = "too many recipients";
	in(t, "MAIL FROM:<a@b.example>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n");
	out(t, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n554 5.3.0 too many recipients\r\n");
	assert_int_equal(t->f.n_done, 0);
	t_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_greeting_ehlo),
	    cmocka_unit_test(test_queue_failures_carry_the_queue_reason),
	    cmocka_unit_test(test_simple_commands),
	    cmocka_unit_test(test_sequence_errors),
	    cmocka_unit_test(test_line_too_long),
	    cmocka_unit_test(test_too_many_errors),
	    cmocka_unit_test(test_pipelining),
	    cmocka_unit_test(test_relay_mx),
	    cmocka_unit_test(test_relay_submission),
	    cmocka_unit_test(test_auth_login_dialog),
	    cmocka_unit_test(test_starttls_injection),
	    cmocka_unit_test(test_data_and_received),
	    cmocka_unit_test(test_smuggling),
	    cmocka_unit_test(test_bare_cr_refused),
	    cmocka_unit_test(test_output_full_421),
	    cmocka_unit_test(test_8bit),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_max_hops),
	    cmocka_unit_test(test_submission_headers),
	    cmocka_unit_test(test_queue_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
