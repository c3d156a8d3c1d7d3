/* imap-cmd-select.c: entering and leaving the selected state of the IMAP
 * session: SELECT and EXAMINE with every RFC 3501 response, CLOSE (expunges
 * \Deleted unless read-only), UNSELECT, CHECK, and the sync that keeps the
 * client's view (s->uids, vflags, vkeywords) in step with the mailbox:
 * EXPUNGE, FLAGS, FETCH (FLAGS), EXISTS and RECENT before each command's
 * tagged completion, during IDLE, and after an expunge. */
#include "imap-private.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "imap-flags.h"
#include "maildir-private.h"

#define SYSTEM_FLAGS "\\Answered \\Flagged \\Deleted \\Seen \\Draft"

void imap_unselect(struct imap_session *s)
{
	if (s->box != NULL)
		maildir_mailbox_close(s->box);
	s->box = NULL;
	free(s->uids);
	free(s->vflags);
	free(s->vkeywords);
	s->uids = NULL;
	s->vflags = NULL;
	s->vkeywords = NULL;
	s->nuids = 0;
	s->vcap = 0;
	s->vmax_uid = 0;
	s->vkeyword_count = 0;
	s->state = IMAP_STATE_AUTH;
}

void imap_view_note(struct imap_session *s, size_t idx)
{
	const struct maildir_msg *m =
	    idx < s->nuids ? maildir_mailbox_find_uid(s->box, s->uids[idx]) : NULL;
	if (m != NULL) {
		s->vflags[idx] = m->flags;
		s->vkeywords[idx] = m->keywords;
	}
}

/* Room for n entries in the view's three arrays. 0 or -1. */
static int view_reserve(struct imap_session *s, size_t n)
{
	if (n <= s->vcap && s->uids != NULL)
		return 0;
	size_t cap = n > 16 ? n : 16;
	uint32_t *u = realloc(s->uids, cap * sizeof(*u));
	if (u != NULL)
		s->uids = u;
	unsigned *f = u != NULL ? realloc(s->vflags, cap * sizeof(*f)) : NULL;
	if (f != NULL)
		s->vflags = f;
	uint32_t *k = f != NULL ? realloc(s->vkeywords, cap * sizeof(*k)) : NULL;
	if (k == NULL)
		return -1;
	s->vkeywords = k;
	s->vcap = cap;
	return 0;
}

static void view_set(struct imap_session *s, size_t i, const struct maildir_msg *m)
{
	s->uids[i] = m->uid;
	s->vflags[i] = m->flags;
	s->vkeywords[i] = m->keywords;
	if (m->uid > s->vmax_uid)
		s->vmax_uid = m->uid;
}

/* Remember the UIDs (and flags) the client now knows, by sequence number. */
static int snapshot_uids(struct imap_session *s)
{
	if (view_reserve(s, s->box->count) < 0)
		return -1;
	s->vmax_uid = 0;
	for (size_t i = 0; i < s->box->count; i++)
		view_set(s, i, &s->box->msgs[i]);
	s->nuids = s->box->count;
	s->vuidvalidity = s->box->uidvalidity;
	return 0;
}

/* "(\Answered ... kw1 kw2" + closer: the flags the mailbox knows. */
static int flags_line(struct imap_session *s, struct buf *b, const char *head, const char *tail)
{
	int r = buf_printf(b, "%s(" SYSTEM_FLAGS, head);
	for (unsigned i = 0; i < s->box->keyword_count && r == 0; i++) {
		const char *kw = maildir_keyword_name(s->box, i);
		if (kw != NULL)
			r = buf_printf(b, " %s", kw);
	}
	return r < 0 ? -1 : buf_append_str(b, tail);
}

/* "* FLAGS" and "* OK [PERMANENTFLAGS": at SELECT, and again whenever the
 * mailbox gained keywords the client has not heard of. */
static void flags_responses(struct imap_session *s)
{
	struct buf b;
	buf_init(&b, 0);
	if (flags_line(s, &b, "* FLAGS ", ")") == 0)
		imap_reply_buf(s, &b);
	buf_reset(&b);
	if (s->readonly)
		imap_reply(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox.");
	else if (flags_line(s, &b, "* OK [PERMANENTFLAGS ", " \\*)] Flags permitted.") == 0)
		imap_reply_buf(s, &b);
	buf_free(&b);
	s->vkeyword_count = s->box->keyword_count;
}

static void select_responses(struct imap_session *s, size_t recent)
{
	flags_responses(s);
	imap_reply(s, "* %zu EXISTS", s->box->count);
	imap_reply(s, "* %zu RECENT", recent);
	for (size_t i = 0; i < s->box->count; i++) {
		if (!(s->box->msgs[i].flags & MAILDIR_FLAG_SEEN)) {
			imap_reply(s, "* OK [UNSEEN %zu] First unseen.", i + 1);
			break;
		}
	}
	imap_reply(s, "* OK [UIDVALIDITY %u] UIDs valid", (unsigned)s->box->uidvalidity);
	imap_reply(s, "* OK [UIDNEXT %u] Predicted next UID", (unsigned)s->box->uidnext);
}

/* EXAMINE takes no \Recent (RFC 3501 6.3.2): count what is recent for
 * nobody yet without claiming it. */
static size_t peek_recent(struct maildir_mailbox *box)
{
	struct maildir_uidlist ul = {0};
	const char *err;
	size_t n = 0;
	if (maildir_uidlist_read(box, &ul, &err) < 0)
		return 0;
	for (size_t i = 0; i < box->count; i++)
		n += box->msgs[i].uid >= ul.recent_uid;
	maildir_uidlist_free(&ul);
	return n;
}

static void do_select(struct imap_session *s, const struct imap_command *c, bool readonly)
{
	char *name = imap_mailbox_arg(s, c, &c->args[0]);
	if (name == NULL)
		return;
	if (s->box != NULL) {
		imap_unselect(s);
		imap_reply(s, "* OK [CLOSED] Previous mailbox closed.");
	}
	const char *err;
	struct maildir_mailbox *box;
	if (!maildir_folder_exists(&s->store, name)) {
		imap_cmd_done(s, c, IMAP_NO, "[NONEXISTENT] Mailbox doesn't exist: %s", name);
	} else if (maildir_mailbox_open(&s->store, name, readonly ? 0 : MAILDIR_OPEN_SESSION, &box,
	                                &err) < 0) {
		imap_cmd_done(s, c, IMAP_NO, "[SERVERBUG] Internal error occurred.");
		imap_log(s, LOG_ERR, "SELECT %s failed: %s", name, err);
	} else {
		s->box = box;
		s->readonly = readonly;
		size_t recent = 0;
		if (readonly) {
			recent = peek_recent(box);
		} else {
			for (size_t i = 0; i < box->count; i++)
				recent += box->msgs[i].recent != 0;
		}
		if (snapshot_uids(s) < 0) {
			s->dead = true;
		} else {
			s->state = IMAP_STATE_SELECTED;
			select_responses(s, recent);
			imap_cmd_done(s, c, IMAP_OK, "[%s] %s completed.",
			              readonly ? "READ-ONLY" : "READ-WRITE",
			              readonly ? "Examine" : "Select");
		}
	}
	free(name);
}

void imap_cmd_select(struct imap_session *s, const struct imap_command *c)
{
	do_select(s, c, false);
}

void imap_cmd_examine(struct imap_session *s, const struct imap_command *c)
{
	do_select(s, c, true);
}

/* "* n EXPUNGE" for view entries gone from the mailbox, highest first so
 * each number is still the client's when it hears it, and drop them. Both
 * lists are sorted by UID: one merge pass from the end. */
static void sync_expunges(struct imap_session *s)
{
	const struct maildir_msg *m = s->box->msgs;
	size_t k = s->box->count, gone = 0;
	for (size_t i = s->nuids; i-- > 0;) {
		while (k > 0 && m[k - 1].uid > s->uids[i])
			k--;
		if (k == 0 || m[k - 1].uid != s->uids[i]) {
			imap_reply(s, "* %zu EXPUNGE", i + 1);
			s->uids[i] = 0; /* UIDs start at 1: 0 marks the hole */
			gone++;
		}
	}
	if (gone == 0)
		return;
	size_t j = 0;
	for (size_t i = 0; i < s->nuids; i++) {
		if (s->uids[i] == 0)
			continue;
		s->uids[j] = s->uids[i];
		s->vflags[j] = s->vflags[i];
		s->vkeywords[j] = s->vkeywords[i];
		j++;
	}
	s->nuids = j;
}

/* "* n FETCH (FLAGS ...)" for known messages whose flags or keywords differ
 * from what the client was told; entries already gone (EXPUNGE withheld)
 * keep their number and say nothing. Returns how many are \Recent. */
static size_t sync_flags(struct imap_session *s, bool send_uid)
{
	const struct maildir_msg *m = s->box->msgs;
	size_t k = 0, recent = 0;
	struct buf line;
	buf_init(&line, 0);
	for (size_t i = 0; i < s->nuids && !s->dead; i++) {
		while (k < s->box->count && m[k].uid < s->uids[i])
			k++;
		if (k == s->box->count || m[k].uid != s->uids[i])
			continue;
		recent += m[k].recent != 0;
		if (m[k].flags == s->vflags[i] && m[k].keywords == s->vkeywords[i])
			continue;
		buf_reset(&line);
		int r = buf_printf(&line, "* %zu FETCH (", i + 1);
		if (send_uid)
			r |= buf_printf(&line, "UID %u ", (unsigned)m[k].uid);
		r |= imap_flags_render(s->box, &m[k], &line) | buf_append_str(&line, ")");
		if (r == 0)
			imap_reply_buf(s, &line);
		s->vflags[i] = m[k].flags;
		s->vkeywords[i] = m[k].keywords;
	}
	buf_free(&line);
	return recent;
}

/* Append messages with UIDs above any the client knows; their count. */
static size_t sync_new(struct imap_session *s, size_t *recent)
{
	const struct maildir_msg *m = s->box->msgs;
	size_t lo = 0, hi = s->box->count;
	while (lo < hi) { /* first UID above vmax_uid */
		size_t mid = lo + (hi - lo) / 2;
		if (m[mid].uid <= s->vmax_uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t n = s->box->count - lo;
	if (n == 0)
		return 0;
	if (view_reserve(s, s->nuids + n) < 0) {
		s->dead = true;
		return 0;
	}
	for (size_t i = lo; i < s->box->count; i++) {
		view_set(s, s->nuids++, &m[i]);
		*recent += m[i].recent != 0;
	}
	return n;
}

/* Bring the client's view up to date and tell it what changed: EXPUNGE
 * (when the mode allows), FLAGS for new keywords, FETCH for changed flags,
 * EXISTS and RECENT for new messages. Cheap when nothing changed: the
 * mailbox sync only compares stamps, the rest is one pass over the view. */
void imap_view_sync(struct imap_session *s, enum imap_sync m)
{
	const char *err;
	if (m == IMAP_SYNC_NONE || s->state != IMAP_STATE_SELECTED || s->box == NULL || s->dead)
		return;
	s->nsync++;
	if (maildir_mailbox_sync(s->box, &err) < 0) {
		imap_log(s, LOG_ERR, "Sync of %s failed: %s", s->box->name, err);
		return;
	}
	if (s->box->uidvalidity != s->vuidvalidity) {
		/* every UID the client holds is meaningless now (Dovecot does
		 * the same) */
		imap_reply(s, "* BYE Mailbox UIDVALIDITY changed");
		(void)imap_flush(s);
		imap_log(s, LOG_WARNING, "UIDVALIDITY of %s changed", s->box->name);
		s->dead = true;
		return;
	}
	if (m == IMAP_SYNC_FULL)
		sync_expunges(s);
	if (s->box->keyword_count > s->vkeyword_count)
		flags_responses(s);
	/* during a UID command the untagged FETCH carries the UID (Dovecot) */
	size_t recent = sync_flags(s, s->cmd != NULL && (s->cmd->flags & IMAP_CMD_UID));
	if (sync_new(s, &recent) > 0) {
		imap_reply(s, "* %zu EXISTS", s->nuids);
		imap_reply(s, "* %zu RECENT", recent);
	}
}

void imap_cmd_close(struct imap_session *s, const struct imap_command *c)
{
	const char *err;
	if (!s->readonly) {
		uint32_t *del = malloc((s->box->count > 0 ? s->box->count : 1) * sizeof(*del));
		size_t n = 0;
		for (size_t i = 0; del != NULL && i < s->box->count; i++) {
			if (s->box->msgs[i].flags & MAILDIR_FLAG_TRASHED)
				del[n++] = s->box->msgs[i].uid;
		}
		if (del == NULL || (n > 0 && maildir_mailbox_expunge(s->box, del, n, &err) < 0))
			imap_log(s, LOG_ERR, "CLOSE expunge failed");
		free(del);
	}
	imap_unselect(s);
	imap_cmd_done(s, c, IMAP_OK, "Close completed.");
}

void imap_cmd_unselect(struct imap_session *s, const struct imap_command *c)
{
	imap_unselect(s);
	imap_cmd_done(s, c, IMAP_OK, "Unselect completed.");
}

/* The sync itself is the table's, run by imap_cmd_done. */
void imap_cmd_check(struct imap_session *s, const struct imap_command *c)
{
	imap_cmd_done(s, c, IMAP_OK, "Check completed.");
}
