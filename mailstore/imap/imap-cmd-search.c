/* imap-cmd-search.c: SEARCH and UID SEARCH of the IMAP session (RFC 3501
 * 6.4.4, 6.4.8): parse the criteria (lib/parse/imap-search.h), evaluate them over
 * the client's view of the mailbox (imap-search-eval.h), answer
 * "* SEARCH n ..." with sequence numbers or UIDs. */
#include "imap-private.h"

#include <syslog.h>

#include "imap-search-eval.h"

void imap_do_search(struct imap_session *s, const struct imap_command *c,
                    const struct imap_arg *args, unsigned argc, bool uid)
{
	struct imap_search q;
	const char *err;
	const char *name = uid ? "UID SEARCH" : "SEARCH";
	enum imap_search_result pr = imap_search_parse(args, argc, &q, &err);
	if (pr == IMAP_SEARCH_BADCHARSET) {
		imap_cmd_done(s, c, IMAP_NO, "[BADCHARSET (UTF-8 US-ASCII)] %s", err);
		return;
	}
	if (pr != IMAP_SEARCH_OK) {
		imap_cmd_done(s, c, IMAP_BAD, "Error in IMAP command %s: %s", name, err);
		return;
	}
	/* see what other sessions expunged: those messages stay in the view
	 * (no EXPUNGE during SEARCH) but must not match */
	if (maildir_mailbox_sync(s->box, &err) < 0)
		imap_log(s, LOG_ERR, "Sync of %s failed: %s", s->box->name, err);
	imap_search_eval_prepare(&q, s->box, (uint32_t)s->nuids,
	                         s->nuids > 0 ? s->uids[s->nuids - 1] : 0);
	struct buf line;
	buf_init(&line, 0);
	int r = buf_append_str(&line, "* SEARCH");
	for (size_t i = 0; i < s->nuids && r == 0; i++) {
		struct imap_search_msg m = {.box = s->box, .seq = (uint32_t)(i + 1)};
		/* expunged by another session but still in the view: no match */
		m.msg = maildir_mailbox_find_uid(s->box, s->uids[i]);
		if (m.msg != NULL && imap_search_eval(&q, &m) == 1)
			r = buf_printf(&line, " %u",
			               uid ? (unsigned)s->uids[i] : (unsigned)(i + 1));
		imap_search_msg_free(&m);
	}
	imap_search_free(&q);
	if (r == 0) {
		imap_reply_buf(s, &line);
		imap_cmd_done(s, c, IMAP_OK, "%s completed.", uid ? "UID Search" : "Search");
	} else {
		imap_log(s, LOG_ERR, "SEARCH result too large");
		imap_cmd_done(s, c, IMAP_NO, "[SERVERBUG] Internal error occurred.");
	}
	buf_free(&line);
}
