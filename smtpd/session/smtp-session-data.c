/* smtp-session-data.c: the DATA phase of the smtpd session. Opens a queue
 * file at DATA, decodes the body (smtp-data.c), holds the header section back
 * to count hops and add Received (and Message-ID/Date on submission), streams
 * the rest to the queue writer, and answers 250 only after the commit. */
#include <string.h>
#include <time.h>

#include "smtp-headers.h"
#include "smtp-session-private.h"

static time_t sess_now(const struct smtp_session *s)
{
	return s->o->now != NULL ? s->o->now() : time(NULL);
}

static bool printable(const char *t)
{
	for (; *t != '\0'; t++)
		if ((unsigned char)*t < 0x20 || (unsigned char)*t >= 0x7f)
			return false;
	return true;
}

/* "x.y.z" with 1-3 digit parts and the given class. */
static bool status_ok(const char *st, char cls)
{
	if (st == NULL || st[0] != cls || st[1] != '.')
		return false;
	int dots = 0, digits = 0;
	for (const char *p = st + 2; *p != '\0'; p++) {
		if (*p == '.' && digits > 0 && ++dots == 1)
			digits = 0;
		else if (*p >= '0' && *p <= '9' && ++digits <= 3)
			continue;
		else
			return false;
	}
	return dots == 1 && digits > 0;
}

/* The reply to a queue failure r: the queue's code and text when it gave
 * them (a message too big for the queue, counting the lines added here, is
 * a 552 5.3.4 like our own limit), else the fixed text. */
static void queue_fail_reply(struct smtp_session *s, enum smtp_queue_result r)
{
	bool perm = r == SMTP_QUEUE_PERM;
	const char *st = NULL, *text = NULL;
	if (s->o->cb->queue_reason != NULL)
		s->o->cb->queue_reason(s->o->cb_ctx, &st, &text);
	if (!status_ok(st, perm ? '5' : '4'))
		st = perm ? "5.3.0" : "4.3.0";
	if (text == NULL || text[0] == '\0' || strlen(text) > 200 || !printable(text))
		text = perm ? "Error: message refused" : "Error: queue file write error";
	int code = !perm ? 451 : strcmp(st, "5.3.4") == 0 ? 552 : 554;
	sess_reply(s, code, st, "%s", text);
}

void sess_cmd_data(struct smtp_session *s, const struct smtp_cmd *c)
{
	if (c->args_len != 0) {
		sess_reply(s, 501, "5.5.4", "Syntax: DATA");
		return;
	}
	s->qid[0] = '\0';
	s->txn.auth_user = s->auth_user;
	enum smtp_queue_result r =
	    s->o->cb->queue_begin(s->o->cb_ctx, &s->txn, s->qid, sizeof(s->qid));
	if (r != SMTP_QUEUE_OK) {
		queue_fail_reply(s, r);
		return;
	}
	s->qid[sizeof(s->qid) - 1] = '\0';
	s->queue_open = true;
	smtp_data_init(&s->data);
	buf_reset(&s->hdr);
	s->in_headers = true;
	s->size = 0;
	s->over_size = false;
	s->too_many_hops = false;
	s->write_res = SMTP_QUEUE_OK;
	s->state = ST_DATA;
	sess_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

static void queue_write(struct smtp_session *s, const char *p, size_t len)
{
	if (s->write_res != SMTP_QUEUE_OK || len == 0)
		return;
	s->write_res = s->o->cb->queue_write(s->o->cb_ctx, p, len);
}

/* The lines smtpd puts in front of the message. -1 when out of memory. */
static int build_prefix(struct smtp_session *s, const struct smtp_header_info *info,
                        struct buf *pre)
{
	time_t now = sess_now(s);
	struct smtp_received r = {
	    .helo = s->helo.data != NULL ? s->helo.data : "",
	    .rdns = s->o->client_rdns,
	    .ip = s->o->client_ip != NULL ? s->o->client_ip : "unknown",
	    .hostname = s->o->hostname,
	    .tls_proto = s->tls ? s->tls_proto.data : NULL,
	    .tls_cipher = s->tls ? s->tls_cipher.data : NULL,
	    .tls_bits = s->tls_bits,
	    .auth_user = s->auth_user,
	    .esmtp = s->esmtp,
	    .queue_id = s->qid,
	    .rcpt = s->txn.n_rcpts == 1 ? s->txn.rcpts[0].to.full : NULL,
	    .when = now,
	};
	if (smtp_received_build(pre, &r) < 0)
		return -1;
	if (s->o->mode == SMTP_MODE_MX)
		return 0;
	/* submission: the client is a user agent; complete its header */
	if (!info->has_message_id && (buf_append_str(pre, "Message-ID: ") < 0 ||
	                              smtp_message_id_build(pre, now, s->qid, s->o->hostname) < 0 ||
	                              buf_append_str(pre, "\r\n") < 0))
		return -1;
	if (!info->has_date && (buf_append_str(pre, "Date: ") < 0 ||
	                        smtp_date_build(pre, now) < 0 || buf_append_str(pre, "\r\n") < 0))
		return -1;
	return 0;
}

static void flush_headers(struct smtp_session *s)
{
	struct smtp_header_info info;
	struct buf pre;
	unsigned max_hops = s->o->max_hops ? s->o->max_hops : 50;
	s->in_headers = false;
	if (s->hdr.data != NULL)
		smtp_headers_drop(s->hdr.data, &s->hdr.len, "Return-Path");
	smtp_headers_scan(s->hdr.data != NULL ? s->hdr.data : "", s->hdr.len, &info);
	/* with the Received line added here the count would pass max_hops */
	if (info.received >= max_hops) {
		s->too_many_hops = true;
		buf_reset(&s->hdr);
		return;
	}
	buf_init(&pre, 0);
	if (build_prefix(s, &info, &pre) < 0)
		s->write_res = SMTP_QUEUE_TEMP;
	queue_write(s, pre.data, pre.len);
	queue_write(s, s->hdr.data, s->hdr.len);
	buf_free(&pre);
	buf_reset(&s->hdr);
}

static bool header_end_seen(const struct buf *h, size_t from)
{
	if (h->len >= 2 && h->data[0] == '\r' && h->data[1] == '\n')
		return true; /* no header section at all */
	from = from > 3 ? from - 3 : 0;
	for (size_t i = from; i + 4 <= h->len; i++)
		if (memcmp(h->data + i, "\r\n\r\n", 4) == 0)
			return true;
	return false;
}

/* Decoded message bytes: size check, header hold-back, then the queue. */
static void sink(struct smtp_session *s, const char *p, size_t len)
{
	uint64_t limit = s->o->size_limit;
	s->size += len;
	if (limit > 0 && s->size > limit)
		s->over_size = true;
	/* a bare CR refuses the message: nothing more goes to the queue */
	if (s->over_size || s->too_many_hops || s->data.bare_cr || s->write_res != SMTP_QUEUE_OK ||
	    len == 0)
		return;
	if (!s->in_headers) {
		queue_write(s, p, len);
		return;
	}
	size_t before = s->hdr.len;
	if (buf_append(&s->hdr, p, len) < 0) {
		s->write_res = SMTP_QUEUE_TEMP;
		return;
	}
	if (header_end_seen(&s->hdr, before) || s->hdr.len > SESS_HEADER_MAX)
		flush_headers(s);
}

static void finish(struct smtp_session *s)
{
	bool bare_cr = s->data.bare_cr;
	if (s->in_headers && !s->over_size && !bare_cr && s->write_res == SMTP_QUEUE_OK)
		flush_headers(s);
	s->state = ST_HELO;
	if (s->over_size || s->too_many_hops || bare_cr || s->write_res != SMTP_QUEUE_OK) {
		sess_data_abort(s);
		if (s->over_size)
			sess_reply(s, 552, "5.3.4", "Message size exceeds fixed limit");
		else if (bare_cr) /* RFC 5321 2.3.8; the smuggling sign, see docs/smtpd.md */
			sess_reply(s, 554, "5.6.0", "Message contains bare CR");
		else if (s->too_many_hops)
			sess_reply(s, 554, "5.4.6", "Too many hops");
		else
			queue_fail_reply(s, s->write_res);
	} else {
		s->queue_open = false; /* the writer owns the file from here on */
		enum smtp_queue_result r = s->o->cb->queue_commit(s->o->cb_ctx);
		if (r == SMTP_QUEUE_OK)
			sess_reply(s, 250, "2.0.0", "Ok: queued as %s", s->qid);
		else
			queue_fail_reply(s, r);
	}
	sess_txn_clear(s);
	buf_reset(&s->hdr);
}

bool sess_data_input(struct smtp_session *s)
{
	if (s->in.len == 0)
		return false;
	buf_reset(&s->dec);
	size_t used = smtp_data_feed(&s->data, s->in.data, s->in.len, &s->dec);
	if (used == (size_t)-1) {
		/* cannot happen with an unbounded buffer short of memory */
		s->write_res = SMTP_QUEUE_TEMP;
		used = s->in.len;
	}
	buf_consume(&s->in, used);
	sink(s, s->dec.data, s->dec.len);
	buf_reset(&s->dec);
	if (!s->data.done)
		return false;
	finish(s);
	return true;
}

void sess_data_abort(struct smtp_session *s)
{
	if (!s->queue_open)
		return;
	s->queue_open = false;
	if (s->o->cb->queue_abort != NULL)
		s->o->cb->queue_abort(s->o->cb_ctx);
}
