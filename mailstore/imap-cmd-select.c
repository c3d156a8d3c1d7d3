/* imap-cmd-select.c: entering and leaving the selected state of the IMAP
 * session: SELECT and EXAMINE with every RFC 3501 response, CLOSE (expunges
 * \Deleted unless read-only), UNSELECT, CHECK, and the sync that tells the
 * client about new and vanished messages (NOOP, CHECK). */
#include "imap-private.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

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

/* Remember the UIDs (and flags) the client now knows, by sequence number. */
static int snapshot_uids(struct imap_session *s)
{
	size_t n = s->box->count > 0 ? s->box->count : 1;
	uint32_t *u = malloc(n * sizeof(*u));
	unsigned *f = malloc(n * sizeof(*f));
	uint32_t *k = malloc(n * sizeof(*k));
	if (u == NULL || f == NULL || k == NULL) {
		free(u);
		free(f);
		free(k);
		return -1;
	}
	for (size_t i = 0; i < s->box->count; i++) {
		u[i] = s->box->msgs[i].uid;
		f[i] = s->box->msgs[i].flags;
		k[i] = s->box->msgs[i].keywords;
	}
	free(s->uids);
	free(s->vflags);
	free(s->vkeywords);
	s->uids = u;
	s->vflags = f;
	s->vkeywords = k;
	s->nuids = s->box->count;
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

static void select_responses(struct imap_session *s, size_t recent)
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
		imap_reply(s, "%s NO [NONEXISTENT] Mailbox doesn't exist: %s", c->tag, name);
	} else if (maildir_mailbox_open(&s->store, name, readonly ? 0 : MAILDIR_OPEN_SESSION, &box,
	                                &err) < 0) {
		imap_reply(s, "%s NO [SERVERBUG] Internal error occurred.", c->tag);
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
			imap_reply(s, "%s OK [%s] %s completed.", c->tag,
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

void imap_selected_sync(struct imap_session *s)
{
	const char *err;
	if (maildir_mailbox_sync(s->box, &err) < 0) {
		imap_log(s, LOG_ERR, "Sync of %s failed: %s", s->box->name, err);
		return;
	}
	/* Vanished messages, highest sequence first so each number is still
	 * the client's when it hears it. */
	for (size_t i = s->nuids; i-- > 0;) {
		if (maildir_mailbox_find_uid(s->box, s->uids[i]) == NULL)
			imap_reply(s, "* %zu EXPUNGE", i + 1);
	}
	size_t kept = 0;
	for (size_t i = 0; i < s->nuids; i++)
		kept += maildir_mailbox_find_uid(s->box, s->uids[i]) != NULL;
	if (s->box->count != kept || kept != s->nuids) {
		size_t recent = 0;
		for (size_t i = 0; i < s->box->count; i++)
			recent += s->box->msgs[i].recent != 0;
		imap_reply(s, "* %zu EXISTS", s->box->count);
		imap_reply(s, "* %zu RECENT", recent);
	}
	if (snapshot_uids(s) < 0)
		s->dead = true;
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
	imap_reply(s, "%s OK Close completed.", c->tag);
}

void imap_cmd_unselect(struct imap_session *s, const struct imap_command *c)
{
	imap_unselect(s);
	imap_reply(s, "%s OK Unselect completed.", c->tag);
}

void imap_cmd_check(struct imap_session *s, const struct imap_command *c)
{
	imap_selected_sync(s);
	imap_reply(s, "%s OK Check completed.", c->tag);
}

void imap_post_command(struct imap_session *s, const struct imap_command *c)
{
	/* The untagged updates after each command come with IDLE and the
	 * other-session notifications (see imap-cmd-idle.c). */
	(void)s;
	(void)c;
}
