/* imap-flags.c: the IMAP text of a message's flags, shared by FETCH, STORE
 * and the untagged updates, so every FLAGS list is written the same way. */
#include "imap-flags.h"

int imap_flags_render(const struct maildir_mailbox *box, const struct maildir_msg *m,
                      struct buf *out)
{
	static const struct {
		unsigned bit;
		const char *name;
	} sys[] = {{MAILDIR_FLAG_REPLIED, "\\Answered"},
	           {MAILDIR_FLAG_FLAGGED, "\\Flagged"},
	           {MAILDIR_FLAG_TRASHED, "\\Deleted"},
	           {MAILDIR_FLAG_SEEN, "\\Seen"},
	           {MAILDIR_FLAG_DRAFT, "\\Draft"}};
	const char *sp = "";
	int r = buf_append_str(out, "FLAGS (");
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
		if (m->flags & sys[i].bit) {
			r |= buf_printf(out, "%s%s", sp, sys[i].name);
			sp = " ";
		}
	}
	if (m->recent) {
		r |= buf_printf(out, "%s\\Recent", sp);
		sp = " ";
	}
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		const char *kw = (m->keywords >> i) & 1 ? maildir_keyword_name(box, i) : NULL;
		if (kw != NULL) {
			r |= buf_printf(out, "%s%s", sp, kw);
			sp = " ";
		}
	}
	return r | buf_append_str(out, ")");
}
