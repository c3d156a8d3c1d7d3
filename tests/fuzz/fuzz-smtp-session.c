/* fuzz-smtp-session.c: libFuzzer target for the smtpd session state machine
 * (smtpd/session/smtp-session.c) with accepting fake callbacks. The input is cut into
 * chunks; AUTH and STARTTLS are answered between chunks. The output must
 * always be well-formed reply lines ("NNN " or "NNN-" ... CRLF, no control
 * bytes), the queue calls must pair up (begin -> commit or abort), and
 * what is queued never holds a bare CR or LF (smuggling, issue 18). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smtp-session.h"

struct fz {
	int auth_pending, tls_pending, open;
	char last; /* the last byte queued in this message */
};

static enum smtp_rcpt_result f_rcpt(void *ctx, const struct smtp_addr *a)
{
	(void)ctx;
	return a->local[0] == 'x' ? SMTP_RCPT_UNKNOWN : SMTP_RCPT_OK;
}

static int f_auth_start(void *ctx, const char *mech, const char *initial)
{
	(void)mech;
	(void)initial;
	((struct fz *)ctx)->auth_pending = 1;
	return 0;
}

static int f_auth_cont(void *ctx, const char *line, size_t len)
{
	(void)line;
	((struct fz *)ctx)->auth_pending = len == 1 && line[0] == '*' ? 0 : 1;
	return 0;
}

static void f_starttls(void *ctx)
{
	((struct fz *)ctx)->tls_pending = 1;
}

static enum smtp_queue_result f_begin(void *ctx, const struct smtp_txn *txn, char *qid, size_t n)
{
	struct fz *f = ctx;
	if (f->open || txn->n_rcpts == 0)
		abort();
	f->open = 1;
	f->last = '\0';
	memcpy(qid, "Q1", n < 3 ? n : 3);
	return SMTP_QUEUE_OK;
}

static enum smtp_queue_result f_write(void *ctx, const char *p, size_t len)
{
	struct fz *f = ctx;
	if (!f->open || len == 0)
		abort();
	/* a CRLF may be split between two writes: carry the last byte over */
	for (size_t i = 0; i < len; i++) {
		if ((f->last == '\r') != (p[i] == '\n'))
			abort();
		f->last = p[i];
	}
	return SMTP_QUEUE_OK;
}

static enum smtp_queue_result f_commit(void *ctx)
{
	struct fz *f = ctx;
	if (!f->open || f->last == '\r')
		abort();
	f->open = 0;
	return SMTP_QUEUE_OK;
}

static void f_abort(void *ctx)
{
	struct fz *f = ctx;
	if (!f->open)
		abort();
	f->open = 0;
}

static const struct smtp_session_callbacks cbs = {
    f_rcpt, f_auth_start, f_auth_cont, f_starttls, f_begin, f_write, f_commit, f_abort, NULL,
};

static void check_output(struct buf *o)
{
	size_t i = 0;
	while (i < o->len) {
		const char *l = o->data + i;
		size_t rest = o->len - i;
		if (rest < 6 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '9' ||
		    l[2] < '0' || l[2] > '9' || (l[3] != ' ' && l[3] != '-'))
			abort();
		size_t j = 4;
		while (j < rest && l[j] != '\r') {
			if ((unsigned char)l[j] < 0x20 || l[j] == 0x7f)
				abort();
			j++;
		}
		if (j + 1 >= rest || l[j + 1] != '\n')
			abort();
		i += j + 2;
	}
	buf_consume(o, o->len);
}

static const char *const domains[] = {"example.org"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {0};
	if (size < 2)
		return 0;
	struct smtp_session_opts o = {
	    .mode = (enum smtp_mode)(data[0] % 3),
	    .hostname = "mx.example.org",
	    .mydomains = domains,
	    .n_mydomains = 1,
	    .size_limit = 4096,
	    .max_recipients = 5,
	    .max_hops = 3,
	    .client_in_mynetworks = data[0] & 4,
	    .client_loopback = data[0] & 8,
	    .tls_available = data[0] & 16,
	    .client_ip = "192.0.2.1",
	    .cb = &cbs,
	    .cb_ctx = &f,
	};
	size_t chunk = (size_t)data[1] % 64 + 1;
	data += 2;
	size -= 2;
	struct smtp_session *s = smtp_session_new(&o);
	if (s == NULL)
		return 0;
	for (size_t i = 0; i < size && !smtp_session_closed(s); i += chunk) {
		size_t n = size - i < chunk ? size - i : chunk;
		smtp_session_input(s, (const char *)data + i, n);
		if (f.tls_pending) {
			f.tls_pending = 0;
			smtp_session_tls_started(s, "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128);
		}
		if (f.auth_pending) {
			f.auth_pending = 0;
			if (data[i] & 1)
				smtp_session_auth_challenge(s, "VXNlcm5hbWU6");
			else
				smtp_session_auth_done(s, (data[i] & 2) ? "user" : NULL,
				                       data[i] & 4);
		}
		check_output(smtp_session_output(s));
	}
	smtp_session_eof(s);
	check_output(smtp_session_output(s));
	smtp_session_free(s);
	if (f.open)
		abort();
	return 0;
}
