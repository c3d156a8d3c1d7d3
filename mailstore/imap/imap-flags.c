/* imap-flags.c: what the commands that read or change messages share: the
 * IMAP text of a message's flags (one writer, so every FLAGS list looks the
 * same), IMAP -> Maildir flag bits, and message sets against the view. */
#include "imap-flags.h"

#include <stdlib.h>

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

unsigned imap_flags_to_maildir(unsigned imap_bits)
{
	unsigned f = 0;
	f |= imap_bits & IMAP_FLAG_SEEN ? MAILDIR_FLAG_SEEN : 0;
	f |= imap_bits & IMAP_FLAG_ANSWERED ? MAILDIR_FLAG_REPLIED : 0;
	f |= imap_bits & IMAP_FLAG_FLAGGED ? MAILDIR_FLAG_FLAGGED : 0;
	f |= imap_bits & IMAP_FLAG_DELETED ? MAILDIR_FLAG_TRASHED : 0;
	f |= imap_bits & IMAP_FLAG_DRAFT ? MAILDIR_FLAG_DRAFT : 0;
	return f;
}

int imap_view_select(const uint32_t *uids, size_t nuids, const struct imap_arg *set, bool uid,
                     size_t **sel_r, size_t *n_r)
{
	*sel_r = NULL;
	*n_r = 0;
	if (set->type != IMAP_ARG_ATOM || set->len == 0)
		return -1;
	/* a set of len bytes has at most len / 2 + 1 ranges */
	size_t max = set->len / 2 + 1, nr;
	struct imap_seq_range *ranges = malloc(max * sizeof(*ranges));
	size_t *sel = malloc((nuids > 0 ? nuids : 1) * sizeof(*sel));
	const char *err;
	int ret = -1;
	if (ranges == NULL || sel == NULL ||
	    imap_seqset_parse(set->str, set->len, ranges, max, &nr, &err) < 0)
		goto out;
	uint32_t star = uid ? (nuids > 0 ? uids[nuids - 1] : 0) : (uint32_t)nuids;
	imap_seqset_resolve(ranges, nr, star);
	for (size_t i = 0; !uid && i < nr; i++) {
		if (ranges[i].lo == 0 || ranges[i].hi > nuids)
			goto out;
	}
	size_t n = 0;
	for (size_t i = 0; i < nuids; i++) {
		if (imap_seqset_contains(ranges, nr, uid ? uids[i] : (uint32_t)(i + 1)))
			sel[n++] = i;
	}
	*sel_r = sel;
	*n_r = n;
	sel = NULL;
	ret = 0;
out:
	free(ranges);
	free(sel);
	return ret;
}
