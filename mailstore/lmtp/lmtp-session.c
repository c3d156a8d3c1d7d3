/* lmtp-session.c: one blocking LMTP session (RFC 2033) on a connected fd: a
 * state enum plus a command table (verb -> allowed states -> handler), replies
 * queued and flushed only when no pipelined command is left to read, DATA
 * spooled to an anonymous file and delivered per recipient, one reply each.
 * A MAIL with X-LOFT-QID (loft-queue) makes each delivery happen at most once
 * per queue id, recipient and content (lmtp-dedup.c, docs/lmtp.md). */
#include "lmtp.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "smtp-parse.h"

#define IN_MAX        (256 * 1024)
#define SPOOL_CHUNK   (64 * 1024)
#define DEFAULT_RCPTS 1000
#define MAX_BAD_CMDS  20

enum lmtp_state {
	ST_INIT = 1 << 0,  /* greeted, waiting for LHLO */
	ST_READY = 1 << 1, /* after LHLO, no transaction */
	ST_MAIL = 1 << 2,  /* after MAIL, collecting RCPTs */
};
#define ST_ANY (ST_INIT | ST_READY | ST_MAIL)

struct lmtp_rcpt {
	struct smtp_addr addr;
	struct lmtp_user user;
};

struct lmtp_sess {
	int fd;
	const struct lmtp_session_opts *o;
	enum lmtp_state state;
	struct buf in, out;
	bool skipping; /* discarding the rest of an over-long line */
	bool eof;
	bool timed_out;
	unsigned bad_cmds;
	struct smtp_mail mail;
	char qid[LMTP_QID_LEN + 1]; /* X-LOFT-QID of this transaction, or "" */
	struct lmtp_rcpt *rcpts;
	size_t nrcpts, caprcpts;
};

enum { H_OK = 0, H_QUIT = 1, H_IOERR = -1 };

static void reply(struct lmtp_sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct lmtp_sess *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (buf_vprintf(&s->out, fmt, ap) < 0 || buf_append(&s->out, "\r\n", 2) < 0)
		s->eof = true; /* a client that never reads its replies: give up */
	va_end(ap);
}

static int flush_out(struct lmtp_sess *s)
{
	size_t off = 0;
	while (off < s->out.len) {
		ssize_t n = write(s->fd, s->out.data + off, s->out.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};
			if (poll(&pfd, 1, s->o->timeout_ms) <= 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	buf_reset(&s->out);
	return 0;
}

/* Flush pending replies, then wait for and read more input. 1 = got bytes,
 * 0 = EOF or timeout, -1 = error. */
static int fill_in(struct lmtp_sess *s)
{
	char tmp[16384];
	if (flush_out(s) < 0)
		return -1;
	for (;;) {
		struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
		int pr = poll(&pfd, 1, s->o->timeout_ms > 0 ? s->o->timeout_ms : -1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			s->timed_out = true;
			return 0;
		}
		ssize_t n = pr < 0 ? -1 : read(s->fd, tmp, sizeof(tmp));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (buf_append(&s->in, tmp, (size_t)n) < 0)
			return -1;
		return 1;
	}
}

static void clear_transaction(struct lmtp_sess *s)
{
	for (size_t i = 0; i < s->nrcpts; i++)
		lmtp_user_clear(&s->rcpts[i].user);
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
	s->caprcpts = 0;
	memset(&s->mail, 0, sizeof(s->mail));
	s->qid[0] = '\0';
	if (s->state == ST_MAIL)
		s->state = ST_READY;
}

static void session_log(struct lmtp_sess *s, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void session_log(struct lmtp_sess *s, int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	if (s->o->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_msg(s->o->log, prio, s->o->session_id, "%s", line);
}

/* ---- command handlers ---- */

static int cmd_lhlo(struct lmtp_sess *s, const struct smtp_cmd *c)
{
	if (c->args_len == 0) {
		reply(s, "501 5.5.4 LHLO needs a host name");
		return H_OK;
	}
	clear_transaction(s);
	s->state = ST_READY;
	reply(s, "250-%s", s->o->hostname);
	reply(s, "250-PIPELINING");
	reply(s, "250-8BITMIME");
	reply(s, "250-ENHANCEDSTATUSCODES");
	if (s->o->size_limit > 0)
		reply(s, "250-SIZE %llu", (unsigned long long)s->o->size_limit);
	else
		reply(s, "250-SIZE");
	reply(s, "250-X-LOFT-QID");
	reply(s, "250 SMTPUTF8");
	return H_OK;
}

static void reply_parse_error(struct lmtp_sess *s, enum smtp_parse_result r, bool sender)
{
	switch (r) {
	case SMTP_PARSE_PARAM:
		reply(s, "555 5.5.4 Unsupported parameter");
		break;
	case SMTP_PARSE_ADDRESS:
	case SMTP_PARSE_TOO_LONG:
		reply(s, "501 %s Bad address syntax", sender ? "5.1.7" : "5.1.3");
		break;
	case SMTP_PARSE_NEEDS_UTF8:
		reply(s, "553 5.6.7 Non-ASCII address needs SMTPUTF8");
		break;
	default:
		reply(s, "501 5.5.4 Syntax: %s",
		      sender ? "MAIL FROM:<address>" : "RCPT TO:<address>");
		break;
	}
}

static int cmd_mail(struct lmtp_sess *s, const struct smtp_cmd *c)
{
	struct smtp_mail m;
	char args[SMTP_LINE_MAX + 1], qid[LMTP_QID_LEN + 1];
	size_t alen;
	if (c->args_len >= sizeof(args) ||
	    lmtp_mail_take_qid(c->args, c->args_len, args, &alen, qid) < 0) {
		reply(s, "555 5.5.4 Bad X-LOFT-QID parameter");
		return H_OK;
	}
	enum smtp_parse_result r = smtp_mail_parse(args, alen, &m);
	if (r != SMTP_PARSE_OK) {
		reply_parse_error(s, r, true);
		return H_OK;
	}
	if (m.has_size && s->o->size_limit > 0 && m.size > s->o->size_limit) {
		reply(s, "552 5.3.4 Message size exceeds fixed limit");
		return H_OK;
	}
	s->mail = m;
	memcpy(s->qid, qid, sizeof(s->qid));
	s->state = ST_MAIL;
	reply(s, "250 2.1.0 Ok");
	return H_OK;
}

static int cmd_rcpt(struct lmtp_sess *s, const struct smtp_cmd *c)
{
	struct smtp_rcpt r;
	unsigned max = s->o->max_recipients ? s->o->max_recipients : DEFAULT_RCPTS;
	enum smtp_parse_result pr =
	    smtp_rcpt_parse(c->args, c->args_len, s->mail.smtputf8, SMTP_ADDR_ALLOW_NODOMAIN, &r);
	if (pr != SMTP_PARSE_OK) {
		reply_parse_error(s, pr, false);
		return H_OK;
	}
	if (s->nrcpts >= max) {
		reply(s, "452 4.5.3 Too many recipients");
		return H_OK;
	}
	struct lmtp_user u;
	memset(&u, 0, sizeof(u));
	enum lmtp_lookup_result lr = s->o->lookup(s->o->lookup_ctx, r.to.full, r.to.local, &u);
	if (lr == LMTP_LOOKUP_NOTFOUND) {
		session_log(s, LOG_INFO, "RCPT <%s>: user unknown", r.to.full);
		reply(s, "550 5.1.1 <%s>... User unknown", r.to.full);
		return H_OK;
	}
	if (lr == LMTP_LOOKUP_REFUSED) {
		session_log(s, LOG_INFO, "RCPT <%s>: delivery to this user not permitted",
		            r.to.full);
		reply(s, "550 5.7.1 <%s>... Delivery to this user is not permitted", r.to.full);
		return H_OK;
	}
	if (lr != LMTP_LOOKUP_OK) {
		reply(s, "451 4.3.0 <%s>... Temporary user lookup failure", r.to.full);
		return H_OK;
	}
	if (s->nrcpts == s->caprcpts) {
		size_t cap = s->caprcpts ? s->caprcpts * 2 : 8;
		struct lmtp_rcpt *v = realloc(s->rcpts, cap * sizeof(*v));
		if (v == NULL) {
			lmtp_user_clear(&u);
			reply(s, "451 4.3.0 Out of memory");
			return H_OK;
		}
		s->rcpts = v;
		s->caprcpts = cap;
	}
	s->rcpts[s->nrcpts].addr = r.to;
	s->rcpts[s->nrcpts].user = u;
	s->nrcpts++;
	reply(s, "250 2.1.5 <%s>... Ok", r.to.full);
	return H_OK;
}

/* Read the DATA stream into spool_fd. Returns 1 when the terminator was
 * seen, 2 when it was seen but the spool write failed, 0 on EOF/timeout,
 * -1 on a connection error; *over when the size limit was passed. */
static int read_data(struct lmtp_sess *s, int spool_fd, bool *over)
{
	struct lmtp_data d;
	struct buf out;
	int ret = -1;
	lmtp_data_init(&d, s->o->size_limit);
	buf_init(&out, SPOOL_CHUNK * 2);
	for (;;) {
		size_t used = lmtp_data_feed(&d, s->in.data, s->in.len, &out);
		if (used == (size_t)-1)
			break;
		buf_consume(&s->in, used);
		if (out.len >= SPOOL_CHUNK || d.done) {
			if (spool_fd >= 0 && out.len > 0 &&
			    write(spool_fd, out.data, out.len) != (ssize_t)out.len)
				spool_fd = -1; /* remembered as a write failure below */
			buf_reset(&out);
		}
		if (d.done) {
			ret = spool_fd >= 0 ? 1 : 2;
			break;
		}
		int r = fill_in(s);
		if (r <= 0) {
			ret = r;
			break;
		}
	}
	*over = d.over;
	buf_free(&out);
	return ret;
}

static int cmd_data(struct lmtp_sess *s, const struct smtp_cmd *c)
{
	if (c->args_len > 0) {
		reply(s, "501 5.5.4 DATA takes no arguments");
		return H_OK;
	}
	if (s->nrcpts == 0) {
		reply(s, "503 5.5.1 No valid recipients");
		return H_OK;
	}
	int spool = lmtp_spool_open(s->o->spool_dir);
	if (spool < 0) {
		reply(s, "451 4.3.0 Cannot create spool file");
		return H_OK;
	}
	reply(s, "354 2.0.0 Start mail input; end with <CRLF>.<CRLF>");
	bool over = false;
	int r = read_data(s, spool, &over);
	if (r <= 0) {
		close(spool);
		return r == 0 ? H_QUIT : H_IOERR;
	}
	const char *qid = s->qid[0] != '\0' ? s->qid : NULL;
	for (size_t i = 0; i < s->nrcpts; i++) {
		struct lmtp_rcpt *rc = &s->rcpts[i];
		char err[256];
		int d = 0;
		if (over) {
			reply(s, "552 5.3.4 <%s> Message size exceeds fixed limit", rc->addr.full);
		} else if (r == 2) {
			reply(s, "451 4.3.0 <%s> Spool write failed", rc->addr.full);
		} else if ((d = lmtp_deliver_once(spool, qid, s->mail.from.full, rc->addr.full,
		                                  &rc->user, s->o->drop_privs, s->o->log, err,
		                                  sizeof(err))) < 0) {
			session_log(s, LOG_ERR, "delivery to <%s> failed: %s", rc->addr.full, err);
			reply(s, "451 4.3.0 <%s> Temporary delivery failure", rc->addr.full);
		} else if (d == 1) {
			session_log(s, LOG_NOTICE,
			            "<%s>: queue id %s already delivered, not stored again",
			            rc->addr.full, qid);
			reply(s, "250 2.0.0 <%s> Already delivered", rc->addr.full);
		} else {
			reply(s, "250 2.0.0 <%s> Saved", rc->addr.full);
		}
	}
	if (over)
		session_log(s, LOG_NOTICE, "message from <%s> over the size limit: refused",
		            s->mail.from.full);
	close(spool);
	clear_transaction(s);
	return H_OK;
}

static int cmd_rset(struct lmtp_sess *s, const struct smtp_cmd *c)
{
	(void)c;
	clear_transaction(s);
	reply(s, "250 2.0.0 Ok");
	return H_OK;
}

static int cmd_noop(struct lmtp_sess *s, const struct smtp_cmd *c)
{
	(void)c;
	reply(s, "250 2.0.0 Ok");
	return H_OK;
}

static int cmd_quit(struct lmtp_sess *s, const struct smtp_cmd *c)
{
	(void)c;
	reply(s, "221 2.0.0 %s closing connection", s->o->hostname);
	return H_QUIT;
}

static int cmd_vrfy(struct lmtp_sess *s, const struct smtp_cmd *c)
{
	(void)c;
	reply(s, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
	return H_OK;
}

static int cmd_help(struct lmtp_sess *s, const struct smtp_cmd *c)
{
	(void)c;
	reply(s, "214 2.0.0 Commands: LHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
	return H_OK;
}

static int cmd_helo(struct lmtp_sess *s, const struct smtp_cmd *c)
{
	(void)c;
	reply(s, "500 5.5.1 This is LMTP: use LHLO");
	return H_OK;
}

static const struct lmtp_cmd_row {
	enum smtp_verb verb;
	unsigned states;
	int (*run)(struct lmtp_sess *s, const struct smtp_cmd *c);
} cmd_table[] = {
    {SMTP_VERB_LHLO, ST_ANY, cmd_lhlo},  {SMTP_VERB_MAIL, ST_READY, cmd_mail},
    {SMTP_VERB_RCPT, ST_MAIL, cmd_rcpt}, {SMTP_VERB_DATA, ST_MAIL, cmd_data},
    {SMTP_VERB_RSET, ST_ANY, cmd_rset},  {SMTP_VERB_NOOP, ST_ANY, cmd_noop},
    {SMTP_VERB_QUIT, ST_ANY, cmd_quit},  {SMTP_VERB_VRFY, ST_ANY, cmd_vrfy},
    {SMTP_VERB_HELP, ST_ANY, cmd_help},  {SMTP_VERB_HELO, ST_ANY, cmd_helo},
    {SMTP_VERB_EHLO, ST_ANY, cmd_helo},
};

static int dispatch(struct lmtp_sess *s, const char *line, size_t len)
{
	struct smtp_cmd c;
	enum smtp_parse_result r = smtp_cmd_parse(line, len, &c);
	if (r == SMTP_PARSE_TOO_LONG) {
		reply(s, "500 5.5.2 Line too long");
	} else if (r != SMTP_PARSE_OK) {
		reply(s, "500 5.5.2 Syntax error");
	} else {
		for (size_t i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++) {
			const struct lmtp_cmd_row *row = &cmd_table[i];
			if (row->verb != c.verb)
				continue;
			if (!(row->states & s->state)) {
				reply(s, "503 5.5.1 Bad sequence of commands");
				return H_OK;
			}
			return row->run(s, &c);
		}
		reply(s, "502 5.5.2 Command not recognized");
	}
	if (++s->bad_cmds >= MAX_BAD_CMDS) {
		reply(s, "421 4.7.0 Too many errors, closing connection");
		return H_QUIT;
	}
	return H_OK;
}

/* Handle every complete line in s->in. H_OK when more input is needed. */
static int process_lines(struct lmtp_sess *s)
{
	for (;;) {
		if (s->skipping) {
			const char *lf = s->in.len ? memchr(s->in.data, '\n', s->in.len) : NULL;
			if (lf == NULL) {
				buf_reset(&s->in); /* still inside the over-long line */
				return H_OK;
			}
			buf_consume(&s->in, (size_t)(lf - s->in.data) + 1);
			s->skipping = false;
		}
		ssize_t n = line_find(s->in.data ? s->in.data : "", s->in.len, SMTP_LINE_MAX);
		if (n == 0)
			return H_OK;
		if (n < 0) {
			reply(s, "500 5.5.2 Line too long");
			s->skipping = true;
			if (++s->bad_cmds >= MAX_BAD_CMDS) {
				reply(s, "421 4.7.0 Too many errors, closing connection");
				return H_QUIT;
			}
			continue;
		}
		/* Copy the line out: DATA consumes s->in behind it. */
		char line[SMTP_LINE_MAX + 1];
		memcpy(line, s->in.data, (size_t)n);
		buf_consume(&s->in, (size_t)n);
		int r = dispatch(s, line, (size_t)n);
		if (r != H_OK)
			return r;
	}
}

int lmtp_session_run(int fd, const struct lmtp_session_opts *opts)
{
	struct lmtp_sess s;
	memset(&s, 0, sizeof(s));
	s.fd = fd;
	s.o = opts;
	s.state = ST_INIT;
	buf_init(&s.in, IN_MAX);
	buf_init(&s.out, 1024 * 1024);
	reply(&s, "220 %s LMTP ready", opts->hostname);
	int r = H_OK;
	while (r == H_OK && !s.eof) {
		r = process_lines(&s);
		if (r != H_OK)
			break;
		int fr = fill_in(&s);
		if (fr < 0)
			r = H_IOERR;
		else if (fr == 0)
			break;
	}
	if (s.timed_out) {
		reply(&s, "421 4.4.2 %s Timeout, closing connection", opts->hostname);
		session_log(&s, LOG_INFO, "idle timeout");
	}
	if (r != H_IOERR && flush_out(&s) < 0)
		r = H_IOERR;
	clear_transaction(&s);
	buf_free(&s.in);
	buf_free(&s.out);
	return r == H_IOERR ? -1 : 0;
}
