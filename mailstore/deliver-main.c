/* deliver-main.c: loft-deliver, the local delivery agent for scripts and
 * procmail-style use (like dovecot-lda): `loft deliver -u USER [-f SENDER]
 * [-a ADDRESS] < message`. Exit codes follow sysexits.h. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "lmtp.h"
#include "log.h"
#include "smtp-parse.h"

struct deliver_ctx {
	const char *conf_path;
	const char *user;
	const char *sender;
	const char *address;
	struct config *cfg;
	struct loft_log log;
	struct lmtp_user u;
};

static void usage(void)
{
	fprintf(stderr,
	        "usage: loft-deliver [-c CONF] [-u USER] [-f SENDER] [-a ADDRESS] < message\n");
}

static int parse_args(struct deliver_ctx *c, int argc, char **argv)
{
	int opt;
	while ((opt = getopt(argc, argv, "c:u:f:a:")) != -1) {
		switch (opt) {
		case 'c':
			c->conf_path = optarg;
			break;
		case 'u':
			c->user = optarg;
			break;
		case 'f':
			c->sender = optarg;
			break;
		case 'a':
			c->address = optarg;
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* Copy stdin to the spool, CRLF -> LF (Maildir files use LF). 0, or EX_*. */
static int read_message(int spool, uint64_t limit)
{
	char in[65536], out[sizeof(in) + 1];
	bool cr = false;
	uint64_t vsize = 0;
	for (;;) {
		ssize_t n = read(0, in, sizeof(in));
		if (n < 0)
			return EX_IOERR;
		if (n == 0)
			break;
		size_t o = 0;
		for (ssize_t i = 0; i < n; i++) {
			if (cr && in[i] != '\n')
				out[o++] = '\r';
			cr = in[i] == '\r';
			if (!cr)
				out[o++] = in[i];
			vsize += in[i] == '\n' ? 2 : 1;
		}
		if (limit > 0 && vsize > limit)
			return EX_DATAERR;
		if (write(spool, out, o) != (ssize_t)o)
			return EX_TEMPFAIL;
	}
	if (cr && write(spool, "\r", 1) != 1)
		return EX_TEMPFAIL;
	return 0;
}

/* Not root: only the invoking user, mailbox from mail_location. */
static int lookup_self(struct deliver_ctx *c)
{
	struct passwd *pw = getpwuid(getuid());
	const char *err = NULL;
	if (pw == NULL) {
		fprintf(stderr, "loft-deliver: who am I? (uid %ld)\n", (long)getuid());
		return EX_NOUSER;
	}
	if (c->user != NULL && strcmp(c->user, pw->pw_name) != 0) {
		fprintf(stderr, "loft-deliver: not root: can deliver only to %s\n", pw->pw_name);
		return EX_NOPERM;
	}
	c->u.user = strdup(pw->pw_name);
	c->u.home = strdup(pw->pw_dir);
	c->u.uid = pw->pw_uid;
	c->u.gid = pw->pw_gid;
	c->u.seccomp = config_bool(c->cfg, "seccomp");
	c->u.maildir = lmtp_maildir_path(config_str(c->cfg, "mail_location"), true, pw->pw_name,
	                                 pw->pw_dir, &err);
	if (c->u.maildir == NULL) {
		fprintf(stderr, "loft-deliver: mail location: %s\n", err ? err : "out of memory");
		return EX_CONFIG;
	}
	return 0;
}

static int lookup_auth(struct deliver_ctx *c)
{
	struct lmtp_auth_lookup al;
	if (c->user == NULL) {
		fprintf(stderr, "loft-deliver: -u USER is required when run as root\n");
		return EX_USAGE;
	}
	lmtp_auth_lookup_init(&al, c->cfg, &c->log);
	enum lmtp_lookup_result r = lmtp_lookup_auth(&al, c->user, NULL, &c->u);
	lmtp_auth_lookup_deinit(&al);
	if (r == LMTP_LOOKUP_NOTFOUND) {
		fprintf(stderr, "loft-deliver: %s: user unknown\n", c->user);
		return EX_NOUSER;
	}
	if (r == LMTP_LOOKUP_REFUSED) {
		fprintf(stderr, "loft-deliver: %s: delivery to this user is not permitted\n",
		        c->user);
		return EX_NOPERM;
	}
	return r == LMTP_LOOKUP_OK ? 0 : EX_TEMPFAIL;
}

/* Envelope addresses go into headers: they must pass the strict parser. */
static int check_addr(const char *what, const char *s, unsigned flags, struct smtp_addr *a)
{
	if (smtp_addr_parse(s, strlen(s), flags | SMTP_ADDR_ALLOW_UTF8, a) != SMTP_PARSE_OK) {
		fprintf(stderr, "loft-deliver: bad %s address\n", what);
		return EX_USAGE;
	}
	return 0;
}

static int run(struct deliver_ctx *c)
{
	struct smtp_addr from, to;
	int r;
	from.full[0] = '\0';
	if (c->sender != NULL && c->sender[0] != '\0' &&
	    (r = check_addr("sender", c->sender, 0, &from)))
		return r;
	r = geteuid() == 0 ? lookup_auth(c) : lookup_self(c);
	if (r != 0)
		return r;
	const char *rcpt = c->address ? c->address : c->u.user;
	if ((r = check_addr("recipient", rcpt, SMTP_ADDR_ALLOW_NODOMAIN, &to)) != 0)
		return r;
	int spool = lmtp_spool_open(NULL);
	if (spool < 0)
		return EX_TEMPFAIL;
	r = read_message(spool, config_size(c->cfg, "message_size_limit"));
	if (r == EX_DATAERR)
		fprintf(stderr, "loft-deliver: message exceeds message_size_limit\n");
	char err[256];
	if (r == 0 && lmtp_deliver_user(spool, from.full, to.full, &c->u, geteuid() == 0, &c->log,
	                                err, sizeof(err)) < 0) {
		fprintf(stderr, "loft-deliver: %s\n", err);
		r = EX_TEMPFAIL;
	}
	close(spool);
	return r;
}

int main(int argc, char **argv)
{
	struct deliver_ctx c;
	memset(&c, 0, sizeof(c));
	if (parse_args(&c, argc, argv) < 0) {
		usage();
		return EX_USAGE;
	}
	if (c.conf_path == NULL)
		c.conf_path = getenv("LOFT_CONF");
	if (c.conf_path == NULL)
		c.conf_path = "/etc/loft/loft.conf";
	struct cfg_errors errs = {0};
	c.cfg = config_load(c.conf_path, &errs);
	if (c.cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "loft-deliver: %s:%u: %s\n", errs.v[i].file, errs.v[i].line,
			        errs.v[i].msg);
		cfg_errors_free(&errs);
		return EX_CONFIG;
	}
	if (log_open_master(&c.log, "deliver", "-", "mail", LOG_WARNING) < 0) {
		config_free(c.cfg);
		return EX_SOFTWARE;
	}
	int r = run(&c);
	lmtp_user_clear(&c.u);
	log_close(&c.log);
	config_free(c.cfg);
	return r;
}
