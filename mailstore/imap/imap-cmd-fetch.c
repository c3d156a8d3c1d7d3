/* imap-cmd-fetch.c: FETCH and UID FETCH of the IMAP session: FLAGS, UID,
 * RFC822.SIZE, INTERNALDATE, ENVELOPE, BODY, BODYSTRUCTURE, BODY[section]
 * and BODY.PEEK (with <partial>), RFC822(.HEADER/.TEXT); a non-peek body
 * fetch sets \Seen in a read-write mailbox and reports the new FLAGS. */
#include "imap-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "imap-fetch-render.h"
#include "imap-flags.h"
#include "maildir-cache.h"
#include "mime.h"

#define FETCH_ATTS_MAX  64
#define FETCH_RANGE_MAX 512

/* One message being answered: its file, parsed only when an item needs it. */
struct fetch_msg {
	uint32_t seq;
	const struct maildir_msg *msg;
	struct buf text;
	struct mime_message *mime;
	bool seen_set; /* this FETCH set \Seen */
};

static int load(struct imap_session *s, struct fetch_msg *f)
{
	if (f->mime != NULL)
		return 0;
	int fd;
	const char *err;
	uint32_t uid = f->msg->uid;
	int r = maildir_msg_open(s->box, uid, &fd, &err);
	/* opening may resync the mailbox, which moves box->msgs */
	f->msg = maildir_mailbox_find_uid(s->box, uid);
	if (r != 0 || f->msg == NULL) {
		if (r == 0)
			close(fd);
		return -1;
	}
	char chunk[65536];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_append(&f->text, chunk, (size_t)n) < 0)
			break;
	}
	close(fd);
	if (n != 0)
		return -1;
	f->mime = mime_parse(f->text.data != NULL ? f->text.data : "", f->text.len);
	return f->mime != NULL ? 0 : -1;
}

/* BODY[section]<partial> and the RFC822 forms, as a literal. */
static int append_section(struct fetch_msg *f, const struct imap_fetch_att *a, const char *label,
                          const char *spec, size_t spec_len, struct buf *out)
{
	struct imap_section sec;
	const char *err;
	struct buf data;
	buf_init(&data, 0);
	int r = imap_section_parse(spec, spec_len, &sec, &err);
	struct imap_section_range range;
	int found = r < 0 ? -1 : imap_section_lookup(f->mime, &sec, &range);
	if (found > 0)
		r = imap_section_render(f->mime, &sec, &range, &data);
	imap_section_free(&sec);
	if (r < 0 || found < 0) {
		buf_free(&data);
		return -1;
	}
	size_t off = 0, len = data.len;
	if (a->partial) {
		off = a->partial_start < data.len ? a->partial_start : data.len;
		len = data.len - off < a->partial_len ? data.len - off : a->partial_len;
		r = buf_printf(out, "%s<%u> {%zu}\r\n", label, (unsigned)a->partial_start, len);
	} else {
		r = buf_printf(out, "%s {%zu}\r\n", label, len);
	}
	if (r == 0 && len > 0)
		r = buf_append(out, data.data + off, len);
	buf_free(&data);
	return r;
}

/* ENVELOPE, BODY or BODYSTRUCTURE: from the folder's loft-cache when it has
 * the value, else rendered from the parsed message and added to the cache
 * (a message file never changes, so neither does the value). */
static int append_structure(struct imap_session *s, struct fetch_msg *f, enum imap_fetch_kind kind,
                            struct buf *out)
{
	char ck = kind == IMAP_FETCH_ENVELOPE ? MAILDIR_CACHE_ENVELOPE
	          : kind == IMAP_FETCH_BODY   ? MAILDIR_CACHE_BODY
	                                      : MAILDIR_CACHE_BODYSTRUCTURE;
	const char *label = kind == IMAP_FETCH_ENVELOPE ? "ENVELOPE "
	                    : kind == IMAP_FETCH_BODY   ? "BODY "
	                                                : "BODYSTRUCTURE ";
	if (buf_append_str(out, label) < 0)
		return -1;
	struct maildir_cache *cache = maildir_mailbox_cache(s->box);
	const char *data;
	size_t len;
	if (cache != NULL && maildir_cache_lookup(cache, f->msg->base, ck, &data, &len) > 0)
		return buf_append(out, data, len);
	if (load(s, f) < 0) /* f->msg may move: its base is read afterwards */
		return -1;
	size_t start = out->len;
	int r = kind == IMAP_FETCH_ENVELOPE
	            ? imap_envelope_render(f->mime, f->mime->root, out)
	            : imap_bodystructure_render(f->mime, f->mime->root,
	                                        kind == IMAP_FETCH_BODYSTRUCTURE, out);
	if (r == 0 && cache != NULL)
		maildir_cache_add(cache, f->msg->base, ck, out->data + start, out->len - start);
	return r;
}

static int append_att(struct imap_session *s, struct fetch_msg *f, const struct imap_fetch_att *a,
                      struct buf *out)
{
	const struct maildir_msg *m = f->msg;
	char label[96];
	switch (a->kind) {
	case IMAP_FETCH_FLAGS:
		return imap_flags_render(s->box, m, out);
	case IMAP_FETCH_UID:
		return buf_printf(out, "UID %u", (unsigned)m->uid);
	case IMAP_FETCH_INTERNALDATE: {
		struct tm tm;
		char date[64];
		gmtime_r(&m->date, &tm);
		strftime(date, sizeof(date), "%d-%b-%Y %H:%M:%S +0000", &tm);
		return buf_printf(out, "INTERNALDATE \"%s\"", date);
	}
	case IMAP_FETCH_RFC822_SIZE:
		if (m->vsize > 0 || m->size == 0)
			return buf_printf(out, "RFC822.SIZE %llu", (unsigned long long)m->vsize);
		if (load(s, f) < 0)
			return -1;
		return buf_printf(out, "RFC822.SIZE %zu",
		                  mime_crlf_size(f->text.data, f->text.len));
	default:
		break;
	}
	if (a->kind == IMAP_FETCH_ENVELOPE || a->kind == IMAP_FETCH_BODY ||
	    a->kind == IMAP_FETCH_BODYSTRUCTURE)
		return append_structure(s, f, a->kind, out);
	if (load(s, f) < 0)
		return -1;
	switch (a->kind) {
	case IMAP_FETCH_RFC822:
		return append_section(f, a, "RFC822", "", 0, out);
	case IMAP_FETCH_RFC822_HEADER:
		return append_section(f, a, "RFC822.HEADER", "HEADER", 6, out);
	case IMAP_FETCH_RFC822_TEXT:
		return append_section(f, a, "RFC822.TEXT", "TEXT", 4, out);
	default: {
		const char *spec = a->section_str != NULL ? a->section_str : "";
		size_t spec_len = a->section_str != NULL ? a->section_len : 0;
		if ((size_t)snprintf(label, sizeof(label), "BODY[%.*s]", (int)spec_len, spec) >=
		    sizeof(label))
			return -1;
		return append_section(f, a, label, spec, spec_len, out);
	}
	}
}

/* A body fetch without PEEK marks the message \Seen (RFC 3501 6.4.5). */
static void mark_seen(struct imap_session *s, struct fetch_msg *f,
                      const struct imap_fetch_att *atts, size_t n)
{
	bool sets = false;
	for (size_t i = 0; i < n; i++) {
		enum imap_fetch_kind k = atts[i].kind;
		sets |= k == IMAP_FETCH_RFC822 || k == IMAP_FETCH_RFC822_TEXT ||
		        (k == IMAP_FETCH_BODY_SECTION && !atts[i].peek);
	}
	const char *err;
	if (!sets || s->readonly || (f->msg->flags & MAILDIR_FLAG_SEEN))
		return;
	/* add \Seen to the flags on disk, not to our cached copy, so another
	 * session's concurrent change survives */
	const struct maildir_flag_update seen = {.add = MAILDIR_FLAG_SEEN};
	if (maildir_msg_update_flags(s->box, f->msg->uid, &seen, &err) == 0) {
		f->msg = maildir_mailbox_find_uid(s->box, f->msg->uid);
		f->seen_set = f->msg != NULL;
		if (f->seen_set) /* the FLAGS go out with this FETCH */
			imap_view_note(s, f->seq - 1);
	}
}

/* The FETCH line is written straight into the session's output and flushed
 * whenever that fills, item by item: FETCH 1 (BODY[] BODY[] ...) holds at
 * most the message, one rendered item and a buffer's worth, not the whole
 * reply (docs/security.md). */
static void fetch_one(struct imap_session *s, struct fetch_msg *f,
                      const struct imap_fetch_att *atts, size_t n)
{
	mark_seen(s, f, atts, n);
	if (f->msg == NULL)
		return;
	uint32_t uid = f->msg->uid; /* f->msg may go stale or NULL on a resync */
	struct buf *out = &s->out;
	size_t start = out->len;
	unsigned long flushes = s->nflush;
	bool has_flags = false;
	int r = buf_printf(out, "* %u FETCH (", (unsigned)f->seq);
	for (size_t i = 0; i < n && r == 0; i++) {
		has_flags |= atts[i].kind == IMAP_FETCH_FLAGS;
		r = (i > 0 ? buf_append_str(out, " ") : 0) | append_att(s, f, &atts[i], out);
		if (r == 0)
			r = imap_flush_if_full(s);
	}
	if (r == 0 && f->seen_set && !has_flags && f->msg != NULL)
		r = buf_append_str(out, " ") | imap_flags_render(s->box, f->msg, out);
	if (r == 0 && buf_append_str(out, ")") == 0) {
		imap_stream_end(s);
		return;
	}
	if (s->dead)
		return; /* the client went away while we wrote */
	imap_log(s, LOG_ERR, "FETCH of UID %u failed", (unsigned)uid);
	if (s->nflush == flushes && out->len >= start) {
		out->len = start; /* nothing of it went out: take it back */
		if (out->data != NULL)
			out->data[start] = '\0';
	} else {
		s->dead = true; /* half a line is out: the stream cannot go on */
	}
}

static void fetch(struct imap_session *s, const struct imap_command *c, const struct imap_arg *set,
                  const struct imap_arg *what, bool uid)
{
	struct imap_seq_range ranges[FETCH_RANGE_MAX];
	struct imap_fetch_att atts[FETCH_ATTS_MAX];
	size_t nr, na;
	const char *err;
	if (set->type != IMAP_ARG_ATOM ||
	    imap_seqset_parse(set->str, set->len, ranges, FETCH_RANGE_MAX, &nr, &err) < 0 ||
	    imap_fetch_parse(what, atts, FETCH_ATTS_MAX - 1, &na, &err) < 0) {
		imap_cmd_done(s, c, IMAP_BAD, "Error in IMAP command %sFETCH: Invalid arguments.",
		              uid ? "UID " : "");
		return;
	}
	bool has_uid = false;
	for (size_t i = 0; i < na; i++)
		has_uid |= atts[i].kind == IMAP_FETCH_UID;
	if (uid && !has_uid) /* UID FETCH always reports UIDs (RFC 3501 6.4.8) */
		atts[na++] = (struct imap_fetch_att){.kind = IMAP_FETCH_UID};
	uint32_t star = uid ? (s->nuids > 0 ? s->uids[s->nuids - 1] : 0) : (uint32_t)s->nuids;
	imap_seqset_resolve(ranges, nr, star);
	for (size_t i = 0; i < s->nuids && !s->dead; i++) {
		if (!imap_seqset_contains(ranges, nr, uid ? s->uids[i] : (uint32_t)(i + 1)))
			continue;
		struct fetch_msg f = {.seq = (uint32_t)(i + 1)};
		f.msg = maildir_mailbox_find_uid(s->box, s->uids[i]);
		buf_init(&f.text, 0);
		if (f.msg != NULL) /* expunged by another session: nothing to say */
			fetch_one(s, &f, atts, na);
		if (f.mime != NULL)
			mime_message_free(f.mime);
		buf_free(&f.text);
	}
	imap_cmd_done(s, c, IMAP_OK, "%sFetch completed.", uid ? "UID " : "");
}

void imap_do_fetch(struct imap_session *s, const struct imap_command *c,
                   const struct imap_arg *args, unsigned argc, bool uid)
{
	if (argc == 2)
		fetch(s, c, &args[0], &args[1], uid);
	else
		imap_reply_bad_args(s, c);
}
