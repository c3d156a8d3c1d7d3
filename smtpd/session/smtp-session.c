/* smtp-session.c: the SMTP server state machine of smtpd (RFC 5321 with
 * PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES, SMTPUTF8, STARTTLS, AUTH).
 * No I/O: bytes in through smtp_session_input, replies out in a buf, and the
 * daemon's callbacks for lookups, AUTH, TLS and the queue. Commands are rows
 * of a table; the DATA phase lives in smtp-session-data.c. */
#include "smtp-session.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "smtp-headers.h"
#include "smtp-session-private.h"

/* The client stopped reading: drop the reply being written (all its
 * lines, so no "250-" is left without its end) and end with a 421 in the
 * room kept for it. */
static void sess_output_full(struct smtp_session *s)
{
	if (s->reply_start < s->out.len)
		s->out.len = s->reply_start;
	if (s->out.data != NULL)
		s->out.data[s->out.len] = '\0';
	/* reply_start <= SESS_OUTPUT_MAX, so this fits in the reserve */
	buf_printf(&s->out, "421 4.7.0 %.*s Error: too much unread output\r\n", 255,
	           s->o->hostname);
	s->reply_open = false;
	s->closed = true;
}

void sess_vreply(struct smtp_session *s, bool more, int code, const char *enh, const char *fmt,
                 va_list ap)
{
	if (s->closed)
		return; /* nothing is said after the last word (221, 421) */
	if (!s->reply_open)
		s->reply_start = s->out.len;
	s->reply_open = more;
	if (code >= 400 && code != 421)
		s->errors++;
	if (buf_printf(&s->out, "%03d%c", code, more ? '-' : ' ') < 0 ||
	    (enh != NULL && buf_printf(&s->out, "%s ", enh) < 0) ||
	    buf_vprintf(&s->out, fmt, ap) < 0 || buf_append(&s->out, "\r\n", 2) < 0 ||
	    s->out.len > SESS_OUTPUT_MAX)
		sess_output_full(s);
}

void sess_reply(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sess_vreply(s, false, code, enh, fmt, ap);
	va_end(ap);
}

static void reply_more(struct smtp_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply_more(struct smtp_session *s, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sess_vreply(s, true, code, NULL, fmt, ap);
	va_end(ap);
}

void sess_txn_clear(struct smtp_session *s)
{
	free(s->txn.rcpts);
	memset(&s->txn, 0, sizeof(s->txn));
	s->rcpt_cap = 0;
	if (s->state != ST_INIT)
		s->state = ST_HELO;
}

static bool auth_offered(const struct smtp_session *s)
{
	return s->tls || s->o->client_loopback;
}

static int set_helo(struct smtp_session *s, const struct smtp_cmd *c, bool esmtp)
{
	if (c->args_len == 0) {
		sess_reply(s, 501, "5.5.4", "Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		return -1;
	}
	buf_reset(&s->helo);
	smtp_sanitize(&s->helo, c->args, c->args_len, SMTP_SANITIZE_MAX);
	s->esmtp = esmtp;
	s->state = ST_HELO;
	sess_txn_clear(s);
	return 0;
}

static void cmd_ehlo(struct smtp_session *s, const struct smtp_cmd *c)
{
	if (set_helo(s, c, true) < 0)
		return;
	reply_more(s, 250, "%s", s->o->hostname);
	reply_more(s, 250, "PIPELINING");
	if (s->o->size_limit > 0)
		reply_more(s, 250, "SIZE %llu", (unsigned long long)s->o->size_limit);
	else
		reply_more(s, 250, "SIZE");
	if (s->o->tls_available && !s->tls)
		reply_more(s, 250, "STARTTLS");
	if (auth_offered(s) && s->auth_user == NULL)
		reply_more(s, 250, "AUTH PLAIN LOGIN");
	reply_more(s, 250, "ENHANCEDSTATUSCODES");
	reply_more(s, 250, "8BITMIME");
	sess_reply(s, 250, NULL, "SMTPUTF8");
}

static void cmd_helo(struct smtp_session *s, const struct smtp_cmd *c)
{
	if (set_helo(s, c, false) == 0)
		sess_reply(s, 250, NULL, "%s", s->o->hostname);
}

static void reply_parse_error(struct smtp_session *s, enum smtp_parse_result r, bool sender)
{
	switch (r) {
	case SMTP_PARSE_PARAM:
		sess_reply(s, 555, "5.5.4", "Unsupported option");
		break;
	case SMTP_PARSE_ADDRESS:
	case SMTP_PARSE_TOO_LONG:
		sess_reply(s, 501, sender ? "5.1.7" : "5.1.3", "Bad %s address syntax",
		           sender ? "sender" : "recipient");
		break;
	case SMTP_PARSE_NEEDS_UTF8:
		sess_reply(s, 553, "5.6.7", "Non-ASCII address needs SMTPUTF8");
		break;
	default:
		sess_reply(s, 501, "5.5.4", "Syntax: %s",
		           sender ? "MAIL FROM:<address>" : "RCPT TO:<address>");
		break;
	}
}

static void cmd_mail(struct smtp_session *s, const struct smtp_cmd *c)
{
	struct smtp_mail m;
	if (s->o->mode != SMTP_MODE_MX && s->auth_user == NULL) {
		sess_reply(s, 530, "5.7.0", "Authentication required");
		return;
	}
	enum smtp_parse_result r = smtp_mail_parse(c->args, c->args_len, &m);
	if (r != SMTP_PARSE_OK) {
		reply_parse_error(s, r, true);
		return;
	}
	if (m.has_size && s->o->size_limit > 0 && m.size > s->o->size_limit) {
		sess_reply(s, 552, "5.3.4", "Message size exceeds fixed limit");
		return;
	}
	sess_txn_clear(s);
	s->txn.mail = m;
	s->state = ST_MAIL;
	sess_reply(s, 250, "2.1.0", "Ok");
}

static bool is_local_domain(const struct smtp_session *s, const struct smtp_addr *a)
{
	if (!a->has_domain)
		return true;
	for (size_t i = 0; i < s->o->n_mydomains; i++)
		if (strcasecmp(a->domain, s->o->mydomains[i]) == 0)
			return true;
	return false;
}

/* 0 when the recipient is accepted; otherwise the reply is written. */
static int rcpt_allowed(struct smtp_session *s, const struct smtp_addr *a)
{
	if (!a->has_domain && strcasecmp(a->local, "postmaster") != 0) {
		sess_reply(s, 504, "5.5.2",
		           "<%s>: Recipient address rejected: need fully-qualified address",
		           a->full);
		return -1;
	}
	if (!is_local_domain(s, a)) {
		if (s->auth_user != NULL || s->o->client_in_mynetworks)
			return 0;
		sess_reply(s, 554, "5.7.1", "<%s>: Relay access denied", a->full);
		return -1;
	}
	/* RFC 5321 4.5.1: postmaster of a local domain is always accepted */
	if (strcasecmp(a->local, "postmaster") == 0)
		return 0;
	switch (s->o->cb->rcpt_check(s->o->cb_ctx, a)) {
	case SMTP_RCPT_OK:
		return 0;
	case SMTP_RCPT_UNKNOWN:
		sess_reply(
		    s, 550, "5.1.1",
		    "<%s>: Recipient address rejected: User unknown in local recipient table",
		    a->full);
		return -1;
	default:
		sess_reply(s, 451, "4.3.0", "<%s>: Temporary lookup failure", a->full);
		return -1;
	}
}

static void cmd_rcpt(struct smtp_session *s, const struct smtp_cmd *c)
{
	struct smtp_rcpt r;
	unsigned max = s->o->max_recipients ? s->o->max_recipients : 1000;
	enum smtp_parse_result pr = smtp_rcpt_parse(c->args, c->args_len, s->txn.mail.smtputf8,
	                                            SMTP_ADDR_ALLOW_NODOMAIN, &r);
	if (pr != SMTP_PARSE_OK) {
		reply_parse_error(s, pr, false);
		return;
	}
	if (s->txn.n_rcpts >= max) {
		sess_reply(s, 452, "4.5.3", "Error: too many recipients");
		return;
	}
	if (rcpt_allowed(s, &r.to) < 0)
		return;
	if (s->txn.n_rcpts == s->rcpt_cap) {
		size_t cap = s->rcpt_cap ? s->rcpt_cap * 2 : 4;
		struct smtp_rcpt *v = realloc(s->txn.rcpts, cap * sizeof(*v));
		if (v == NULL) {
			sess_reply(s, 452, "4.3.1", "Insufficient system resources");
			return;
		}
		s->txn.rcpts = v;
		s->rcpt_cap = cap;
	}
	s->txn.rcpts[s->txn.n_rcpts++] = r;
	s->state = ST_RCPT;
	sess_reply(s, 250, "2.1.5", "Ok");
}

static void cmd_rset(struct smtp_session *s, const struct smtp_cmd *c)
{
	(void)c;
	sess_txn_clear(s);
	sess_reply(s, 250, "2.0.0", "Ok");
}

static void cmd_noop(struct smtp_session *s, const struct smtp_cmd *c)
{
	(void)c;
	sess_reply(s, 250, "2.0.0", "Ok");
}

static void cmd_quit(struct smtp_session *s, const struct smtp_cmd *c)
{
	(void)c;
	sess_reply(s, 221, "2.0.0", "Bye");
	s->closed = true;
}

static void cmd_vrfy(struct smtp_session *s, const struct smtp_cmd *c)
{
	if (c->args_len == 0)
		sess_reply(s, 501, "5.5.4", "Syntax: VRFY address");
	else
		sess_reply(s, 252, "2.0.0", "Cannot VRFY user; try RCPT to attempt delivery");
}

static void cmd_help(struct smtp_session *s, const struct smtp_cmd *c)
{
	(void)c;
	sess_reply(s, 214, "2.0.0",
	           "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH");
}

static void cmd_unsupported(struct smtp_session *s, const struct smtp_cmd *c)
{
	(void)c;
	sess_reply(s, 502, "5.5.1", "Error: command not supported");
}

static void cmd_starttls(struct smtp_session *s, const struct smtp_cmd *c)
{
	if (s->tls) {
		sess_reply(s, 554, "5.5.1", "Error: TLS already active");
		return;
	}
	if (!s->o->tls_available || s->o->cb->starttls == NULL) {
		sess_reply(s, 502, "5.5.1", "Error: command not supported");
		return;
	}
	if (c->args_len != 0) {
		sess_reply(s, 501, "5.5.4", "Syntax: STARTTLS");
		return;
	}
	sess_reply(s, 220, "2.0.0", "Ready to start TLS");
	/* anything pipelined after STARTTLS was sent in clear text: drop it */
	buf_reset(&s->in);
	s->wait = W_TLS;
	s->o->cb->starttls(s->o->cb_ctx);
}

static bool mech_known(const char *p, size_t len)
{
	return (len == 5 && strncasecmp(p, "PLAIN", 5) == 0) ||
	       (len == 5 && strncasecmp(p, "LOGIN", 5) == 0);
}

static void cmd_auth(struct smtp_session *s, const struct smtp_cmd *c)
{
	char mech[6], initial[SMTP_LINE_MAX + 1];
	if (!auth_offered(s) || s->o->cb->auth_start == NULL) {
		sess_reply(s, 503, "5.5.1", "Error: authentication not enabled");
		return;
	}
	if (s->auth_user != NULL) {
		sess_reply(s, 503, "5.5.1", "Error: already authenticated");
		return;
	}
	const char *sp = memchr(c->args, ' ', c->args_len);
	size_t mlen = sp != NULL ? (size_t)(sp - c->args) : c->args_len;
	if (mlen == 0) {
		sess_reply(s, 501, "5.5.4", "Syntax: AUTH mechanism");
		return;
	}
	if (!mech_known(c->args, mlen)) {
		sess_reply(s, 504, "5.5.4", "Unrecognized authentication type");
		return;
	}
	for (size_t i = 0; i < 5; i++)
		mech[i] = (char)(c->args[i] & ~0x20); /* ASCII upper case */
	mech[5] = '\0';
	size_t ilen = sp != NULL ? c->args_len - mlen - 1 : 0;
	memcpy(initial, sp != NULL ? sp + 1 : "", ilen);
	initial[ilen] = '\0';
	s->wait = W_AUTH;
	if (s->o->cb->auth_start(s->o->cb_ctx, mech, sp != NULL ? initial : NULL) < 0) {
		s->wait = W_NONE;
		sess_reply(s, 454, "4.7.0", "Temporary authentication failure");
	}
}

enum {
	S_INIT = 1 << ST_INIT,
	S_HELO = 1 << ST_HELO,
	S_MAIL = 1 << ST_MAIL,
	S_RCPT = 1 << ST_RCPT,
	S_ANY = S_INIT | S_HELO | S_MAIL | S_RCPT,
};

static const struct cmd_row {
	enum smtp_verb verb;
	unsigned states; /* where the verb is allowed; elsewhere 503 */
	void (*run)(struct smtp_session *s, const struct smtp_cmd *c);
} cmd_table[] = {
    {SMTP_VERB_EHLO, S_ANY, cmd_ehlo},
    {SMTP_VERB_HELO, S_ANY, cmd_helo},
    {SMTP_VERB_MAIL, S_HELO, cmd_mail},
    {SMTP_VERB_RCPT, S_MAIL | S_RCPT, cmd_rcpt},
    {SMTP_VERB_DATA, S_RCPT, sess_cmd_data},
    {SMTP_VERB_RSET, S_ANY, cmd_rset},
    {SMTP_VERB_NOOP, S_ANY, cmd_noop},
    {SMTP_VERB_QUIT, S_ANY, cmd_quit},
    {SMTP_VERB_VRFY, S_ANY, cmd_vrfy},
    {SMTP_VERB_HELP, S_ANY, cmd_help},
    {SMTP_VERB_STARTTLS, S_INIT | S_HELO, cmd_starttls},
    {SMTP_VERB_AUTH, S_HELO, cmd_auth},
    {SMTP_VERB_EXPN, S_ANY, cmd_unsupported},
    {SMTP_VERB_BDAT, S_ANY, cmd_unsupported},
};

static void bad_sequence(struct smtp_session *s, enum smtp_verb verb)
{
	const char *why;
	if (s->state == ST_INIT)
		why = "send HELO/EHLO first";
	else if (verb == SMTP_VERB_MAIL)
		why = "nested MAIL command";
	else if (verb == SMTP_VERB_RCPT || (verb == SMTP_VERB_DATA && s->state == ST_HELO))
		why = "need MAIL command";
	else if (verb == SMTP_VERB_DATA)
		why = "need RCPT command";
	else
		why = "MAIL transaction in progress";
	sess_reply(s, 503, "5.5.1", "Error: %s", why);
}

static void dispatch(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_cmd c;
	enum smtp_parse_result r = smtp_cmd_parse(line, len, &c);
	if (r == SMTP_PARSE_TOO_LONG) {
		sess_reply(s, 500, "5.5.2", "Error: line too long");
		return;
	}
	if (r != SMTP_PARSE_OK) {
		sess_reply(s, 500, "5.5.2", "Error: bad syntax");
		return;
	}
	for (size_t i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++) {
		const struct cmd_row *row = &cmd_table[i];
		if (row->verb != c.verb)
			continue;
		if (!(row->states & (1u << s->state)))
			bad_sequence(s, c.verb);
		else
			row->run(s, &c);
		return;
	}
	sess_reply(s, 500, "5.5.2", "Error: command not recognized");
}

/* A line while AUTH waits for the client's answer to a 334. */
static void auth_line(struct smtp_session *s, const char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 1 && line[0] == '*') {
		s->wait = W_NONE;
		sess_reply(s, 501, "5.7.0", "Authentication aborted");
		if (s->o->cb->auth_continue != NULL)
			s->o->cb->auth_continue(s->o->cb_ctx, line, len);
		return;
	}
	s->wait = W_AUTH;
	if (s->o->cb->auth_continue == NULL ||
	    s->o->cb->auth_continue(s->o->cb_ctx, line, len) < 0) {
		s->wait = W_NONE;
		sess_reply(s, 454, "4.7.0", "Temporary authentication failure");
	}
}

/* One step of command-mode input: false when more bytes are needed. */
static bool process_line(struct smtp_session *s)
{
	char line[SMTP_LINE_MAX + 2];
	ssize_t n = line_find(s->in.data, s->in.len, SMTP_LINE_MAX);
	if (n < 0) {
		if (!s->skip_line)
			sess_reply(s, 500, "5.5.2", "Error: line too long");
		if (s->wait == W_AUTH_LINE) {
			/* no SASL answer is that long: cancel the exchange */
			s->wait = W_NONE;
			if (s->o->cb->auth_continue != NULL)
				s->o->cb->auth_continue(s->o->cb_ctx, "*", 1);
		}
		s->skip_line = true; /* the rest of it, up to its LF, is not a command */
		buf_reset(&s->in);
		return false;
	}
	if (n == 0)
		return false;
	memcpy(line, s->in.data, (size_t)n);
	buf_consume(&s->in, (size_t)n);
	if (s->skip_line) {
		s->skip_line = false;
		return true;
	}
	if (s->wait == W_AUTH_LINE)
		auth_line(s, line, (size_t)n);
	else
		dispatch(s, line, (size_t)n);
	return true;
}

static void process(struct smtp_session *s)
{
	unsigned max_errors = s->o->max_errors ? s->o->max_errors : 20;
	while (!s->closed && (s->wait == W_NONE || s->wait == W_AUTH_LINE)) {
		bool more;
		if (s->state == ST_DATA)
			more = sess_data_input(s);
		else
			more = process_line(s);
		if (s->errors >= max_errors && !s->closed) {
			sess_reply(s, 421, "4.7.0", "%s Error: too many errors", s->o->hostname);
			s->closed = true;
		}
		if (!more)
			break;
	}
	if (s->closed)
		sess_data_abort(s);
}

struct smtp_session *smtp_session_new(const struct smtp_session_opts *opts)
{
	struct smtp_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->o = opts;
	buf_init(&s->in, SESS_INPUT_MAX);
	buf_init(&s->out, SESS_OUTPUT_MAX + SESS_OUTPUT_RESERVE);
	buf_init(&s->helo, SMTP_SANITIZE_MAX + 1);
	buf_init(&s->dec, 0);
	buf_init(&s->hdr, 0);
	buf_init(&s->tls_proto, 0);
	buf_init(&s->tls_cipher, 0);
	s->tls = opts->mode == SMTP_MODE_SUBMISSIONS;
	if (s->tls)
		sess_set_tls(s, opts->tls_proto, opts->tls_cipher, opts->tls_bits);
	sess_reply(s, 220, NULL, "%s ESMTP Loft", opts->hostname);
	return s;
}

void smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	sess_data_abort(s);
	buf_free(&s->in);
	buf_free(&s->out);
	buf_free(&s->helo);
	buf_free(&s->dec);
	buf_free(&s->hdr);
	buf_free(&s->tls_proto);
	buf_free(&s->tls_cipher);
	free(s->txn.rcpts);
	free(s->auth_user);
	free(s);
}

int smtp_session_input(struct smtp_session *s, const char *p, size_t len)
{
	if (s->closed)
		return -1;
	if (s->wait == W_TLS)
		return 0; /* clear text between STARTTLS and the handshake */
	if (buf_append(&s->in, p, len) < 0) {
		sess_reply(s, 421, "4.7.0", "%s Error: too much pipelined input", s->o->hostname);
		s->closed = true;
		sess_data_abort(s);
		return -1;
	}
	process(s);
	return s->closed ? -1 : 0;
}

void smtp_session_eof(struct smtp_session *s)
{
	sess_data_abort(s);
	s->closed = true;
}

struct buf *smtp_session_output(struct smtp_session *s)
{
	return &s->out;
}

bool smtp_session_closed(const struct smtp_session *s)
{
	return s->closed;
}

int smtp_session_auth_challenge(struct smtp_session *s, const char *b64)
{
	if (s->closed || s->wait != W_AUTH)
		return -1;
	sess_reply(s, 334, NULL, "%s", b64);
	s->wait = W_AUTH_LINE;
	process(s);
	return s->closed ? -1 : 0;
}

int smtp_session_auth_done(struct smtp_session *s, const char *user, bool temp)
{
	if (s->closed || s->wait != W_AUTH)
		return -1;
	s->wait = W_NONE;
	if (user != NULL) {
		s->auth_user = strdup(user);
		if (s->auth_user == NULL) {
			sess_reply(s, 454, "4.7.0", "Temporary authentication failure");
		} else {
			sess_reply(s, 235, "2.7.0", "Authentication successful");
		}
	} else if (temp) {
		sess_reply(s, 454, "4.7.0", "Temporary authentication failure");
	} else {
		sess_reply(s, 535, "5.7.8", "Error: authentication failed");
	}
	process(s);
	return s->closed ? -1 : 0;
}

int smtp_session_tls_started(struct smtp_session *s, const char *proto, const char *cipher,
                             int bits)
{
	if (s->closed || s->wait != W_TLS)
		return -1;
	/* RFC 3207 4.2: forget everything learnt before the handshake */
	s->wait = W_NONE;
	s->tls = true;
	sess_set_tls(s, proto, cipher, bits);
	s->state = ST_INIT;
	sess_txn_clear(s);
	buf_reset(&s->helo);
	free(s->auth_user);
	s->auth_user = NULL;
	buf_reset(&s->in);
	return 0;
}

void sess_set_tls(struct smtp_session *s, const char *proto, const char *cipher, int bits)
{
	buf_reset(&s->tls_proto);
	buf_reset(&s->tls_cipher);
	proto = proto != NULL ? proto : "TLS";
	cipher = cipher != NULL ? cipher : "unknown";
	smtp_sanitize(&s->tls_proto, proto, strlen(proto), 64);
	smtp_sanitize(&s->tls_cipher, cipher, strlen(cipher), 128);
	s->tls_bits = bits;
}
