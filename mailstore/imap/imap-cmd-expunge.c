/* imap-cmd-expunge.c: EXPUNGE and UID EXPUNGE (RFC 4315) of the IMAP
 * session: remove the \Deleted messages of the client's view (for UID
 * EXPUNGE only those in the UID set), then sync, which sends the
 * "* n EXPUNGE" lines highest first and updates the view. */
#include "imap-private.h"

#include <stdlib.h>
#include <syslog.h>

#include "imap-flags.h"

void imap_do_expunge(struct imap_session *s, const struct imap_command *c,
                     const struct imap_arg *args, unsigned argc, bool uid)
{
	size_t *sel = NULL, nsel = s->nuids;
	if (uid != (argc == 1) ||
	    (uid && imap_view_select(s->uids, s->nuids, &args[0], true, &sel, &nsel) < 0)) {
		imap_reply(s, "%s BAD Error in IMAP command %sEXPUNGE: Invalid arguments.", c->tag,
		           uid ? "UID " : "");
		return;
	}
	if (s->readonly) {
		imap_reply(s, "%s NO Mailbox is read-only.", c->tag);
		free(sel);
		return;
	}
	uint32_t *del = malloc((nsel > 0 ? nsel : 1) * sizeof(*del));
	size_t n = 0;
	const char *err = "out of memory";
	/* The flags on disk decide (another session may have set \Deleted),
	 * but only messages the client knows: each needs its sequence number. */
	for (size_t i = 0; del != NULL && i < nsel; i++) {
		const struct maildir_msg *m =
		    maildir_mailbox_find_uid(s->box, s->uids[sel != NULL ? sel[i] : i]);
		if (m != NULL && (m->flags & MAILDIR_FLAG_TRASHED))
			del[n++] = m->uid;
	}
	bool failed = del == NULL || (n > 0 && maildir_mailbox_expunge(s->box, del, n, &err) < 0);
	if (failed)
		imap_log(s, LOG_ERR, "EXPUNGE in %s failed: %s", s->box->name, err);
	/* also after a failure: whatever is gone must be reported */
	imap_selected_sync(s);
	if (failed)
		imap_reply(s, "%s NO [SERVERBUG] Internal error occurred.", c->tag);
	else
		imap_reply(s, "%s OK %sExpunge completed.", c->tag, uid ? "UID " : "");
	free(del);
	free(sel);
}
