/* imap-cmd-expunge.c: EXPUNGE and UID EXPUNGE (RFC 4315) of the IMAP
 * session: remove the \Deleted messages of the client's view (for UID
 * EXPUNGE only those in the UID set); the sync imap_cmd_done runs then
 * sends the "* n EXPUNGE" lines highest first and updates the view. */
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
		imap_cmd_done(s, c, IMAP_BAD, "Error in IMAP command %sEXPUNGE: Invalid arguments.",
		              uid ? "UID " : "");
		return;
	}
	if (s->readonly) {
		imap_cmd_done(s, c, IMAP_NO, "Mailbox is read-only.");
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
	/* the table's full sync sends the "* n EXPUNGE" lines, also after a
	 * failure: whatever is gone must be reported */
	if (failed)
		imap_cmd_done(s, c, IMAP_NO, "[SERVERBUG] Internal error occurred.");
	else
		imap_cmd_done(s, c, IMAP_OK, "%sExpunge completed.", uid ? "UID " : "");
	free(del);
	free(sel);
}
