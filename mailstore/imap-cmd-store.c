/* imap-cmd-store.c: STORE and UID STORE of the IMAP session: FLAGS, +FLAGS
 * and -FLAGS (each with .SILENT) for system flags and keywords. Keywords are
 * created in the mailbox on demand; each changed message is reported with an
 * untagged FETCH (with its UID for UID STORE) unless .SILENT. */
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
	imap_reply(s, "%s BAD Error in IMAP command %sSTORE: %s", c->tag, uid ? "UID " : "", why);
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
 * (a name nobody has cannot be removed). *created_r: a name was added.
 * 0, 1 when no letter is free, -1 on error. */
static int map_keywords(struct imap_session *s, const struct imap_flags *f, bool create,
                        uint32_t *bits_r, bool *created_r)
{
	*bits_r = 0;
	for (unsigned i = 0; i < f->nkeywords; i++) {
		char *name = strndup(f->keywords[i], f->keyword_lens[i]);
		if (name == NULL)
			return -1;
		unsigned before = s->box->keyword_count;
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
			*created_r |= idx >= 0 && s->box->keyword_count > before;
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

/* Change one message (view index idx). 0 done or nothing to do, -1 error. */
static int store_one(struct imap_session *s, const struct store_req *r, size_t idx, bool uid)
{
	uint32_t u = s->uids[idx];
	const struct maildir_msg *m = maildir_mailbox_find_uid(s->box, u);
	if (m == NULL) /* expunged by another session: nothing to change */
		return 0;
	unsigned flags = m->flags;
	uint32_t kw = m->keywords;
	switch (r->mode) {
	case STORE_REPLACE: /* P (Passed) has no IMAP name: it stays */
		flags = (flags & MAILDIR_FLAG_PASSED) | r->flags;
		kw = r->keywords;
		break;
	case STORE_ADD:
		flags |= r->flags;
		kw |= r->keywords;
		break;
	case STORE_REMOVE:
		flags &= ~r->flags;
		kw &= ~r->keywords;
		break;
	}
	if (flags == m->flags && kw == m->keywords)
		return 0;
	const char *err;
	int ret = maildir_msg_set_flags(s->box, u, flags, kw, &err);
	if (ret < 0) {
		imap_log(s, LOG_ERR, "STORE of UID %u in %s failed: %s", (unsigned)u, s->box->name,
		         err);
		return -1;
	}
	m = maildir_mailbox_find_uid(s->box, u); /* the table may have been rebuilt */
	if (ret == 1 || m == NULL)
		return 0;
	if (!r->silent) {
		struct buf line;
		buf_init(&line, 0);
		int w = buf_printf(&line, "* %zu FETCH (", idx + 1);
		if (uid)
			w |= buf_printf(&line, "UID %u ", (unsigned)u);
		w |= imap_flags_render(s->box, m, &line) | buf_append_str(&line, ")");
		if (w == 0)
			imap_reply_buf(s, &line);
		buf_free(&line);
	}
	/* with .SILENT the client knows what it set (RFC 3501 6.4.6) */
	imap_view_note(s, idx);
	return 0;
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
			imap_reply(s,
			           "%s BAD Error in IMAP command %sSTORE: Invalid system flag %.*s",
			           c->tag, uid ? "UID " : "", (int)bad->len, bad->str);
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
		imap_reply(s, "%s NO Mailbox is read-only.", c->tag);
		free(sel);
		return;
	}
	req.flags = imap_flags_to_maildir(f.system);
	bool created = false;
	int r = map_keywords(s, &f, req.mode != STORE_REMOVE, &req.keywords, &created);
	if (r == 1) {
		imap_reply(s, "%s NO [LIMIT] Keyword limit reached.", c->tag);
	} else if (r < 0) {
		imap_reply(s, "%s NO [SERVERBUG] Internal error occurred.", c->tag);
	} else {
		if (created)
			send_flags(s);
		int failed = 0;
		for (size_t i = 0; i < nsel && !s->dead; i++)
			failed |= store_one(s, &req, sel[i], uid);
		if (failed)
			imap_reply(s, "%s NO [SERVERBUG] Internal error occurred.", c->tag);
		else
			imap_reply(s, "%s OK %sStore completed.", c->tag, uid ? "UID " : "");
	}
	free(sel);
}
