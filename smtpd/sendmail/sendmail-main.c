/* sendmail-main.c: `sendmail`, the /usr/sbin/sendmail interface (and
 * `mailq`, the same program as -bp). Reads a message, or an SMTP session
 * with -bs, and hands it to loft-queue over base_dir/pickup (QUEUE
 * protocol); needs no privileges. Exit codes follow sysexits.h
 * (docs/sendmail.md). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "queue-id.h"
#include "queue-client.h"
#include "sendmail-input.h"
#include "sendmail-opts.h"
#include "smtp-session.h"

#define QUEUE_TIMEOUT (300 * 1000) /* ms to wait for loft-queue's replies */

struct sendmail {
	const char *prog;
	struct sendmail_opts o;
	struct config *cfg;
	const char *base_dir;
	char hostname[256];
	char login[256];
	uint64_t size_limit;
};

static void usage(const char *prog)
{
	fprintf(stderr,
	        "usage: %s [-t] [-i] [-f sender] [-F fullname] [-C config] [recipient ...]\n"
	        "       %s -bp | -bs | -q\n",
	        prog, prog);
}

static int load_config(struct sendmail *sm)
{
	const char *path = sm->o.config;
	if (path == NULL) {
		const char *env = getenv("LOFT_CONF");
		path = (env != NULL && env[0] != '\0') ? env : LOFT_CONF_DEFAULT;
	}
	struct cfg_errors errs = {0};
	/* A config only root may read (it holds no secret sendmail needs):
	 * the built-in defaults, base_dir included, are what users get. */
	if (access(path, R_OK) < 0 && errno == EACCES)
		sm->cfg = config_defaults();
	else
		sm->cfg = config_load(path, &errs);
	if (sm->cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s: %s:%u: %s\n", sm->prog,
			        errs.v[i].file ? errs.v[i].file : path, errs.v[i].line,
			        errs.v[i].msg);
		if (errs.n == 0)
			fprintf(stderr, "%s: cannot load config %s\n", sm->prog, path);
		cfg_errors_free(&errs);
		return -1;
	}
	cfg_errors_free(&errs);
	sm->base_dir = config_str(sm->cfg, "base_dir");
	const char *h = config_str(sm->cfg, "myhostname");
	if (h != NULL && h[0] != '\0')
		snprintf(sm->hostname, sizeof(sm->hostname), "%s", h);
	else if (gethostname(sm->hostname, sizeof(sm->hostname) - 1) < 0)
		snprintf(sm->hostname, sizeof(sm->hostname), "localhost");
	sm->size_limit = config_size(sm->cfg, "message_size_limit");
	return 0;
}

static int exit_for(enum queue_result r)
{
	return r == QUEUE_PERMFAIL ? EX_UNAVAILABLE : EX_TEMPFAIL;
}

/* -bp, -q and the like: root only (the queue refuses others as well). */
static int run_admin(struct sendmail *sm, enum queue_admin_verb verb)
{
	if (!queue_client_may_admin(sm->base_dir)) {
		fprintf(stderr, "%s: permission denied: only root may %s the mail queue\n",
		        sm->prog, verb == QUEUE_ADMIN_LIST ? "list" : "flush");
		return EX_NOPERM;
	}
	struct queue_client qc;
	struct buf text;
	buf_init(&text, 0);
	queue_client_init(&qc);
	enum queue_result r = queue_client_connect_pickup(&qc, sm->base_dir, QUEUE_TIMEOUT);
	if (r == QUEUE_OK)
		r = queue_client_admin(&qc, verb, NULL, &text);
	int rc = EX_OK;
	if (r != QUEUE_OK) {
		fprintf(stderr, "%s: %s\n", sm->prog, qc.err);
		rc = exit_for(r);
	} else if (text.len > 0) {
		fwrite(text.data, 1, text.len, stdout);
		if (text.data[text.len - 1] != '\n')
			putchar('\n');
	}
	queue_client_close(&qc);
	buf_free(&text);
	return rc;
}

/* The envelope sender: -f (normalised; "" or <> = null), else login@host. */
static int envelope_sender(struct sendmail *sm, struct buf *out)
{
	if (sm->o.sender == NULL)
		return buf_printf(out, "%s@%s", sm->login, sm->hostname) < 0 ? EX_SOFTWARE : 0;
	if (sendmail_addr_normalise(sm->o.sender, strlen(sm->o.sender), true, out) < 0) {
		fprintf(stderr, "%s: bad sender address: %s\n", sm->prog, sm->o.sender);
		return EX_DATAERR;
	}
	/* a bare user gets our host name, as Postfix's myorigin */
	if (out->len > 0 && strchr(out->data, '@') == NULL &&
	    buf_printf(out, "@%s", sm->hostname) < 0)
		return EX_SOFTWARE;
	return 0;
}

/* Read stdin to spool form, stopping at a "." line unless -i. */
static int read_message(struct sendmail *sm, struct buf *msg)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		int r = sendmail_input_line(line, (size_t)n, sm->o.ignore_dots, msg);
		if (r == 1)
			break;
		if (r < 0) {
			fprintf(stderr, "%s: message too large (message_size_limit %llu bytes)\n",
			        sm->prog, (unsigned long long)sm->size_limit);
			rc = EX_DATAERR;
			break;
		}
	}
	if (rc == 0 && ferror(stdin)) {
		fprintf(stderr, "%s: reading the message: %s\n", sm->prog, strerror(errno));
		rc = EX_IOERR;
	}
	free(line);
	return rc;
}

static int collect_rcpts(struct sendmail *sm, const struct buf *msg,
                         const struct sendmail_header_info *hi, struct sendmail_rcpts *rl)
{
	struct buf err;
	buf_init(&err, 4096);
	int rc = 0;
	for (size_t i = 0; i < sm->o.n_rcpts && rc == 0; i++)
		rc = sendmail_rcpts_add_arg(rl, sm->o.rcpts[i], &err);
	if (rc == 0 && sm->o.extract_rcpts)
		rc = sendmail_rcpts_from_headers(rl, msg->data ? msg->data : "", hi->header_len,
		                                 &err);
	if (rc > 0) {
		fprintf(stderr, "%s: bad recipient address: %s\n", sm->prog,
		        err.data ? err.data : "");
		rc = EX_NOUSER;
	} else if (rc < 0) {
		fprintf(stderr, "%s: out of memory\n", sm->prog);
		rc = EX_OSERR;
	} else if (rl->n == 0) {
		fprintf(stderr, "%s: no recipients given\n", sm->prog);
		rc = EX_USAGE;
	}
	buf_free(&err);
	return rc;
}

static int submit(struct sendmail *sm, const char *sender, const struct sendmail_rcpts *rl,
                  const struct buf *msg, const struct sendmail_header_info *hi)
{
	struct queue_client qc;
	char qid[128];
	queue_client_init(&qc);
	enum queue_result r = queue_client_connect_pickup(&qc, sm->base_dir, QUEUE_TIMEOUT);
	struct queue_envelope env = {
	    .sender = sender, .rcpts = (const char *const *)rl->v, .n_rcpts = rl->n};
	if (r == QUEUE_OK)
		r = queue_client_begin(&qc, &env, qid, sizeof(qid));
	if (r == QUEUE_OK) {
		struct buf hdr;
		buf_init(&hdr, 0);
		struct sendmail_add add = {.from = sender[0] != '\0' ? sender : NULL,
		                           .fullname = sm->o.fullname,
		                           .hostname = sm->hostname,
		                           .queue_id = qid,
		                           .now = time(NULL)};
		char own[600];
		if (add.from == NULL) {
			snprintf(own, sizeof(own), "%s@%s", sm->login, sm->hostname);
			add.from = own;
		}
		if (sendmail_header_build(&hdr, msg->data ? msg->data : "", hi, &add) < 0) {
			snprintf(qc.err, sizeof(qc.err), "out of memory");
			r = QUEUE_IO_ERROR;
		}
		if (r == QUEUE_OK)
			r = queue_client_write(&qc, hdr.data, hdr.len);
		if (r == QUEUE_OK)
			r = queue_client_write(&qc, msg->data + hi->body_off,
			                       msg->len - hi->body_off);
		if (r == QUEUE_OK)
			r = queue_client_commit(&qc);
		else
			queue_client_abort(&qc);
		buf_free(&hdr);
	}
	if (r != QUEUE_OK)
		fprintf(stderr, "%s: message not queued: %s\n", sm->prog, qc.err);
	else if (sm->o.verbose)
		fprintf(stderr, "%s: queued as %s\n", sm->prog, qid);
	queue_client_close(&qc);
	return r == QUEUE_OK ? EX_OK : exit_for(r);
}

static int run_deliver(struct sendmail *sm)
{
	struct buf sender, msg;
	buf_init(&sender, 0);
	/* room for the size limit plus the headers we add */
	buf_init(&msg, sm->size_limit > 0 ? sm->size_limit : 0);
	struct sendmail_rcpts rl = {0};
	struct sendmail_header_info hi;
	int rc = envelope_sender(sm, &sender);
	if (rc == 0)
		rc = read_message(sm, &msg);
	if (rc == 0) {
		sendmail_header_scan(msg.data ? msg.data : "", msg.len, &hi);
		rc = collect_rcpts(sm, &msg, &hi, &rl);
	}
	if (rc == 0)
		rc = submit(sm, sender.data ? sender.data : "", &rl, &msg, &hi);
	sendmail_rcpts_free(&rl);
	buf_free(&msg);
	buf_free(&sender);
	return rc;
}

/* -bs: an SMTP server session on stdin/stdout whose queue callbacks speak
 * QUEUE over pickup. */
struct bs_ctx {
	struct sendmail *sm;
	struct queue_client qc;
	bool open;
};

static enum smtp_rcpt_result bs_rcpt_check(void *ctx, const struct smtp_addr *rcpt)
{
	(void)ctx;
	(void)rcpt;
	return SMTP_RCPT_OK; /* loft-queue decides; local mail bounces if unknown */
}

static enum smtp_queue_result bs_result(struct bs_ctx *b, enum queue_result r)
{
	if (r == QUEUE_OK)
		return SMTP_QUEUE_OK;
	fprintf(stderr, "%s: %s\n", b->sm->prog, b->qc.err);
	queue_client_close(&b->qc);
	b->open = false;
	return r == QUEUE_PERMFAIL ? SMTP_QUEUE_PERM : SMTP_QUEUE_TEMP;
}

/* The queue's own code and text for the session's 4xx/5xx. */
static void bs_reason(void *ctx, const char **status_r, const char **text_r)
{
	struct bs_ctx *b = ctx;
	*status_r = b->qc.status;
	*text_r = b->qc.text;
}

static enum smtp_queue_result bs_begin(void *ctx, const struct smtp_txn *txn, char *qid,
                                       size_t qid_size)
{
	struct bs_ctx *b = ctx;
	const char **rcpts = calloc(txn->n_rcpts ? txn->n_rcpts : 1, sizeof(*rcpts));
	if (rcpts == NULL)
		return SMTP_QUEUE_TEMP;
	for (size_t i = 0; i < txn->n_rcpts; i++)
		rcpts[i] = txn->rcpts[i].to.full;
	enum queue_result r = queue_client_connect_pickup(&b->qc, b->sm->base_dir, QUEUE_TIMEOUT);
	b->open = true;
	struct queue_envelope env = {
	    .sender = txn->mail.from.full, .rcpts = rcpts, .n_rcpts = txn->n_rcpts};
	if (r == QUEUE_OK)
		r = queue_client_begin(&b->qc, &env, qid, qid_size);
	free(rcpts);
	return bs_result(b, r);
}

static enum smtp_queue_result bs_write(void *ctx, const char *p, size_t len)
{
	struct bs_ctx *b = ctx;
	return bs_result(b, queue_client_write(&b->qc, p, len));
}

static enum smtp_queue_result bs_commit(void *ctx)
{
	struct bs_ctx *b = ctx;
	enum smtp_queue_result r = bs_result(b, queue_client_commit(&b->qc));
	if (b->open)
		queue_client_close(&b->qc);
	b->open = false;
	return r;
}

static void bs_abort(void *ctx)
{
	struct bs_ctx *b = ctx;
	if (b->open) {
		queue_client_abort(&b->qc);
		queue_client_close(&b->qc);
	}
	b->open = false;
}

static int flush_output(struct smtp_session *s)
{
	struct buf *out = smtp_session_output(s);
	while (out->len > 0) {
		ssize_t n = write(1, out->data, out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf_consume(out, (size_t)n);
	}
	return 0;
}

static int run_smtp(struct sendmail *sm)
{
	static const struct smtp_session_callbacks cb = {
	    .rcpt_check = bs_rcpt_check,
	    .queue_begin = bs_begin,
	    .queue_write = bs_write,
	    .queue_commit = bs_commit,
	    .queue_abort = bs_abort,
	    .queue_reason = bs_reason,
	};
	struct bs_ctx b = {.sm = sm};
	queue_client_init(&b.qc);
	size_t n_dom = 0;
	const char *const *doms = config_list(sm->cfg, "mydomains", &n_dom);
	struct smtp_session_opts so = {
	    .mode = SMTP_MODE_MX,
	    .hostname = sm->hostname,
	    .mydomains = doms,
	    .n_mydomains = n_dom,
	    .size_limit = sm->size_limit,
	    .client_in_mynetworks = true, /* a local user: may send anywhere, like -bm */
	    .client_loopback = true,
	    .client_ip = "127.0.0.1",
	    .client_rdns = "localhost",
	    .cb = &cb,
	    .cb_ctx = &b,
	};
	struct smtp_session *s = smtp_session_new(&so);
	if (s == NULL)
		return EX_OSERR;
	char in[65536];
	int rc = EX_OK;
	for (;;) {
		if (flush_output(s) < 0) {
			rc = EX_IOERR;
			break;
		}
		if (smtp_session_closed(s))
			break;
		ssize_t n = read(0, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			smtp_session_eof(s);
			break;
		}
		if (smtp_session_input(s, in, (size_t)n) < 0) {
			flush_output(s);
			break;
		}
	}
	smtp_session_free(s);
	if (b.open)
		queue_client_close(&b.qc);
	return rc;
}

int main(int argc, char **argv)
{
	struct sendmail sm = {.prog = "sendmail"};
	if (argc > 0 && argv[0] != NULL) {
		const char *b = strrchr(argv[0], '/');
		sm.prog = b != NULL ? b + 1 : argv[0];
	}
	struct buf warn, err;
	buf_init(&warn, 0);
	buf_init(&err, 0);
	int prc = sendmail_opts_parse(argc, argv, &sm.o, &warn, &err);
	if (warn.len > 0) {
		char *save = NULL;
		for (char *l = strtok_r(warn.data, "\n", &save); l != NULL;
		     l = strtok_r(NULL, "\n", &save))
			fprintf(stderr, "%s: warning: %s\n", sm.prog, l);
	}
	buf_free(&warn);
	if (prc < 0) {
		fprintf(stderr, "%s: %s\n", sm.prog, err.data ? err.data : "bad usage");
		buf_free(&err);
		usage(sm.prog);
		return EX_USAGE;
	}
	buf_free(&err);

	struct passwd *pw = getpwuid(getuid());
	if (pw != NULL)
		snprintf(sm.login, sizeof(sm.login), "%s", pw->pw_name);
	else
		snprintf(sm.login, sizeof(sm.login), "uid%lu", (unsigned long)getuid());
	if (load_config(&sm) < 0)
		return EX_CONFIG;

	int rc;
	switch (sm.o.mode) {
	case SENDMAIL_MODE_LIST:
		rc = run_admin(&sm, QUEUE_ADMIN_LIST);
		break;
	case SENDMAIL_MODE_FLUSH:
		rc = run_admin(&sm, QUEUE_ADMIN_FLUSH);
		break;
	case SENDMAIL_MODE_SMTP:
		rc = run_smtp(&sm);
		break;
	default:
		rc = run_deliver(&sm);
		break;
	}
	config_free(sm.cfg);
	return rc;
}
