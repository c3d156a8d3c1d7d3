/* imap-cmd-store.c: STORE and UID STORE of the IMAP session: FLAGS, +FLAGS
 * and -FLAGS (each with .SILENT) for system flags and keywords. Keywords are
 * created in the mailbox on demand. Changes apply to each message's current
 * flags on disk (maildir_msg_update_flags, one mailbox lock per command), so
 * another session's change is kept; unless .SILENT every message of the set
 * is reported with an untagged FETCH of its flags now (with its UID for UID
 * STORE), changed or not, as Dovecot does. */
#include "imap-private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "imap-flags.h"

#define SYSTEM_FLAGS "\\Answered \\Flagged \\Deleted \\Seen \\Draft"

enum store_mode { STORE_REPLACE, STORE_ADD, STORE_REMOVE };

struct store_req {
	enum store_mode mode;
	bool silent;
	unsigned flags;    /* MAILDIR_FLAG_* */
	uint32_t keywords; /* keyword bits of s->box */
};

static void reply_bad(struct imap_session *s, const struct imap_command *c, bool uid,
                      const char *why)
{
	imap_cmd_done(s, c, IMAP_BAD, "Error in IMAP command %sSTORE: %s", uid ? "UID " : "", why);
}

/* "FLAGS", "+FLAGS.SILENT", ... (any case). */
static int parse_item(const struct imap_arg *a, struct store_req *r)
{
	if (a->type != IMAP_ARG_ATOM || a->len == 0)
		return -1;
	const char *p = a->str;
	size_t len = a->len;
	r->mode = *p == '+' ? STORE_ADD : *p == '-' ? STORE_REMOVE : STORE_REPLACE;
	if (r->mode != STORE_REPLACE) {
		p++;
		len--;
	}
	r->silent = len == 12 && strncasecmp(p, "FLAGS.SILENT", 12) == 0;
	return r->silent || (len == 5 && strncasecmp(p, "FLAGS", 5) == 0) ? 0 : -1;
}

/* The flags after the item: one list, or one or more flags without
 * parentheses (RFC 3501 9: store-att-flags). */
static int parse_flags(const struct imap_arg *args, unsigned argc, struct imap_flags *f,
                       const char **error_r)
{
	if (argc == 1)
		return imap_flags_parse(&args[0], 0, f, error_r);
	struct imap_arg items[IMAP_KEYWORDS_MAX + 8];
	if (argc > sizeof(items) / sizeof(items[0])) {
		*error_r = "Too many keywords";
		return -1;
	}
	for (unsigned i = 0; i < argc; i++) {
		if (args[i].type == IMAP_ARG_LIST) {
			*error_r = "Invalid flag";
			return -1;
		}
		items[i] = args[i];
	}
	struct imap_arg list = {.type = IMAP_ARG_LIST, .list = items, .count = argc};
	return imap_flags_parse(&list, 0, f, error_r);
}

/* The first flag starting with '\' that is no storable system flag, for
 * Dovecot's "Invalid system flag \Foo". */
static const struct imap_arg *bad_system_flag(const struct imap_arg *args, unsigned argc)
{
	static const char *const ok[] = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted",
	                                 "\\Draft"};
	for (unsigned i = 0; i < argc; i++) {
		const struct imap_arg *a = &args[i];
		if (a->type == IMAP_ARG_LIST) {
			a = bad_system_flag(a->list, a->count);
			if (a != NULL)
				return a;
			continue;
		}
		if (a->type != IMAP_ARG_ATOM || a->len == 0 || a->str[0] != '\\')
			continue;
		bool known = false;
		for (size_t j = 0; j < sizeof(ok) / sizeof(ok[0]); j++)
			known |= imap_arg_atom_eq(a, ok[j]);
		if (!known)
			return a;
	}
	return NULL;
}

/* Keyword bits for the names; missing names are created unless removing
 * (a name nobody has cannot be removed).
 * 0, 1 when no letter is free, -1 on error. */
static int map_keywords(struct imap_session *s, const struct imap_flags *f, bool create,
                        uint32_t *bits_r)
{
	*bits_r = 0;
	for (unsigned i = 0; i < f->nkeywords; i++) {
		char *name = strndup(f->keywords[i], f->keyword_lens[i]);
		if (name == NULL)
			return -1;
		const char *err;
		int idx = maildir_keyword_index(s->box, name, 0, &err);
		if (idx < 0 && create) {
			idx = maildir_keyword_index(s->box, name, 1, &err);
			if (idx < 0 && s->box->keyword_count >= MAILDIR_KEYWORDS_MAX) {
				free(name);
				return 1;
			}
			if (idx < 0)
				imap_log(s, LOG_ERR, "keyword %s in %s: %s", name, s->box->name,
				         err);
		}
		free(name);
		if (idx >= 0)
			*bits_r |= (uint32_t)1 << idx;
		else if (create)
			return -1;
	}
	return 0;
}

/* A new keyword changes what the mailbox offers: tell the client again
 * (RFC 3501 7.2.6), as SELECT did, before the FETCH lines that use it. */
static void send_flags(struct imap_session *s)
{
	struct buf b;
	buf_init(&b, 0);
	int r = buf_append_str(&b, "* FLAGS (" SYSTEM_FLAGS);
	for (unsigned i = 0; i < s->box->keyword_count; i++)
		r |= buf_printf(&b, " %s", maildir_keyword_name(s->box, i));
	if ((r | buf_append_str(&b, ")")) == 0)
		imap_reply_buf(s, &b);
	buf_reset(&b);
	r = buf_append_str(&b, "* OK [PERMANENTFLAGS (" SYSTEM_FLAGS);
	for (unsigned i = 0; i < s->box->keyword_count; i++)
		r |= buf_printf(&b, " %s", maildir_keyword_name(s->box, i));
	if ((r | buf_append_str(&b, " \\*)] Flags permitted.")) == 0)
		imap_reply_buf(s, &b);
	buf_free(&b);
	s->vkeyword_count = s->box->keyword_count; /* the sync need not repeat it */
}

/* The change r asks for, relative to whatever flags a message has when it
 * is applied (another session may have changed them since we looked). */
static void store_update(const struct store_req *r, struct maildir_flag_update *u)
{
	memset(u, 0, sizeof(*u));
	switch (r->mode) {
	case STORE_REPLACE: /* P (Passed) has no IMAP name: it stays */
		u->remove = MAILDIR_FLAG_ALL & ~MAILDIR_FLAG_PASSED;
		u->kw_remove = UINT32_MAX;
		u->add = r->flags;
		u->kw_add = r->keywords;
		break;
	case STORE_ADD:
		u->add = r->flags;
		u->kw_add = r->keywords;
		break;
	case STORE_REMOVE:
		u->remove = r->flags;
		u->kw_remove = r->keywords;
		break;
	}
}

/* Change one message (view index idx) under the caller's mailbox lock. 1
 * when the client must be told its flags (always without .SILENT), 0 not,
 * -1 error. */
static int store_one(struct imap_session *s, const struct store_req *r,
                     const struct maildir_flag_update *u, size_t idx)
{
	uint32_t uid = s->uids[idx];
	const char *err;
	int ret = maildir_msg_update_flags(s->box, uid, u, &err);
	if (ret < 0) {
		imap_log(s, LOG_ERR, "STORE of UID %u in %s failed: %s", (unsigned)uid,
		         s->box->name, err);
		return -1;
	}
	const struct maildir_msg *m = maildir_mailbox_find_uid(s->box, uid);
	if (ret == 1 || m == NULL) {
		/* expunged by another session, not yet by this client: it
		 * still gets a FETCH, of the flags it knows with the change
		 * applied (RFC 2180 4.2.1 lets STORE succeed on it) */
		s->vflags[idx] = (s->vflags[idx] & ~u->remove) | u->add;
		s->vkeywords[idx] = (s->vkeywords[idx] & ~u->kw_remove) | u->kw_add;
		return r->silent ? 0 : 1;
	}
	if (r->silent) {
		/* the client knows what it set (RFC 3501 6.4.6); if another
		 * session's change makes the real flags differ, the sync before
		 * the tagged reply tells it with a FETCH */
		s->vflags[idx] = (s->vflags[idx] & ~u->remove) | u->add;
		s->vkeywords[idx] = (s->vkeywords[idx] & ~u->kw_remove) | u->kw_add;
		return 0;
	}
	/* every message of the set, changed or not, as Dovecot does: clients
	 * (and imaptest) take the FETCH as the flags' confirmed value */
	return 1;
}

/* "* n FETCH ([UID u ]FLAGS (...))" with the flags the message has now. */
static void store_report(struct imap_session *s, size_t idx, bool uid)
{
	const struct maildir_msg *m = maildir_mailbox_find_uid(s->box, s->uids[idx]);
	/* gone meanwhile: the flags store_one put into the client's view */
	struct maildir_msg gone = {
	    .uid = s->uids[idx], .flags = s->vflags[idx], .keywords = s->vkeywords[idx]};
	struct buf line;
	buf_init(&line, 0);
	int w = buf_printf(&line, "* %zu FETCH (", idx + 1);
	if (uid)
		w |= buf_printf(&line, "UID %u ", (unsigned)s->uids[idx]);
	w |= imap_flags_render(s->box, m != NULL ? m : &gone, &line) | buf_append_str(&line, ")");
	if (w == 0)
		imap_reply_buf(s, &line);
	buf_free(&line);
	if (m != NULL)
		imap_view_note(s, idx);
}

/* Apply the STORE to the selected messages sel[0..nsel) with one mailbox
 * lock (whose sync also loads keywords other sessions added), then, with the
 * lock released (no client writes while other processes wait), send the
 * FETCH lines; sel is reused for the list of messages to report. 0, 1 when
 * no keyword letter is free, -1 on error. */
static int store_all(struct imap_session *s, struct store_req *req, const struct imap_flags *f,
                     size_t *sel, size_t nsel, bool uid)
{
	const char *err;
	if (maildir_mailbox_lock(s->box, &err) < 0) {
		imap_log(s, LOG_ERR, "STORE in %s failed: %s", s->box->name, err);
		return -1;
	}
	/* Keywords are created for -FLAGS too, as Dovecot does: the client
	 * then knows them from the FLAGS response; a full table only matters
	 * when adding. */
	int ret = map_keywords(s, f, true, &req->keywords);
	if (ret == 1 && req->mode == STORE_REMOVE)
		ret = map_keywords(s, f, false, &req->keywords);
	struct maildir_flag_update u;
	store_update(req, &u);
	size_t nreport = 0;
	for (size_t i = 0; i < nsel && ret == 0; i++) {
		int r = store_one(s, req, &u, sel[i]);
		if (r < 0)
			ret = -1;
		else if (r > 0)
			sel[nreport++] = sel[i];
	}
	maildir_mailbox_unlock(s->box);
	/* new keywords (ours, or another session's) are announced before
	 * the FETCH lines that use them */
	if (s->box->keyword_count > s->vkeyword_count)
		send_flags(s);
	for (size_t i = 0; i < nreport && !s->dead; i++)
		store_report(s, sel[i], uid);
	return ret;
}

void imap_do_store(struct imap_session *s, const struct imap_command *c,
                   const struct imap_arg *args, unsigned argc, bool uid)
{
	struct store_req req = {0};
	struct imap_flags f;
	const char *err;
	if (argc < 3 || parse_item(&args[1], &req) < 0) {
		reply_bad(s, c, uid, "Invalid arguments.");
		return;
	}
	if (parse_flags(args + 2, argc - 2, &f, &err) < 0) {
		const struct imap_arg *bad = bad_system_flag(args + 2, argc - 2);
		if (bad != NULL)
			imap_cmd_done(s, c, IMAP_BAD,
			              "Error in IMAP command %sSTORE: Invalid system flag %.*s",
			              uid ? "UID " : "", (int)bad->len, bad->str);
		else
			reply_bad(s, c, uid, "Invalid arguments.");
		return;
	}
	size_t *sel, nsel;
	if (imap_view_select(s->uids, s->nuids, &args[0], uid, &sel, &nsel) < 0) {
		reply_bad(s, c, uid, "Invalid messageset");
		return;
	}
	if (s->readonly) {
		imap_cmd_done(s, c, IMAP_NO, "Mailbox is read-only.");
		free(sel);
		return;
	}
	req.flags = imap_flags_to_maildir(f.system);
	int r = store_all(s, &req, &f, sel, nsel, uid);
	if (r == 1)
		imap_cmd_done(s, c, IMAP_NO, "[LIMIT] Keyword limit reached.");
	else if (r < 0)
		imap_cmd_done(s, c, IMAP_NO, "[SERVERBUG] Internal error occurred.");
	else
		imap_cmd_done(s, c, IMAP_OK, "%sStore completed.", uid ? "UID " : "");
	free(sel);
}
